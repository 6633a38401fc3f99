//! AbortMultipartUpload: `DELETE /{key}?uploadId=…` — frees the parts so none stay billed.

use crate::protocol::S3Request;
use http::Method;

/// AbortMultipartUpload, `DELETE /{key}?uploadId=…`: abandons an upload and frees its
/// parts, so none stay billed.
pub struct AbortMultipartUpload;

impl AbortMultipartUpload {
    /// The request that aborts upload `upload_id` of `key`.
    pub fn request(key: &str, upload_id: &str) -> S3Request {
        S3Request::new(Method::DELETE, Some(key)).query("uploadId", upload_id)
    }
}
