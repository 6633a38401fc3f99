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
    /// `Content-Type`; `None` leaves it to the server's default.
    pub content_type: Option<String>,
    /// `Cache-Control`, served with the object (`max-age=3600`).
    pub cache_control: Option<String>,
    /// `Content-Disposition`, served with the object (`attachment; filename="a.pdf"`).
    pub content_disposition: Option<String>,
    /// User metadata, sent as `x-amz-meta-{name}`.
    pub metadata: BTreeMap<String, String>,
}

impl ObjectOptions {
    /// Sets `Content-Type`.
    pub fn content_type(mut self, value: impl Into<String>) -> Self {
        self.content_type = Some(value.into());
        self
    }

    /// Sets `Cache-Control`.
    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.cache_control = Some(value.into());
        self
    }

    /// Sets `Content-Disposition`.
    pub fn content_disposition(mut self, value: impl Into<String>) -> Self {
        self.content_disposition = Some(value.into());
        self
    }

    /// Adds user metadata. The name must be letters, digits, `-` and `_` (it is sent lower
    /// case), the value printable ASCII; the request builder refuses others.
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

/// PutObject, `PUT /{key}`: the whole body in one request, up to 5 GiB.
#[derive(Clone, Debug, Default)]
pub struct PutObject {
    /// What is stored with the object besides its bytes.
    pub options: ObjectOptions,
    /// `If-Match`: store only while the object's ETag is this one (a compare-and-swap).
    pub if_match: Option<String>,
    /// `If-None-Match: *`: store only while no object is at the key.
    pub if_absent: bool,
}

impl PutObject {
    /// A PutObject with these options.
    pub fn new(options: ObjectOptions) -> Self {
        PutObject {
            options,
            ..PutObject::default()
        }
    }

    /// Stores only while the object's ETag is `etag`; otherwise S3 answers 412
    /// `PreconditionFailed` ([`crate::Error::is_precondition_failed`]). Not every server
    /// honours it: [`crate::protocol::Quirks::conditional_writes`] says which.
    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }

    /// Stores only while no object is at the key; otherwise 412 `PreconditionFailed`.
    pub fn if_absent(mut self) -> Self {
        self.if_absent = true;
        self
    }

    /// The request that stores `body` at `key`; invalid options are an input error.
    pub fn request(&self, key: &str, body: Body) -> Result<S3Request, Error> {
        let mut request = self.options.apply(S3Request::new(Method::PUT, Some(key)).body(body))?;
        if let Some(etag) = &self.if_match {
            request = request.header("if-match", etag)?;
        }
        if self.if_absent {
            request = request.header("if-none-match", "*")?;
        }
        Ok(request)
    }
}
