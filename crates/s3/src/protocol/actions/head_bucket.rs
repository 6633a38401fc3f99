//! HeadBucket: `HEAD /` — does the bucket exist and may we use it.

use crate::protocol::S3Request;
use http::Method;

/// HeadBucket, `HEAD /`: whether the bucket exists and the credentials may use it.
pub struct HeadBucket;

impl HeadBucket {
    /// The request; its answer has no body, so an error carries only a status.
    pub fn request() -> S3Request {
        S3Request::new(Method::HEAD, None)
    }

    /// The bucket's region, when the server tells (AWS does, in `x-amz-bucket-region`).
    pub fn region(headers: &http::HeaderMap) -> Option<String> {
        headers
            .get("x-amz-bucket-region")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}
