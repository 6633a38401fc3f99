//! CreateBucket: `PUT /` — with a location constraint outside us-east-1.

use crate::error::Error;
use crate::protocol::{xml, S3Request};
use crate::transport::Body;
use http::Method;

/// CreateBucket, `PUT /`: creates the bucket the request is signed for.
pub struct CreateBucket;

impl CreateBucket {
    /// The request; `region` becomes the location constraint, except an empty region,
    /// `us-east-1` (S3's default, which must not be named) and R2's `auto`.
    pub fn request(region: &str) -> Result<S3Request, Error> {
        let request = S3Request::new(Method::PUT, None);
        // us-east-1 is S3's default and must not be named; R2's "auto" is not a location.
        if region.is_empty() || region == "us-east-1" || region == "auto" {
            return Ok(request);
        }
        let mut document = String::from("<CreateBucketConfiguration>");
        xml::push_element(&mut document, "LocationConstraint", region);
        document.push_str("</CreateBucketConfiguration>");
        Ok(request
            .header("content-type", "application/xml")?
            .body(Body::from(document)))
    }
}
