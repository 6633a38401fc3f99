//! The KV backend: a Workers KV namespace binding (`env.STORAGE`, see
//! [`KV_BINDING`](super::KV_BINDING)), the Worker's local stand-in for a disk.
//!
//! Each object is one KV value; its attributes live in the value's KV metadata as JSON
//! (`size`, `contentType`, `etag` — the quoted MD5 of the bytes —, `modified` in
//! milliseconds and the user's `metadata`).
//!
//! * Downloads are the `ReadableStream` KV answers (`getWithMetadata(key, {type:
//!   "stream"})`), handed on as they are.
//! * Ranges: KV has none. The stream is cut in JavaScript by a `TransformStream` that
//!   drops the bytes before the range and ends after it: no byte enters wasm.
//! * Conditions (`If-None-Match`, `If-Modified-Since`) are checked against the metadata
//!   and the stream is cancelled unread.
//! * Size: a KV value holds at most 25 MiB ([`KV_VALUE_LIMIT`]). A body of known
//!   length over it is refused before anything is read or written. A stream of
//!   unknown length is collected in JavaScript (it must be anyway: KV's metadata,
//!   with the ETag, is given with the `put`), counting as it goes; past 25 MiB the
//!   upload fails before `put` is called, so nothing is half-written and the old
//!   value stays. A stream whose byte count differs from its declared length fails
//!   the same way.
//! * KV metadata holds at most 1024 bytes of JSON: user metadata that does not fit is
//!   refused before anything is written.

use super::js;
use super::*;
use md5::{Digest, Md5};
use wasm_bindgen::{JsCast, JsValue};

const NAME: &str = "kv";

/// The largest value KV stores: 25 MiB.
pub const KV_VALUE_LIMIT: u64 = 25 * 1024 * 1024;

/// The largest metadata KV stores with a value, as serialized JSON.
const KV_METADATA_LIMIT: usize = 1024;

/// A Workers KV namespace used as object storage.
#[derive(Clone, Debug)]
pub struct Kv {
    namespace: JsValue,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    modified: f64,
    metadata: &'a BTreeMap<String, String>,
}

fn too_large(size: u64) -> Error {
    Error::InvalidInput(format!(
        "kv: the object is {size} bytes, over KV's limit of {KV_VALUE_LIMIT} bytes (25 MiB) per value: bind an R2 bucket or configure S3 for larger files"
    ))
}

impl Kv {
    /// Wraps a namespace binding (`env.STORAGE`).
    pub fn new(namespace: JsValue) -> Self {
        Kv { namespace }
    }

    /// The namespace bound as `env[name]`, when there is one.
    pub fn from_env(env: &JsValue, name: &str) -> Option<Self> {
        js::binding(env, name).map(Kv::new)
    }
}

impl Storage for Kv {
    fn name(&self) -> &'static str {
        NAME
    }

    fn attributes<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Attributes>, Error>> {
        Box::pin(async move {
            if key.is_empty() {
                return Ok(None);
            }
            let value = js::call(NAME, "head", js::kv_head(&self.namespace, key)).await?;
            if value.is_null() || value.is_undefined() {
                return Ok(None);
            }
            js::parse_attributes(NAME, &value).map(Some)
        })
    }

    fn get<'a>(&'a self, key: &'a str, options: &'a GetOptions) -> BoxFuture<'a, Result<GetOutcome, Error>> {
        Box::pin(async move {
            if key.is_empty() {
                return Ok(GetOutcome::NotFound);
            }
            let value = js::call(NAME, "get", js::kv_get(&self.namespace, key)).await?;
            if value.is_null() || value.is_undefined() {
                return Ok(GetOutcome::NotFound);
            }
            let attributes = js::parse_attributes(NAME, &js::get(&value, "attributes"))?;
            let body = js::get(&value, "body");
            if not_modified(&attributes, options) {
                js::cancel_stream(&body);
                return Ok(GetOutcome::NotModified(attributes));
            }
            let size = attributes.size;
            let (body, range) = match options.range {
                None => (body, None),
                Some(range) => match resolve_range(range, size) {
                    None => {
                        js::cancel_stream(&body);
                        return Ok(GetOutcome::RangeNotSatisfiable {
                            size,
                            content_type: attributes.content_type.clone(),
                        });
                    }
                    Some((first, last)) => (
                        js::slice_stream(&body, first as f64, (last - first + 1) as f64).into(),
                        Some(ContentRange {
                            first,
                            last,
                            total: Some(size),
                        }),
                    ),
                },
            };
            let length = range.map_or(size, |r| r.last - r.first + 1);
            let body = if body.is_null() || body.is_undefined() {
                Body::empty()
            } else {
                Body::from_js_stream(body.unchecked_into(), Some(length))
            };
            Ok(GetOutcome::Found(Object {
                attributes,
                range,
                body,
            }))
        })
    }

    fn upload<'a>(&'a self, key: &'a str, body: Body, options: &'a UploadOptions) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            js::check_key(NAME, key)?;
            if let Some(length) = body.len() {
                if length > KV_VALUE_LIMIT {
                    return Err(too_large(length));
                }
            }
            let mut meta = Meta {
                size: Some(KV_VALUE_LIMIT),
                content_type: options.content_type.as_deref(),
                etag: Some(format!("\"{}\"", "0".repeat(32))),
                modified: js::millis(crate::clock::now()),
                metadata: &options.metadata,
            };
            // The largest the metadata can get, checked before anything is read.
            let longest = serde_json::to_string(&meta).unwrap_or_default().len();
            if longest > KV_METADATA_LIMIT {
                return Err(Error::InvalidInput(format!(
                    "kv: the content type and metadata take {longest} bytes of JSON, over KV's {KV_METADATA_LIMIT}-byte metadata limit"
                )));
            }
            let length = body.len();
            let value: JsValue = match body.into_bytes() {
                Ok(bytes) => {
                    meta.size = Some(bytes.len() as u64);
                    meta.etag = Some(format!("\"{}\"", hex::encode(Md5::digest(&bytes))));
                    if bytes.is_empty() {
                        JsValue::NULL
                    } else {
                        js_sys::Uint8Array::from(bytes.as_ref()).into()
                    }
                }
                Err(body) => {
                    // Measured and hashed in JavaScript as it is collected.
                    meta.size = None;
                    meta.etag = None;
                    body.into_js_stream().map_or(JsValue::NULL, Into::into)
                }
            };
            let meta = serde_json::to_string(&meta).unwrap_or_default();
            js::call(
                NAME,
                "put",
                js::kv_put(&self.namespace, key, &value, length.map(|l| l as f64), &meta),
            )
            .await?;
            Ok(())
        })
    }

    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            js::check_key(NAME, to)?;
            if from.is_empty() {
                return Err(js::not_found(NAME, from));
            }
            let modified = js::millis(crate::clock::now());
            let copied = js::call(NAME, "copy", js::kv_copy(&self.namespace, from, to, modified)).await?;
            if copied.as_bool() != Some(true) {
                return Err(js::not_found(NAME, from));
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if key.is_empty() {
                return Ok(());
            }
            js::call(NAME, "delete", js::kv_delete(&self.namespace, key)).await?;
            Ok(())
        })
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            check_prefix(prefix)?;
            let count = js::call(NAME, "delete_prefix", js::kv_delete_prefix(&self.namespace, prefix)).await?;
            Ok(count.as_f64().unwrap_or(0.0) as u64)
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ListPage, Error>> {
        Box::pin(async move {
            let page = js::call(
                NAME,
                "list",
                js::kv_list(&self.namespace, prefix, cursor.map(str::to_owned), limit as f64),
            )
            .await?;
            js::parse_page(NAME, &page)
        })
    }
}
