//! CompleteMultipartUpload: `POST /{key}?uploadId=…` with the parts' numbers and ETags.

use crate::error::Error;
use crate::protocol::{xml, S3Request};
use crate::transport::Body;
use http::Method;

/// One uploaded part, as CompleteMultipartUpload lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletedPart {
    /// The part's number, 1 to 10 000.
    pub part_number: u32,
    /// The ETag UploadPart answered for the part, quotes included.
    pub etag: String,
}

/// CompleteMultipartUpload, `POST /{key}?uploadId=…`: joins the uploaded parts into
/// the object.
pub struct CompleteMultipartUpload;

impl CompleteMultipartUpload {
    /// `parts` must be in ascending part-number order.
    pub fn request(key: &str, upload_id: &str, parts: &[CompletedPart]) -> Result<S3Request, Error> {
        if parts.is_empty() || parts.windows(2).any(|w| w[0].part_number >= w[1].part_number) {
            return Err(Error::InvalidInput(
                "CompleteMultipartUpload needs parts in ascending order".into(),
            ));
        }
        let mut document = String::from("<CompleteMultipartUpload>");
        for part in parts {
            document.push_str("<Part>");
            xml::push_element(&mut document, "PartNumber", &part.part_number.to_string());
            xml::push_element(&mut document, "ETag", &part.etag);
            document.push_str("</Part>");
        }
        document.push_str("</CompleteMultipartUpload>");
        S3Request::new(Method::POST, Some(key))
            .query("uploadId", upload_id)
            .header("content-type", "application/xml")
            .map(|request| request.body(Body::from(document)))
    }

    /// The object's ETag. A 200 answer whose body is an `<Error>` is checked by the
    /// caller before this.
    pub fn parse(body: &[u8]) -> Result<Option<String>, Error> {
        xml::parse(body, "CompleteMultipartUploadResult")?.text("ETag")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_parts_as_the_serde_serializer_did() {
        let parts = [
            CompletedPart {
                part_number: 1,
                etag: "\"x&y\"".into(),
            },
            CompletedPart {
                part_number: 2,
                etag: "z".into(),
            },
        ];
        let request = CompleteMultipartUpload::request("k", "id", &parts).unwrap();
        assert_eq!(
            std::str::from_utf8(request.body.as_bytes().unwrap()).unwrap(),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x&amp;y\"</ETag></Part>\
             <Part><PartNumber>2</PartNumber><ETag>z</ETag></Part></CompleteMultipartUpload>"
        );
        assert!(CompleteMultipartUpload::request("k", "id", &[]).is_err());
        assert!(CompleteMultipartUpload::request("k", "id", &[parts[1].clone(), parts[0].clone()]).is_err());
    }

    #[test]
    fn reads_the_etag_after_padding() {
        let body = format!(
            "{}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult>\
             <Location>http://b/k</Location><Bucket>b</Bucket><Key>k</Key><ETag>&quot;abc-2&quot;</ETag>\
             </CompleteMultipartUploadResult>",
            " ".repeat(100)
        );
        assert_eq!(
            CompleteMultipartUpload::parse(body.as_bytes()).unwrap().as_deref(),
            Some("\"abc-2\"")
        );
        assert_eq!(
            CompleteMultipartUpload::parse(b"<CompleteMultipartUploadResult/>").unwrap(),
            None
        );
        assert!(CompleteMultipartUpload::parse(b"").is_err());
    }
}
