//! The JavaScript side of the Workers backends ([`R2`](super::R2), [`Kv`](super::Kv)).
//!
//! File bytes stay in JavaScript: these helpers hand the runtime's `ReadableStream`s
//! between the bindings and the caller, and only small JSON descriptions (attributes,
//! listings) cross into wasm. Where a body must be measured or buffered (an R2 upload of
//! unknown length, every KV upload), that happens here, in JavaScript.

use super::{Attributes, ListItem, ListPage};
use crate::error::Error;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(inline_js = r#"
const KV_LIMIT = 25 * 1024 * 1024;

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function chunkBytes(chunk) {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return new Uint8Array(chunk);
}

// Reads a stream into one Uint8Array, failing (RangeError) past `limit` bytes.
async function collect(stream, limit) {
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const bytes = chunkBytes(value);
    size += bytes.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw new RangeError(`the object is larger than ${limit} bytes`);
    }
    chunks.push(bytes);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const bytes of chunks) {
    all.set(bytes, offset);
    offset += bytes.byteLength;
  }
  return all;
}

function r2Attributes(object) {
  return JSON.stringify({
    size: object.size,
    etag: object.httpEtag ?? null,
    modified: object.uploaded ? object.uploaded.getTime() : null,
    contentType: object.httpMetadata?.contentType ?? null,
    metadata: object.customMetadata ?? {},
  });
}

export async function r2_head(bucket, key) {
  const object = await bucket.head(key);
  return object === null ? null : r2Attributes(object);
}

// null when missing; otherwise { attributes, body } where body is null when a
// condition failed (R2 answers an R2Object without a body).
export async function r2_get(bucket, key, options) {
  const object = await bucket.get(key, options);
  if (object === null) return null;
  return { attributes: r2Attributes(object), body: object.body ?? null };
}

// A ReadableStream of a known length goes through a FixedLengthStream (workerd needs
// the length); one of unknown length is collected here first. Bytes are a Uint8Array.
export async function r2_put(bucket, key, value, length, contentType, metadata) {
  if (value instanceof ReadableStream) {
    if (length === undefined || length === null) {
      value = await collect(value, Number.MAX_SAFE_INTEGER);
    } else if (length === 0) {
      value.cancel().catch(() => {});
      value = new Uint8Array(0);
    } else {
      const fixed = new FixedLengthStream(length);
      value.pipeTo(fixed.writable).catch(() => {});
      value = fixed.readable;
    }
  }
  const httpMetadata = contentType ? { contentType } : {};
  await bucket.put(key, value ?? new Uint8Array(0), { httpMetadata, customMetadata: JSON.parse(metadata) });
}

export async function r2_copy(bucket, from, to) {
  const object = await bucket.get(from);
  if (object === null) return false;
  let value = new Uint8Array(0);
  if (object.size > 0) {
    const fixed = new FixedLengthStream(object.size);
    object.body.pipeTo(fixed.writable).catch(() => {});
    value = fixed.readable;
  } else {
    object.body.cancel().catch(() => {});
  }
  await bucket.put(to, value, {
    httpMetadata: object.httpMetadata ?? {},
    customMetadata: object.customMetadata ?? {},
  });
  return true;
}

export async function r2_delete(bucket, key) {
  await bucket.delete(key);
}

export async function r2_list(bucket, prefix, cursor, limit) {
  const options = { prefix, limit: Math.min(Math.max(limit, 1), 1000) };
  if (cursor) options.cursor = cursor;
  const page = await bucket.list(options);
  return JSON.stringify({
    items: page.objects.map((o) => ({
      key: o.key,
      size: o.size,
      etag: o.httpEtag ?? null,
      modified: o.uploaded ? o.uploaded.getTime() : null,
    })),
    cursor: page.truncated ? page.cursor : null,
  });
}

// Deletes in batches of at most 1000 keys (R2's limit per call); returns the count.
export async function r2_delete_prefix(bucket, prefix) {
  let deleted = 0;
  let cursor;
  for (;;) {
    const page = await bucket.list(cursor ? { prefix, cursor, limit: 1000 } : { prefix, limit: 1000 });
    const keys = page.objects.map((o) => o.key);
    if (keys.length > 0) {
      await bucket.delete(keys);
      deleted += keys.length;
    }
    if (!page.truncated) return deleted;
    cursor = page.cursor;
  }
}

// Objects written by something other than edgefs have no size in their metadata: it
// is measured by reading the value (in JavaScript).
async function kvEntry(namespace, key) {
  const { value, metadata } = await namespace.getWithMetadata(key, { type: "stream" });
  if (value === null) return null;
  const meta = metadata && typeof metadata === "object" ? { ...metadata } : {};
  if (typeof meta.size !== "number") {
    const bytes = await collect(value, Number.MAX_SAFE_INTEGER);
    meta.size = bytes.byteLength;
    return { meta, body: new Response(bytes).body };
  }
  return { meta, body: value };
}

export async function kv_head(namespace, key) {
  const entry = await kvEntry(namespace, key);
  if (entry === null) return null;
  entry.body?.cancel().catch(() => {});
  return JSON.stringify(entry.meta);
}

export async function kv_get(namespace, key) {
  const entry = await kvEntry(namespace, key);
  if (entry === null) return null;
  return { attributes: JSON.stringify(entry.meta), body: entry.body };
}

export function cancel_stream(stream) {
  stream?.cancel().catch(() => {});
}

// The bytes [start, start + length) of a stream, cut as they pass: chunks before the
// range are dropped, the stream is cancelled once the range is complete.
export function slice_stream(stream, start, length) {
  let skip = start;
  let left = length;
  const cut = new TransformStream({
    transform(chunk, controller) {
      if (left <= 0) return;
      let bytes = chunkBytes(chunk);
      if (skip >= bytes.byteLength) {
        skip -= bytes.byteLength;
        return;
      }
      bytes = bytes.subarray(skip);
      skip = 0;
      if (bytes.byteLength > left) bytes = bytes.subarray(0, left);
      left -= bytes.byteLength;
      controller.enqueue(bytes);
      if (left <= 0) controller.terminate();
    },
  });
  return stream.pipeThrough(cut);
}

// Bytes (a Uint8Array, measured and hashed by the caller) are put as they are; a
// stream is collected here, failing with a RangeError past KV's 25 MiB before the put
// starts, checked against its declared `length` when there is one, and hashed (MD5)
// here. `meta` is the JSON of the metadata without size/etag.
export async function kv_put(namespace, key, value, length, meta) {
  const metadata = JSON.parse(meta);
  if (value instanceof ReadableStream) {
    const bytes = await collect(value, KV_LIMIT);
    if (length !== undefined && length !== null && bytes.byteLength !== length) {
      throw new Error(`the body has ${bytes.byteLength} bytes, not the ${length} its length says`);
    }
    metadata.size = bytes.byteLength;
    metadata.etag = `"${hex(await crypto.subtle.digest("MD5", bytes))}"`;
    value = bytes;
  }
  await namespace.put(key, value ?? new Uint8Array(0), { metadata });
}

export async function kv_copy(namespace, from, to, modified) {
  const { value, metadata } = await namespace.getWithMetadata(from, { type: "arrayBuffer" });
  if (value === null) return false;
  const meta = metadata && typeof metadata === "object" ? { ...metadata } : {};
  meta.size = value.byteLength;
  meta.modified = modified;
  await namespace.put(to, value, { metadata: meta });
  return true;
}

export async function kv_delete(namespace, key) {
  await namespace.delete(key);
}

export async function kv_list(namespace, prefix, cursor, limit) {
  const options = { prefix, limit: Math.min(Math.max(limit, 1), 1000) };
  if (cursor) options.cursor = cursor;
  const page = await namespace.list(options);
  return JSON.stringify({
    items: page.keys.map((k) => ({
      key: k.name,
      size: k.metadata?.size ?? 0,
      etag: k.metadata?.etag ?? null,
      modified: k.metadata?.modified ?? null,
    })),
    cursor: page.list_complete ? null : page.cursor,
  });
}

export async function kv_delete_prefix(namespace, prefix) {
  let deleted = 0;
  let cursor;
  for (;;) {
    const page = await namespace.list(cursor ? { prefix, cursor } : { prefix });
    const keys = page.keys.map((k) => k.name);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => namespace.delete(key)));
    }
    deleted += keys.length;
    if (page.list_complete) return deleted;
    cursor = page.cursor;
  }
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    pub(super) fn r2_head(bucket: &JsValue, key: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn r2_get(bucket: &JsValue, key: &str, options: &JsValue) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn r2_put(
        bucket: &JsValue,
        key: &str,
        value: &JsValue,
        length: Option<f64>,
        content_type: Option<String>,
        metadata: &str,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn r2_copy(bucket: &JsValue, from: &str, to: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn r2_delete(bucket: &JsValue, key: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn r2_list(
        bucket: &JsValue,
        prefix: &str,
        cursor: Option<String>,
        limit: f64,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn r2_delete_prefix(bucket: &JsValue, prefix: &str) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(catch)]
    pub(super) fn kv_head(namespace: &JsValue, key: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn kv_get(namespace: &JsValue, key: &str) -> Result<js_sys::Promise, JsValue>;
    pub(super) fn cancel_stream(stream: &JsValue);
    pub(super) fn slice_stream(stream: &JsValue, start: f64, length: f64) -> web_sys::ReadableStream;
    #[wasm_bindgen(catch)]
    pub(super) fn kv_put(
        namespace: &JsValue,
        key: &str,
        value: &JsValue,
        length: Option<f64>,
        meta: &str,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn kv_copy(namespace: &JsValue, from: &str, to: &str, modified: f64)
        -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn kv_delete(namespace: &JsValue, key: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn kv_list(
        namespace: &JsValue,
        prefix: &str,
        cursor: Option<String>,
        limit: f64,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    pub(super) fn kv_delete_prefix(namespace: &JsValue, prefix: &str) -> Result<js_sys::Promise, JsValue>;
}

/// Awaits a helper's promise; a JavaScript error becomes an [`Error`] naming `what`
/// (a `RangeError` from a size limit is the caller's [`Error::InvalidInput`]).
pub(super) async fn call(
    backend: &'static str,
    what: &str,
    promise: Result<js_sys::Promise, JsValue>,
) -> Result<JsValue, Error> {
    let result = match promise {
        Ok(promise) => JsFuture::from(promise).await,
        Err(error) => Err(error),
    };
    result.map_err(|error| {
        let message = describe(&error);
        if error.is_instance_of::<js_sys::RangeError>() {
            Error::InvalidInput(format!("{backend}: {what}: {message}"))
        } else {
            Error::backend(backend, format!("{what}: {message}"))
        }
    })
}

pub(super) fn describe(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

/// The attributes JSON both backends' helpers produce: `{size, etag, modified,
/// contentType, metadata}`, every member optional. Read as a `serde_json::Value`
/// rather than with `derive(Deserialize)`: typed deserialization would link serde's
/// error paths (with core's float formatting) into the Worker for two small objects.
pub(super) fn parse_attributes(backend: &'static str, value: &JsValue) -> Result<Attributes, Error> {
    let text = value
        .as_string()
        .ok_or_else(|| Error::backend(backend, "attributes are not a string"))?;
    let parsed: Value = serde_json::from_str(&text)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| Error::backend(backend, format!("unreadable attributes {text}")))?;
    // Inserted one by one: `collect()` into a BTreeMap would link a stable sort.
    let mut metadata = BTreeMap::new();
    if let Some(Value::Object(map)) = parsed.get("metadata") {
        for (name, value) in map {
            if let Some(value) = value.as_str() {
                metadata.insert(name.clone(), value.to_owned());
            }
        }
    }
    Ok(Attributes {
        size: number(&parsed, "size").unwrap_or(0.0) as u64,
        content_type: text_member(&parsed, "contentType"),
        etag: text_member(&parsed, "etag"),
        modified: number(&parsed, "modified").map(from_millis),
        metadata,
    })
}

fn number(object: &Value, name: &str) -> Option<f64> {
    object.get(name).and_then(Value::as_f64)
}

fn text_member(object: &Value, name: &str) -> Option<String> {
    object.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// A listing page from the helpers: `{items: [{key, size, etag, modified}], cursor}`.
pub(super) fn parse_page(backend: &'static str, value: &JsValue) -> Result<ListPage, Error> {
    let text = value
        .as_string()
        .ok_or_else(|| Error::backend(backend, "a listing is not a string"))?;
    let unreadable = || Error::backend(backend, format!("unreadable listing {text}"));
    let page: Value = serde_json::from_str(&text).map_err(|_| unreadable())?;
    let items = page.get("items").and_then(Value::as_array).ok_or_else(unreadable)?;
    let items = items
        .iter()
        .map(|item| {
            Some(ListItem {
                key: text_member(item, "key")?,
                size: number(item, "size")? as u64,
                etag: text_member(item, "etag"),
                modified: number(item, "modified").map(from_millis),
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(unreadable)?;
    Ok(ListPage {
        items,
        next_cursor: text_member(&page, "cursor").filter(|c| !c.is_empty()),
    })
}

pub(super) fn from_millis(millis: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(millis.max(0.0) as u64)
}

pub(super) fn millis(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or(0.0)
}

/// A property of a JavaScript object.
pub(super) fn get(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// A binding from the Worker's `env`, when bound.
pub(super) fn binding(env: &JsValue, name: &str) -> Option<JsValue> {
    let value = get(env, name);
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

pub(super) fn not_found(backend: &'static str, key: &str) -> Error {
    Error::NotFound {
        backend,
        key: key.to_owned(),
    }
}

pub(super) fn check_key(backend: &'static str, key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{backend}: an object key must not be empty"
        )));
    }
    Ok(())
}
