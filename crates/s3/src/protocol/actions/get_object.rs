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
    pub fn header_value(&self) -> String {
        match self {
            ByteRange::Inclusive(first, last) => format!("bytes={first}-{last}"),
            ByteRange::From(first) => format!("bytes={first}-"),
            ByteRange::Suffix(n) => format!("bytes=-{n}"),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct GetObject {
    pub range: Option<ByteRange>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<SystemTime>,
    pub if_unmodified_since: Option<SystemTime>,
}

impl GetObject {
    pub fn new() -> Self {
        GetObject::default()
    }

    pub fn range(mut self, range: ByteRange) -> Self {
        self.range = Some(range);
        self
    }

    pub fn if_none_match(mut self, etag: impl Into<String>) -> Self {
        self.if_none_match = Some(etag.into());
        self
    }

    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }

    pub fn if_modified_since(mut self, time: SystemTime) -> Self {
        self.if_modified_since = Some(time);
        self
    }

    pub fn if_unmodified_since(mut self, time: SystemTime) -> Self {
        self.if_unmodified_since = Some(time);
        self
    }

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
