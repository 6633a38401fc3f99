//! PutObject: `PUT /{key}` with the body, content type and metadata.

use crate::error::Error;
use crate::error::Quoted;
use crate::protocol::S3Request;
use crate::transport::Body;
use http::Method;
use std::collections::BTreeMap;

/// What is stored with an object besides its bytes (PutObject, CreateMultipartUpload,
/// CopyObject with `REPLACE`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectOptions {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    /// User metadata, sent as `x-amz-meta-{name}`.
    pub metadata: BTreeMap<String, String>,
}

impl ObjectOptions {
    pub fn content_type(mut self, value: impl Into<String>) -> Self {
        self.content_type = Some(value.into());
        self
    }

    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.cache_control = Some(value.into());
        self
    }

    pub fn content_disposition(mut self, value: impl Into<String>) -> Self {
        self.content_disposition = Some(value.into());
        self
    }

    pub fn metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(name.into(), value.into());
        self
    }

    pub(crate) fn apply(&self, mut request: S3Request) -> Result<S3Request, Error> {
        if let Some(value) = &self.content_type {
            request = request.header("content-type", value)?;
        }
        if let Some(value) = &self.cache_control {
            request = request.header("cache-control", value)?;
        }
        if let Some(value) = &self.content_disposition {
            request = request.header("content-disposition", value)?;
        }
        for (name, value) in &self.metadata {
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(Error::InvalidInput(format!(
                    "metadata name {name} must be letters, digits, '-' and '_'",
                    name = Quoted(name)
                )));
            }
            let header_name = format!("x-amz-meta-{}", name.to_ascii_lowercase());
            let header = http::HeaderName::from_bytes(header_name.as_bytes()).map_err(|_| {
                Error::InvalidInput(format!(
                    "metadata name {name} is not a valid header name",
                    name = Quoted(name)
                ))
            })?;
            let value = http::HeaderValue::from_str(value).map_err(|_| {
                Error::InvalidInput(format!("metadata {name} must be printable ASCII", name = Quoted(name)))
            })?;
            request.headers.insert(header, value);
        }
        Ok(request)
    }
}

#[derive(Clone, Debug, Default)]
pub struct PutObject {
    pub options: ObjectOptions,
}

impl PutObject {
    pub fn new(options: ObjectOptions) -> Self {
        PutObject { options }
    }

    pub fn request(&self, key: &str, body: Body) -> Result<S3Request, Error> {
        let request = S3Request::new(Method::PUT, Some(key)).body(body);
        self.options.apply(request)
    }
}
