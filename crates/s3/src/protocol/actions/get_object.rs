//! GetObject: `GET /{key}`, with an optional byte range and conditions.

use crate::error::Error;
use crate::protocol::S3Request;
use http::Method;
use std::time::SystemTime;

/// A byte range, as HTTP `Range: bytes=…` has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-last`, both inclusive.
    Inclusive(u64, u64),
    /// `first-`: to the end.
    From(u64),
    /// `-n`: the last n bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The `Range` header's value (`bytes=0-99`).
    pub fn header_value(&self) -> String {
        match self {
            ByteRange::Inclusive(first, last) => format!("bytes={first}-{last}"),
            ByteRange::From(first) => format!("bytes={first}-"),
            ByteRange::Suffix(n) => format!("bytes=-{n}"),
        }
    }
}

/// GetObject, `GET /{key}`: a download's byte range and conditions. The default
/// downloads the whole object, unconditionally.
#[derive(Clone, Debug, Default)]
pub struct GetObject {
    /// Only these bytes (a 206 answer); `None` for the whole object.
    pub range: Option<ByteRange>,
    /// Only when the object's ETag is this one; otherwise S3 answers 412.
    pub if_match: Option<String>,
    /// Only when the object's ETag is not this one; otherwise S3 answers 304, no body.
    pub if_none_match: Option<String>,
    /// Only when the object changed after this time (to the second); otherwise 304, no body.
    pub if_modified_since: Option<SystemTime>,
    /// Only when the object did not change after this time (to the second); otherwise 412.
    pub if_unmodified_since: Option<SystemTime>,
}

impl GetObject {
    /// The whole object, unconditionally.
    pub fn new() -> Self {
        GetObject::default()
    }

    /// Only the bytes of `range`.
    pub fn range(mut self, range: ByteRange) -> Self {
        self.range = Some(range);
        self
    }

    /// Only when the object's ETag is not `etag`: the answer to a cached copy is 304.
    pub fn if_none_match(mut self, etag: impl Into<String>) -> Self {
        self.if_none_match = Some(etag.into());
        self
    }

    /// Only when the object's ETag is `etag`; otherwise 412.
    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }

    /// Only when the object changed after `time`; otherwise 304.
    pub fn if_modified_since(mut self, time: SystemTime) -> Self {
        self.if_modified_since = Some(time);
        self
    }

    /// Only when the object did not change after `time`; otherwise 412.
    pub fn if_unmodified_since(mut self, time: SystemTime) -> Self {
        self.if_unmodified_since = Some(time);
        self
    }

    /// The request for `key` with `method` (GET, or HEAD for [`HeadObject`](super::HeadObject)).
    /// A range that ends before it starts is an input error.
    pub fn request(&self, key: &str, method: Method) -> Result<S3Request, Error> {
        let mut request = S3Request::new(method, Some(key));
        if let Some(range) = self.range {
            if let ByteRange::Inclusive(first, last) = range {
                if last < first {
                    return Err(Error::InvalidInput(format!(
                        "range end {last} is before its start {first}"
                    )));
                }
            }
            request = request.header("range", &range.header_value())?;
        }
        if let Some(etag) = &self.if_match {
            request = request.header("if-match", etag)?;
        }
        if let Some(etag) = &self.if_none_match {
            request = request.header("if-none-match", etag)?;
        }
        if let Some(time) = self.if_modified_since {
            request = request.header("if-modified-since", &crate::clock::http_date(time))?;
        }
        if let Some(time) = self.if_unmodified_since {
            request = request.header("if-unmodified-since", &crate::clock::http_date(time))?;
        }
        Ok(request)
    }
}
