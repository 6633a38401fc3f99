//! What GetObject and HeadObject say about an object, read from the answer's headers.

use std::collections::BTreeMap;
use std::time::SystemTime;

/// An object's attributes, as GetObject and HeadObject answer them in headers. A header
/// missing or unreadable is `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The length of this answer's body (for a range, the range's length); `None` when
    /// the server did not say, which means unknown, never empty.
    pub content_length: Option<u64>,
    /// `Content-Type`, as stored with the object.
    pub content_type: Option<String>,
    /// `ETag`, quotes included.
    pub etag: Option<String>,
    /// `Last-Modified`, to the second.
    pub last_modified: Option<SystemTime>,
    /// `Cache-Control`, as stored with the object.
    pub cache_control: Option<String>,
    /// `Content-Disposition`, as stored with the object.
    pub content_disposition: Option<String>,
    /// User metadata (`x-amz-meta-*`), names without the prefix, lower case.
    pub metadata: BTreeMap<String, String>,
    /// For a 206 answer: the range sent and the object's full size.
    pub content_range: Option<ContentRange>,
}

/// `Content-Range: bytes first-last/total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentRange {
    /// The first byte sent, counted from 0.
    pub first: u64,
    /// The last byte sent (inclusive).
    pub last: u64,
    /// The object's full size in bytes; `None` when the server sent `*` (unknown).
    pub total: Option<u64>,
}

impl ObjectMeta {
    /// Reads the attributes from an answer's headers.
    pub fn from_headers(headers: &http::HeaderMap) -> ObjectMeta {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        // Inserted one by one: `collect()` into a BTreeMap sorts first, with a stable sort
        // the Worker would otherwise not need.
        let mut metadata = BTreeMap::new();
        for (name, value) in headers {
            if let (Some(short), Ok(value)) = (name.as_str().strip_prefix("x-amz-meta-"), value.to_str()) {
                metadata.insert(short.to_owned(), value.to_owned());
            }
        }
        ObjectMeta {
            content_length: text("content-length").and_then(|v| v.parse().ok()),
            content_type: text("content-type"),
            etag: text("etag"),
            last_modified: text("last-modified").and_then(|v| crate::clock::parse_http_date(&v)),
            cache_control: text("cache-control"),
            content_disposition: text("content-disposition"),
            metadata,
            content_range: text("content-range").and_then(|v| ContentRange::parse(&v)),
        }
    }

    /// The object's full size: from `Content-Range` for a partial answer, else the length.
    pub fn object_size(&self) -> Option<u64> {
        match self.content_range {
            Some(range) => range.total,
            None => self.content_length,
        }
    }
}

impl ContentRange {
    /// Parses `bytes first-last/total` (or `/*`); `None` for anything else.
    pub fn parse(value: &str) -> Option<ContentRange> {
        let rest = value.trim().strip_prefix("bytes ")?;
        let (span, total) = rest.split_once('/')?;
        let (first, last) = span.split_once('-')?;
        Some(ContentRange {
            first: first.trim().parse().ok()?,
            last: last.trim().parse().ok()?,
            total: if total.trim() == "*" {
                None
            } else {
                Some(total.trim().parse().ok()?)
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headers() {
        let mut headers = http::HeaderMap::new();
        headers.insert("content-length", "10".parse().unwrap());
        headers.insert("content-range", "bytes 0-9/100".parse().unwrap());
        headers.insert("etag", "\"abc\"".parse().unwrap());
        headers.insert("last-modified", "Sun, 30 Aug 2015 12:36:00 GMT".parse().unwrap());
        headers.insert("x-amz-meta-owner", "ada".parse().unwrap());
        let meta = ObjectMeta::from_headers(&headers);
        assert_eq!(meta.content_length, Some(10));
        assert_eq!(meta.object_size(), Some(100));
        assert_eq!(meta.metadata.get("owner").map(String::as_str), Some("ada"));
        assert!(meta.last_modified.is_some());
    }
}
