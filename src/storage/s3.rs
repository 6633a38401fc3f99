//! The S3 backend: the façade over an [`S3Client`].

use super::*;
use crate::client::S3Client;
use crate::error::Quoted;
use crate::s3::actions::{CopyObject, GetObject, ListObjectsV2, ObjectMeta, ObjectOptions, PutObject};
use crate::transport::Transport;

/// The S3 backend: the façade over an [`S3Client`], for any S3-compatible bucket.
pub struct S3Storage<T> {
    client: S3Client<T>,
}

impl<T> std::fmt::Debug for S3Storage<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Storage").field("client", &self.client).finish()
    }
}

impl<T: Transport> S3Storage<T> {
    /// A backend over `client`'s bucket; its keys are the objects' keys.
    pub fn new(client: S3Client<T>) -> Self {
        S3Storage { client }
    }

    /// The client, for what the façade does not cover (presigned URLs, multipart listings).
    pub fn client(&self) -> &S3Client<T> {
        &self.client
    }
}

fn attributes(meta: &ObjectMeta) -> Attributes {
    Attributes {
        size: meta.object_size().unwrap_or(0),
        content_type: meta.content_type.clone(),
        etag: meta.etag.clone(),
        modified: meta.last_modified,
        metadata: meta
            .metadata
            .iter()
            .map(|(name, value)| (name.clone(), metadata_value_from_header(value)))
            .collect(),
    }
}

/// The bytes of a metadata value that are escaped: all but those Go's `url.PathEscape`
/// leaves as they are (letters, digits, `-_.~` and `$&+:=@`), so a value is stored byte
/// for byte as PocketBase's own S3 driver stores it (`tools/filesystem/internal/s3blob`).
const METADATA_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b':')
    .remove(b'=')
    .remove(b'@');

/// A metadata value as a header can carry it: PocketBase keeps a file's original name
/// (`original-filename`, any Unicode) in its metadata, and S3 headers are ASCII (and lose
/// a value's outer spaces), so the value is percent-encoded (UTF-8) as PocketBase does it.
fn metadata_value_to_header(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, METADATA_ESCAPES).to_string()
}

fn metadata_value_from_header(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8_lossy()
        .into_owned()
}

impl<T: Transport> Storage for S3Storage<T> {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn attributes<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Attributes>, Error>> {
        Box::pin(async move {
            match self.client.head_object(key).await {
                Ok(meta) => Ok(Some(attributes(&meta))),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn get<'a>(&'a self, key: &'a str, options: &'a GetOptions) -> BoxFuture<'a, Result<GetOutcome, Error>> {
        Box::pin(async move {
            let request = GetObject {
                range: options.range,
                if_none_match: options.if_none_match.clone(),
                // HTTP: If-Modified-Since is ignored when If-None-Match is present.
                if_modified_since: if options.if_none_match.is_some() {
                    None
                } else {
                    options.if_modified_since
                },
                ..GetObject::default()
            };
            match self.client.get_object(key, &request).await {
                Ok(output) if output.not_modified() => Ok(GetOutcome::NotModified(attributes(&output.meta))),
                Ok(output) => Ok(GetOutcome::Found(Object {
                    attributes: attributes(&output.meta),
                    range: output.meta.content_range,
                    body: output.body,
                })),
                Err(e) if e.is_not_found() => Ok(GetOutcome::NotFound),
                Err(e) if e.status() == Some(416) => match self.client.head_object(key).await {
                    Ok(meta) => Ok(GetOutcome::RangeNotSatisfiable {
                        size: meta.object_size().unwrap_or(0),
                        content_type: meta.content_type.clone(),
                    }),
                    Err(e) if e.is_not_found() => Ok(GetOutcome::NotFound),
                    Err(e) => Err(e.into()),
                },
                Err(e) => Err(e.into()),
            }
        })
    }

    fn conditional_writes(&self) -> bool {
        self.client.detected_profile().quirks.conditional_writes
    }

    fn upload<'a>(&'a self, key: &'a str, body: Body, options: &'a UploadOptions) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let condition = options.condition.clone();
            let options = ObjectOptions {
                content_type: options.content_type.clone(),
                metadata: options
                    .metadata
                    .iter()
                    .map(|(name, value)| (name.clone(), metadata_value_to_header(value)))
                    .collect(),
                ..ObjectOptions::default()
            };
            let Some(condition) = condition else {
                return self
                    .client
                    .upload(key, body, &options)
                    .await
                    .map(drop)
                    .map_err(Error::from);
            };
            // A conditional write is one PutObject (records are small). The headers go to
            // every server: one that ignores them stores the write, as without them.
            let put = PutObject::new(options);
            let put = match &condition {
                WriteCondition::Matches(etag) => put.if_match(etag.clone()),
                WriteCondition::Absent => put.if_absent(),
            };
            match self.client.put_object_with(key, body, &put).await {
                Ok(_) => Ok(()),
                // AWS answers If-Match on a missing key with 404 NoSuchKey.
                Err(e) if e.is_precondition_failed() || (e.is_not_found() && put.if_match.is_some()) => {
                    Err(Error::Conflict {
                        backend: "s3",
                        key: key.to_owned(),
                    })
                }
                Err(e) => Err(e.into()),
            }
        })
    }

    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.client
                .copy_object(from, to, &CopyObject::default())
                .await
                .map(drop)
                .map_err(Error::from)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move { Ok(self.client.delete_object(key).await?) })
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            check_prefix(prefix)?;
            let keys: Vec<String> = self.client.list_all(prefix).await?.into_iter().map(|o| o.key).collect();
            if keys.is_empty() {
                return Ok(0);
            }
            let output = self.client.delete_objects(&keys).await?;
            if let Some(first) = output.errors.first() {
                return Err(Error::S3(edgefs_s3::Error::InvalidResponse(format!(
                    "{} of {} objects under {prefix} were not deleted; {}: {} {}",
                    output.errors.len(),
                    keys.len(),
                    Quoted(&first.key),
                    first.code,
                    first.message,
                    prefix = Quoted(prefix)
                ))));
            }
            Ok(output.deleted.len() as u64)
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ListPage, Error>> {
        Box::pin(async move {
            let request = ListObjectsV2 {
                prefix: Some(prefix.to_owned()),
                continuation_token: cursor.map(str::to_owned),
                max_keys: Some(limit.clamp(1, 1000) as u32),
                ..ListObjectsV2::default()
            };
            let page = self.client.list_objects_v2(&request).await?;
            Ok(ListPage {
                items: page
                    .objects
                    .into_iter()
                    .map(|o| ListItem {
                        key: o.key,
                        size: o.size,
                        etag: o.etag,
                        modified: o.last_modified,
                    })
                    .collect(),
                next_cursor: page.next_continuation_token,
            })
        })
    }
}

#[cfg(test)]
mod metadata_tests {
    use super::*;

    #[test]
    fn unicode_metadata_travels_percent_encoded_and_comes_back() {
        let name = "ünïcødé 名前 100%.pdf";
        let header = metadata_value_to_header(name);
        assert!(
            header.is_ascii() && http::HeaderValue::from_str(&header).is_ok(),
            "{header}"
        );
        assert_eq!(metadata_value_from_header(&header), name);
        assert_eq!(metadata_value_to_header("plain-name.txt"), "plain-name.txt");
        // What Go's url.PathEscape makes of it, as PocketBase writes it.
        assert_eq!(
            metadata_value_to_header(" a b/ü;,?$&+:=@~%.pdf"),
            "%20a%20b%2F%C3%BC%3B%2C%3F$&+:=@~%25.pdf"
        );
    }
}
