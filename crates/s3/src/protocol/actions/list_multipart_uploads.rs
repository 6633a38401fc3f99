//! ListMultipartUploads: `GET /?uploads` — uploads started and neither completed nor aborted.

use super::url_decode;
use crate::error::Error;
use crate::protocol::{xml, S3Request};
use http::Method;

/// A multipart upload started and neither completed nor aborted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartUploadInfo {
    /// The key the upload is for.
    pub key: String,
    /// The upload's id, to complete or abort it with.
    pub upload_id: String,
}

/// One page of unfinished multipart uploads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListMultipartUploadsOutput {
    /// The uploads on this page.
    pub uploads: Vec<MultipartUploadInfo>,
    /// (key marker, upload id marker) for the next page.
    pub next_markers: Option<(String, String)>,
}

/// ListMultipartUploads, `GET /?uploads`: multipart uploads started and neither
/// completed nor aborted, a page at a time.
pub struct ListMultipartUploads;

impl ListMultipartUploads {
    /// The request for one page: uploads under `prefix` (all when `None`), after `markers`
    /// (the previous page's `next_markers`; `None` for the first page).
    pub fn request(prefix: Option<&str>, markers: Option<(&str, &str)>) -> S3Request {
        let mut request = S3Request::new(Method::GET, None)
            .query("uploads", "")
            .query("encoding-type", "url");
        if let Some(prefix) = prefix {
            request = request.query("prefix", prefix);
        }
        if let Some((key_marker, upload_id_marker)) = markers {
            request = request
                .query("key-marker", key_marker)
                .query("upload-id-marker", upload_id_marker);
        }
        request
    }

    /// Reads one page; keys are URL-decoded when S3 encoded them.
    pub fn parse(body: &[u8]) -> Result<ListMultipartUploadsOutput, Error> {
        let result = xml::parse(body, "ListMultipartUploadsResult")?;
        let encoded = result.text("EncodingType")?.as_deref() == Some("url");
        let decode = |value: String| if encoded { url_decode(&value) } else { value };
        let uploads = result
            .all("Upload")
            .map(|u| {
                Ok(MultipartUploadInfo {
                    key: decode(u.text("Key")?.unwrap_or_default()),
                    upload_id: u.text("UploadId")?.unwrap_or_default(),
                })
            })
            .collect::<Result<_, Error>>()?;
        let next_markers = match (
            result.flag("IsTruncated")?,
            result.text("NextKeyMarker")?,
            result.text("NextUploadIdMarker")?,
        ) {
            (true, Some(key), Some(id)) => Some((decode(key), id)),
            _ => None,
        };
        Ok(ListMultipartUploadsOutput { uploads, next_markers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_uploads_and_the_next_markers() {
        let out = ListMultipartUploads::parse(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListMultipartUploadsResult>\
              <Bucket>b</Bucket><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
              <NextKeyMarker>dir%2Fb+c</NextKeyMarker><NextUploadIdMarker>id2</NextUploadIdMarker>\
              <Upload><Key>a%26b</Key><UploadId>id1</UploadId><Initiator><ID>x</ID></Initiator></Upload>\
              <Upload><Key>dir%2Fb+c</Key><UploadId>id2</UploadId></Upload></ListMultipartUploadsResult>",
        )
        .unwrap();
        assert_eq!(
            out.uploads,
            vec![
                MultipartUploadInfo {
                    key: "a&b".into(),
                    upload_id: "id1".into()
                },
                MultipartUploadInfo {
                    key: "dir/b c".into(),
                    upload_id: "id2".into()
                },
            ]
        );
        assert_eq!(out.next_markers, Some(("dir/b c".into(), "id2".into())));
    }

    #[test]
    fn an_empty_listing_has_no_uploads_and_no_next_page() {
        let out = ListMultipartUploads::parse(
            b"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><NextKeyMarker></NextKeyMarker>\
              </ListMultipartUploadsResult>",
        )
        .unwrap();
        assert_eq!(out, ListMultipartUploadsOutput::default());
        // Without encoding-type the key is taken as written (entities resolved).
        let out = ListMultipartUploads::parse(
            b"<ListMultipartUploadsResult><Upload><Key>a&amp;b+c</Key><UploadId>i</UploadId></Upload></ListMultipartUploadsResult>",
        )
        .unwrap();
        assert_eq!(out.uploads[0].key, "a&b+c");
    }

    #[test]
    fn malformed_xml_is_an_error() {
        for body in [
            &b"<ListMultipartUploadsResult><Upload>"[..],
            b"<ListMultipartUploadsResult><IsTruncated>maybe</IsTruncated></ListMultipartUploadsResult>",
        ] {
            assert!(matches!(
                ListMultipartUploads::parse(body),
                Err(Error::InvalidResponse(_))
            ));
        }
    }
}
