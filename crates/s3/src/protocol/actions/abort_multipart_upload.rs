//! AbortMultipartUpload: `DELETE /{key}?uploadId=…` — frees the parts so none stay billed.

use crate::protocol::S3Request;
use http::Method;

pub struct AbortMultipartUpload;

impl AbortMultipartUpload {
    pub fn request(key: &str, upload_id: &str) -> S3Request {
        S3Request::new(Method::DELETE, Some(key)).query("uploadId", upload_id)
    }
}
