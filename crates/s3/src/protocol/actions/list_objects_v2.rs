//! ListObjectsV2: `GET /?list-type=2` with prefix, delimiter, continuation token,
//! start-after and max-keys; keys are asked URL-encoded and decoded here.

use super::url_decode;
use crate::error::Error;
use crate::protocol::{xml, S3Request};
use http::Method;
use std::time::SystemTime;

/// ListObjectsV2, `GET /?list-type=2`: one page of a bucket's keys, in S3's order (by
/// UTF-8 bytes). The default lists from the start of the bucket.
#[derive(Clone, Debug, Default)]
pub struct ListObjectsV2 {
    /// Only keys that start with this.
    pub prefix: Option<String>,
    /// Keys with this (usually `/`) after the prefix are listed once per "folder", in
    /// `common_prefixes`, instead of one by one.
    pub delimiter: Option<String>,
    /// The previous page's `next_continuation_token`; `None` for the first page.
    pub continuation_token: Option<String>,
    /// Only keys after this one.
    pub start_after: Option<String>,
    /// 1 to 1000 (S3's default and maximum is 1000).
    pub max_keys: Option<u32>,
}

/// One object of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedObject {
    /// The object's key, decoded.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its ETag, quotes included (not an MD5 for multipart uploads).
    pub etag: Option<String>,
    /// When it was last written.
    pub last_modified: Option<SystemTime>,
}

/// One page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListObjectsV2Output {
    /// The objects on this page, in key order.
    pub objects: Vec<ListedObject>,
    /// With a delimiter: the "folders" below the prefix.
    pub common_prefixes: Vec<String>,
    /// Pass this back as `continuation_token` for the next page; `None` on the last page.
    pub next_continuation_token: Option<String>,
}

impl ListObjectsV2 {
    /// The request for one page; `max_keys` outside 1 to 1000 is an input error.
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

    /// Reads one page. A truncated page without a continuation token, or whose `KeyCount`
    /// does not match its entries, is an invalid response.
    pub fn parse(body: &[u8]) -> Result<ListObjectsV2Output, Error> {
        let result = xml::parse(body, "ListBucketResult")?;
        let encoded = result.text("EncodingType")?.as_deref() == Some("url");
        let decode = |value: String| if encoded { url_decode(&value) } else { value };
        let objects = result
            .all("Contents")
            .map(|c| {
                Ok(ListedObject {
                    key: decode(c.text("Key")?.unwrap_or_default()),
                    size: c.number("Size")?.unwrap_or(0),
                    etag: c.text("ETag")?,
                    last_modified: c.text("LastModified")?.as_deref().and_then(crate::clock::parse_iso8601),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let common_prefixes = result
            .all("CommonPrefixes")
            .map(|p| Ok(decode(p.text("Prefix")?.unwrap_or_default())))
            .collect::<Result<Vec<_>, Error>>()?;
        let is_truncated = result.flag("IsTruncated")?;
        let next_continuation_token = result.text("NextContinuationToken")?;
        if let Some(count) = result.number::<u64>("KeyCount")? {
            let listed = objects.len() as u64 + common_prefixes.len() as u64;
            if count != listed {
                return Err(Error::invalid_response(format!(
                    "ListBucketResult says KeyCount {count} but lists {listed} entries (truncated answer?)"
                )));
            }
        }
        let next_continuation_token = if is_truncated {
            match next_continuation_token {
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
            common_prefixes,
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

    #[test]
    fn reads_an_aws_listing_with_entities_and_spaces() {
        let out = ListObjectsV2::parse(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n\
               <Name>b</Name><Prefix></Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>\n\
               <Contents>\n  <Key>a&amp;b c ü</Key>\n  <LastModified>2015-08-30T12:36:00.000Z</LastModified>\n\
                 <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>\n  <Size>434234</Size>\n\
                 <Owner><ID>x</ID><DisplayName>y</DisplayName></Owner><StorageClass>STANDARD</StorageClass>\n</Contents>\n\
               <Contents><Key>&lt;x&gt;</Key><Size>0</Size></Contents>\n</ListBucketResult>"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(out.objects.len(), 2);
        assert_eq!(out.objects[0].key, "a&b c ü");
        assert_eq!(out.objects[0].size, 434234);
        assert_eq!(
            out.objects[0].etag.as_deref(),
            Some("\"fba9dede5f27731c9771645a39863328\"")
        );
        assert!(out.objects[0].last_modified.is_some());
        assert_eq!(
            (out.objects[1].key.as_str(), out.objects[1].etag.as_deref()),
            ("<x>", None)
        );
        assert_eq!(out.next_continuation_token, None);
    }

    #[test]
    fn an_empty_listing_is_empty() {
        for body in [
            &b"<ListBucketResult/>"[..],
            b"<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>",
        ] {
            assert_eq!(ListObjectsV2::parse(body).unwrap(), ListObjectsV2Output::default());
        }
    }

    #[test]
    fn inconsistent_listings_are_errors_that_say_why() {
        let cases: [(&[u8], &str); 5] = [
            (
                b"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
                "no NextContinuationToken",
            ),
            (
                b"<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken/></ListBucketResult>",
                "no NextContinuationToken",
            ),
            (
                b"<ListBucketResult><KeyCount>1</KeyCount></ListBucketResult>",
                "KeyCount 1 but lists 0",
            ),
            (
                b"<ListBucketResult><Contents><Size>big</Size></Contents></ListBucketResult>",
                "<Contents><Size>",
            ),
            (
                b"<ListBucketResult><Contents><Key>a</Key><Key>b</Key></Contents></ListBucketResult>",
                "more than once",
            ),
        ];
        for (body, why) in cases {
            match ListObjectsV2::parse(body) {
                Err(Error::InvalidResponse(message)) => assert!(message.contains(why), "{message}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
