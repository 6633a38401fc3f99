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

#[wasm_bindgen(module = "/src/storage/bindings.js")]
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
        if_match: Option<String>,
        if_absent: bool,
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
