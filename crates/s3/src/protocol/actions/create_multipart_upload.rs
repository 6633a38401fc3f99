//! CreateMultipartUpload: `POST /{key}?uploads` → an upload id.

use super::ObjectOptions;
use crate::error::Error;
use crate::protocol::{xml, S3Request};
use http::Method;

/// CreateMultipartUpload, `POST /{key}?uploads`: starts a multipart upload.
pub struct CreateMultipartUpload;

impl CreateMultipartUpload {
    /// The request; the object's content type and metadata are given here, not with the parts.
    pub fn request(key: &str, options: &ObjectOptions) -> Result<S3Request, Error> {
        options.apply(S3Request::new(Method::POST, Some(key)).query("uploads", ""))
    }

    /// The upload id; an answer without one is an invalid response.
    pub fn parse(body: &[u8]) -> Result<String, Error> {
        match xml::parse(body, "InitiateMultipartUploadResult")?.text("UploadId")? {
            Some(upload_id) if !upload_id.is_empty() => Ok(upload_id),
            _ => Err(Error::invalid_response("InitiateMultipartUploadResult has no UploadId")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_upload_id() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult \
                     xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket><Key>a&amp;b</Key>\
                     <UploadId>VXBsb2FkIElE+/=</UploadId></InitiateMultipartUploadResult>";
        assert_eq!(CreateMultipartUpload::parse(body).unwrap(), "VXBsb2FkIElE+/=");
        for body in [
            &b"<InitiateMultipartUploadResult/>"[..],
            b"<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>",
        ] {
            let error = CreateMultipartUpload::parse(body).unwrap_err();
            assert!(error.to_string().contains("has no UploadId"), "{error}");
        }
        assert!(CreateMultipartUpload::parse(b"<InitiateMultipartUploadResult><UploadId>x").is_err());
    }
}
