//! ListObjectsV2: `GET /?list-type=2` with prefix, delimiter, continuation token,
//! start-after and max-keys; keys are asked URL-encoded and decoded here.

use super::{parse_xml, url_decode};
use crate::error::Error;
use crate::s3::S3Request;
use http::Method;
use serde::Deserialize;
use std::time::SystemTime;

#[derive(Clone, Debug, Default)]
pub struct ListObjectsV2 {
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    pub continuation_token: Option<String>,
    pub start_after: Option<String>,
    /// 1 to 1000 (S3's default and maximum is 1000).
    pub max_keys: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListBucketResult {
    #[serde(rename = "Contents")]
    contents: Vec<ContentsXml>,
    #[serde(rename = "CommonPrefixes")]
    common_prefixes: Vec<PrefixXml>,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "NextContinuationToken")]
    next_continuation_token: Option<String>,
    #[serde(rename = "EncodingType")]
    encoding_type: Option<String>,
    #[serde(rename = "KeyCount")]
    key_count: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContentsXml {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ETag")]
    etag: Option<String>,
    #[serde(rename = "Size")]
    size: u64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PrefixXml {
    #[serde(rename = "Prefix")]
    prefix: String,
}

/// One object of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: Option<SystemTime>,
}

/// One page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListObjectsV2Output {
    pub objects: Vec<ListedObject>,
    /// With a delimiter: the "folders" below the prefix.
    pub common_prefixes: Vec<String>,
    /// Pass this back as `continuation_token` for the next page; `None` on the last page.
    pub next_continuation_token: Option<String>,
}

impl ListObjectsV2 {
    pub fn request(&self) -> Result<S3Request, Error> {
        let mut request = S3Request::new(Method::GET, None)
            .query("list-type", "2")
            .query("encoding-type", "url");
        if let Some(prefix) = &self.prefix {
            request = request.query("prefix", prefix.clone());
        }
        if let Some(delimiter) = &self.delimiter {
            request = request.query("delimiter", delimiter.clone());
        }
        if let Some(token) = &self.continuation_token {
            request = request.query("continuation-token", token.clone());
        }
        if let Some(start_after) = &self.start_after {
            request = request.query("start-after", start_after.clone());
        }
        if let Some(max_keys) = self.max_keys {
            if !(1..=1000).contains(&max_keys) {
                return Err(Error::InvalidInput(format!(
                    "max-keys must be 1 to 1000, not {max_keys}"
                )));
            }
            request = request.query("max-keys", max_keys.to_string());
        }
        Ok(request)
    }

    pub fn parse(body: &[u8]) -> Result<ListObjectsV2Output, Error> {
        let result: ListBucketResult = parse_xml(body, "ListBucketResult")?;
        let encoded = result.encoding_type.as_deref() == Some("url");
        let decode = |value: String| if encoded { url_decode(&value) } else { value };
        let objects: Vec<ListedObject> = result
            .contents
            .into_iter()
            .map(|c| ListedObject {
                key: decode(c.key),
                size: c.size,
                etag: c.etag,
                last_modified: crate::clock::parse_iso8601(&c.last_modified),
            })
            .collect();
        if let Some(count) = result.key_count {
            let listed = objects.len() as u64 + result.common_prefixes.len() as u64;
            if count != listed {
                return Err(Error::invalid_response(format!(
                    "ListBucketResult says KeyCount {count} but lists {listed} entries (truncated answer?)"
                )));
            }
        }
        let next_continuation_token = if result.is_truncated {
            match result.next_continuation_token {
                Some(token) if !token.is_empty() => Some(token),
                _ => {
                    return Err(Error::invalid_response(
                        "ListBucketResult is truncated but has no NextContinuationToken",
                    ))
                }
            }
        } else {
            None
        };
        Ok(ListObjectsV2Output {
            objects,
            common_prefixes: result.common_prefixes.into_iter().map(|p| decode(p.prefix)).collect(),
            next_continuation_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_url_encoded_keys() {
        let out = ListObjectsV2::parse(
            b"<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
              <NextContinuationToken>tok</NextContinuationToken><KeyCount>2</KeyCount>\
              <Contents><Key>a+b%2Bc%20%C3%BC</Key><Size>3</Size><LastModified>2015-08-30T12:36:00.000Z</LastModified></Contents>\
              <CommonPrefixes><Prefix>dir%2F</Prefix></CommonPrefixes></ListBucketResult>",
        )
        .unwrap();
        assert_eq!(out.objects[0].key, "a b+c ü");
        assert_eq!(out.common_prefixes, vec!["dir/"]);
        assert_eq!(out.next_continuation_token.as_deref(), Some("tok"));
    }

    #[test]
    fn malformed_xml_is_an_error_not_an_empty_listing() {
        assert!(ListObjectsV2::parse(b"<ListBucketResult><Contents><Key>a</Key>").is_err());
    }
}
