//! CopyObject: `PUT /{destination}` with `x-amz-copy-source: {bucket}/{encoded key}`.

use super::ObjectOptions;
use crate::error::Error;
use crate::protocol::{xml, S3Request};
use edgefs_sigv4::{encode, URI_PATH};
use http::Method;

/// Whether the copy keeps the source's content type and metadata or takes new ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum MetadataDirective {
    /// Keep the source's content type and metadata (`COPY`).
    #[default]
    Copy,
    /// Store these instead (`REPLACE`): what they leave unset, the copy does not have.
    Replace(ObjectOptions),
}

/// CopyObject, `PUT /{destination}` with `x-amz-copy-source`: a copy made by the server,
/// up to 5 GiB, without the bytes passing through the client.
#[derive(Clone, Debug, Default)]
pub struct CopyObject {
    /// Whether the copy keeps the source's metadata (the default) or takes new.
    pub metadata: MetadataDirective,
}

/// What CopyObject says about the copy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyObjectOutput {
    /// The copy's ETag, quotes included.
    pub etag: Option<String>,
    /// When the copy was written.
    pub last_modified: Option<std::time::SystemTime>,
}

impl CopyObject {
    /// The request that copies `source_key` of `bucket` to `destination_key` of the bucket
    /// the request is signed for. An invalid source key or option is an input error.
    pub fn request(&self, bucket: &str, source_key: &str, destination_key: &str) -> Result<S3Request, Error> {
        crate::protocol::bucket::validate_key(source_key)?;
        // No leading slash: R2 rejects it. The key is encoded as in a URL path.
        let mut source = String::with_capacity(bucket.len() + source_key.len() + 8);
        source.push_str(bucket);
        source.push('/');
        encode(source_key, URI_PATH, &mut source);
        let request = S3Request::new(Method::PUT, Some(destination_key)).header("x-amz-copy-source", &source)?;
        match &self.metadata {
            MetadataDirective::Copy => request.header("x-amz-metadata-directive", "COPY"),
            MetadataDirective::Replace(options) => {
                options.apply(request.header("x-amz-metadata-directive", "REPLACE")?)
            }
        }
    }

    /// A 200 answer may still carry an `<Error>` (the copy failed after the headers
    /// were sent); the caller checks for that before calling this.
    pub fn parse(body: &[u8]) -> Result<CopyObjectOutput, Error> {
        let result = xml::parse(body, "CopyObjectResult")?;
        Ok(CopyObjectOutput {
            etag: result.text("ETag")?,
            last_modified: result
                .text("LastModified")?
                .as_deref()
                .and_then(crate::clock::parse_iso8601),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_is_encoded_without_a_leading_slash() {
        let request = CopyObject::default().request("bucket", "dir/a b+c%ü", "dest").unwrap();
        assert_eq!(request.headers["x-amz-copy-source"], "bucket/dir/a%20b%2Bc%25%C3%BC");
    }

    #[test]
    fn reads_the_copy_result() {
        let out = CopyObject::parse(
            b"<?xml version=\"1.0\"?><CopyObjectResult><LastModified>2015-08-30T12:36:00.000Z</LastModified>\
              <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag></CopyObjectResult>",
        )
        .unwrap();
        assert_eq!(out.etag.as_deref(), Some("\"9b2cf535f27731c974343645a3985328\""));
        assert!(out.last_modified.is_some());
        assert_eq!(
            CopyObject::parse(b"<CopyObjectResult/>").unwrap(),
            CopyObjectOutput::default()
        );
        let error = CopyObject::parse(b"<CopyObjectResult><ETag>x</CopyObjectResult>").unwrap_err();
        assert!(error.to_string().contains("malformed CopyObjectResult"), "{error}");
    }
}
