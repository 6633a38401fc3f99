//! DeleteObject: `DELETE /{key}`. Deleting a missing key succeeds, as in S3.

use crate::protocol::S3Request;
use http::Method;

/// DeleteObject, `DELETE /{key}`. Deleting a missing key succeeds, as in S3.
pub struct DeleteObject;

impl DeleteObject {
    /// The request that deletes `key`.
    pub fn request(key: &str) -> S3Request {
        S3Request::new(Method::DELETE, Some(key))
    }
}
