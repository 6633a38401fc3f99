//! DeleteObject: `DELETE /{key}`. Deleting a missing key succeeds, as in S3.

use crate::s3::S3Request;
use http::Method;

pub struct DeleteObject;

impl DeleteObject {
    pub fn request(key: &str) -> S3Request {
        S3Request::new(Method::DELETE, Some(key))
    }
}
