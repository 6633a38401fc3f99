//! HeadObject: `HEAD /{key}` — an object's attributes without its body.

use super::GetObject;
use crate::error::Error;
use crate::protocol::S3Request;
use http::Method;

/// HeadObject takes the same conditions as GetObject; its answer has no body, so its
/// errors carry only a status.
#[derive(Clone, Debug, Default)]
pub struct HeadObject {
    /// The same range and conditions GetObject takes.
    pub conditions: GetObject,
}

impl HeadObject {
    /// The object's attributes, unconditionally.
    pub fn new() -> Self {
        HeadObject::default()
    }

    /// The request for `key`.
    pub fn request(&self, key: &str) -> Result<S3Request, Error> {
        self.conditions.request(key, Method::HEAD)
    }
}
