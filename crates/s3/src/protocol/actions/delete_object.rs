//! DeleteObject: `DELETE /{key}`. Deleting a missing key succeeds, as in S3.

use crate::protocol::S3Request;
use http::Method;

pub struct DeleteObject;

impl DeleteObject {
    pub fn request(key: &str) -> S3Request {
        S3Request::new(Method::DELETE, Some(key))
    }
}
