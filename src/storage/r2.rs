//! The R2 backend: a Workers R2 bucket binding (`env.BUCKET`, see
//! [`R2_BINDING`](super::R2_BINDING)).
//!
//! Bytes never enter wasm: a download is the `ReadableStream` R2 answers with
//! ([`Body::from_js_stream`]), an upload of a JavaScript stream hands that stream to
//! `put` through a `FixedLengthStream` when its length is known (workerd needs the
//! length). A stream of unknown length is collected in JavaScript first (bounded by the
//! Worker's memory); in-memory bytes are put as one `Uint8Array`.
//!
//! Ranges: R2 reads the range itself (`range: {offset, length}`); the object's size is
//! known first from `head`, so a range past the end is [`GetOutcome::RangeNotSatisfiable`]
//! without a failed read. Conditions without a range go to R2 as `onlyIf`
//! (`etagDoesNotMatch`, `uploadedAfter`); with a range, or an `If-None-Match` list or
//! `*`, they are checked against `head`'s answer and the read is made `onlyIf` the ETag
//! still matches. R2 has no copy: copy is a get whose body streams into a put, keeping
//! the content type and custom metadata.

use super::js;
use super::*;
use crate::error::Quoted;
use wasm_bindgen::{JsCast, JsValue};

const NAME: &str = "r2";

/// A Workers R2 bucket.
#[derive(Clone, Debug)]
pub struct R2 {
    bucket: JsValue,
}

impl R2 {
    /// Wraps a bucket binding (`env.BUCKET`).
    pub fn new(bucket: JsValue) -> Self {
        R2 { bucket }
    }

    /// The bucket bound as `env[name]`, when there is one.
    pub fn from_env(env: &JsValue, name: &str) -> Option<Self> {
        js::binding(env, name).map(R2::new)
    }

    async fn head(&self, key: &str) -> Result<Option<Attributes>, Error> {
        let value = js::call(NAME, "head", js::r2_head(&self.bucket, key)).await?;
        if value.is_null() || value.is_undefined() {
            return Ok(None);
        }
        js::parse_attributes(NAME, &value).map(Some)
    }

    /// One `bucket.get`: `None` when missing; otherwise the attributes and the body,
    /// which is `None` when an `onlyIf` condition failed.
    async fn read(&self, key: &str, options: &JsValue) -> Result<Option<(Attributes, Option<JsValue>)>, Error> {
        let value = js::call(NAME, "get", js::r2_get(&self.bucket, key, options)).await?;
        if value.is_null() || value.is_undefined() {
            return Ok(None);
        }
        let attributes = js::parse_attributes(NAME, &js::get(&value, "attributes"))?;
        let body = js::get(&value, "body");
        Ok(Some((
            attributes,
            (!body.is_null() && !body.is_undefined()).then_some(body),
        )))
    }

    async fn get_ranged(&self, key: &str, options: &GetOptions) -> Result<GetOutcome, Error> {
        // The object may change between head and get: the get is conditional on the
        // ETag head saw, and a changed object is looked at again.
        for _ in 0..3 {
            let Some(attributes) = self.head(key).await? else {
                return Ok(GetOutcome::NotFound);
            };
            if not_modified(&attributes, options) {
                return Ok(GetOutcome::NotModified(attributes));
            }
            let size = attributes.size;
            let resolved = match options.range {
                Some(range) => match resolve_range(range, size) {
                    Some(resolved) => Some(resolved),
                    None => {
                        return Ok(GetOutcome::RangeNotSatisfiable {
                            size,
                            content_type: attributes.content_type.clone(),
                        })
                    }
                },
                None => None,
            };
            let request = js_sys::Object::new();
            if let Some((first, last)) = resolved {
                let range = js_sys::Object::new();
                set(&range, "offset", &JsValue::from_f64(first as f64));
                set(&range, "length", &JsValue::from_f64((last - first + 1) as f64));
                set(&request, "range", &range);
            }
            if let Some(etag) = &attributes.etag {
                let only_if = js_sys::Object::new();
                set(&only_if, "etagMatches", &JsValue::from_str(bare_etag(etag)));
                set(&request, "onlyIf", &only_if);
            }
            match self.read(key, &request).await? {
                None => return Ok(GetOutcome::NotFound),
                Some((_, None)) => continue,
                Some((attributes, Some(body))) => {
                    let length = resolved.map_or(attributes.size, |(first, last)| last - first + 1);
                    return Ok(GetOutcome::Found(Object {
                        range: resolved.map(|(first, last)| ContentRange {
                            first,
                            last,
                            total: Some(attributes.size),
                        }),
                        attributes,
                        body: Body::from_js_stream(body.unchecked_into(), Some(length)),
                    }));
                }
            }
        }
        Err(Error::backend(
            NAME,
            format!("{key} kept changing while it was read", key = Quoted(key)),
        ))
    }
}

fn set(object: &js_sys::Object, name: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(object, &JsValue::from_str(name), value);
}

/// R2's conditions take an ETag without quotes and without `W/`.
fn bare_etag(tag: &str) -> &str {
    tag.trim().trim_start_matches("W/").trim_matches('"')
}

impl Storage for R2 {
    fn name(&self) -> &'static str {
        NAME
    }

    fn attributes<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Attributes>, Error>> {
        Box::pin(self.head(key))
    }

    fn get<'a>(&'a self, key: &'a str, options: &'a GetOptions) -> BoxFuture<'a, Result<GetOutcome, Error>> {
        Box::pin(async move {
            let simple_tag = options
                .if_none_match
                .as_deref()
                .is_none_or(|tags| !tags.contains(',') && tags.trim() != "*");
            if options.range.is_some() || !simple_tag {
                return self.get_ranged(key, options).await;
            }
            let request = js_sys::Object::new();
            let only_if = js_sys::Object::new();
            if let Some(tag) = &options.if_none_match {
                set(&only_if, "etagDoesNotMatch", &JsValue::from_str(bare_etag(tag)));
                set(&request, "onlyIf", &only_if);
            } else if let Some(since) = options.if_modified_since {
                // HTTP dates have whole seconds: the object is modified when it was
                // uploaded in a later second than `since`.
                let after = crate::clock::unix_seconds(since) as f64 * 1000.0 + 999.0;
                set(&only_if, "uploadedAfter", &js_sys::Date::new(&JsValue::from_f64(after)));
                set(&request, "onlyIf", &only_if);
            }
            Ok(match self.read(key, &request).await? {
                None => GetOutcome::NotFound,
                Some((attributes, None)) => GetOutcome::NotModified(attributes),
                Some((attributes, Some(body))) => GetOutcome::Found(Object {
                    body: Body::from_js_stream(body.unchecked_into(), Some(attributes.size)),
                    attributes,
                    range: None,
                }),
            })
        })
    }

    fn conditional_writes(&self) -> bool {
        true
    }

    fn upload<'a>(&'a self, key: &'a str, body: Body, options: &'a UploadOptions) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            js::check_key(NAME, key)?;
            let metadata = serde_json::to_string(&options.metadata).unwrap_or_else(|_| "{}".into());
            let length = body.len();
            let value: JsValue = match body.into_bytes() {
                Ok(bytes) if bytes.is_empty() => JsValue::NULL,
                // Already in wasm memory: one copy out.
                Ok(bytes) => js_sys::Uint8Array::from(bytes.as_ref()).into(),
                // The runtime's own stream is handed on as it is.
                Err(body) => body.into_js_stream().map_or(JsValue::NULL, Into::into),
            };
            let (if_match, if_absent) = match &options.condition {
                None => (None, false),
                Some(WriteCondition::Matches(etag)) => (Some(etag.clone()), false),
                Some(WriteCondition::Absent) => (None, true),
            };
            let promise = js::r2_put(
                &self.bucket,
                key,
                &value,
                length.map(|l| l as f64),
                options.content_type.clone(),
                &metadata,
                if_match,
                if_absent,
            );
            // `put` answers null when its `onlyIf` failed: nothing was stored.
            if js::call(NAME, "put", promise).await?.is_null() {
                return Err(Error::Conflict {
                    backend: NAME,
                    key: key.to_owned(),
                });
            }
            Ok(())
        })
    }

    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            js::check_key(NAME, to)?;
            let copied = js::call(NAME, "copy", js::r2_copy(&self.bucket, from, to)).await?;
            if copied.as_bool() != Some(true) {
                return Err(js::not_found(NAME, from));
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            js::call(NAME, "delete", js::r2_delete(&self.bucket, key)).await?;
            Ok(())
        })
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            check_prefix(prefix)?;
            let count = js::call(NAME, "delete_prefix", js::r2_delete_prefix(&self.bucket, prefix)).await?;
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
                js::r2_list(&self.bucket, prefix, cursor.map(str::to_owned), limit as f64),
            )
            .await?;
            js::parse_page(NAME, &page)
        })
    }
}
