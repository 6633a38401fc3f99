//! The JavaScript `fetch` transport: one implementation for Cloudflare Workers and
//! browsers.
//!
//! Response bodies stay JavaScript `ReadableStream`s ([`Body::from_js_stream`]): a
//! Worker can hand one straight to its own `Response`, so file bytes never cross into
//! wasm memory. `fetch` and `setTimeout` are looked up on `globalThis` at call time:
//! a Worker module exports a function named `fetch` of its own, which must not be
//! mistaken for the global one.

use super::{Body, BoxFuture, ByteStream, Transport};
use crate::Error;
use bytes::Bytes;
use futures::StreamExt;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Sends requests with the runtime's global `fetch`.
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchTransport;

impl Transport for FetchTransport {
    fn send(&self, request: http::Request<Body>) -> BoxFuture<'_, Result<http::Response<Body>, Error>> {
        Box::pin(async move { send(request).await.map_err(|e| Error::Transport(describe(&e))) })
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let millis = duration.as_millis().min(i32::MAX as u128) as i32;
            let promise = Promise::new(&mut |resolve, _reject| {
                if let Ok(set_timeout) = global_function("setTimeout") {
                    let _ = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &JsValue::from(millis));
                } else {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            });
            let _ = JsFuture::from(promise).await;
        })
    }
}

fn global_function(name: &str) -> Result<Function, JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))?
        .dyn_into::<Function>()
        .map_err(|_| JsValue::from_str(&format!("globalThis.{name} is not a function")))
}

async fn send(request: http::Request<Body>) -> Result<http::Response<Body>, JsValue> {
    let (parts, body) = request.into_parts();
    let init = web_sys::RequestInit::new();
    init.set_method(parts.method.as_str());
    let headers = web_sys::Headers::new()?;
    for (name, value) in &parts.headers {
        if let Ok(value) = value.to_str() {
            headers.append(name.as_str(), value)?;
        }
    }
    init.set_headers(&headers);
    match body.into_bytes() {
        Ok(bytes) if bytes.is_empty() => {}
        Ok(bytes) => init.set_body(&Uint8Array::from(bytes.as_ref())),
        Err(body) => {
            let length = body.len();
            if let Some(stream) = body.into_js_stream() {
                // workerd sends a plain stream chunked; S3 wants a Content-Length.
                let stream = with_fixed_length(&stream, length.map(|n| n as f64));
                init.set_body(&stream);
                // Browsers want to be told that a streaming request body is half-duplex.
                Reflect::set(&init, &JsValue::from_str("duplex"), &JsValue::from_str("half"))?;
            }
        }
    }
    // A browser's HTTP cache may rewrite a signed request (Chromium turns `Range:
    // bytes=-3` into an absolute range from its cached copy), so S3 requests bypass it.
    // Workers before the `cache` option existed refuse the field: then go without.
    let url = parts.uri.to_string();
    Reflect::set(&init, &JsValue::from_str("cache"), &JsValue::from_str("no-store"))?;
    let request = match web_sys::Request::new_with_str_and_init(&url, &init) {
        Ok(request) => request,
        Err(_) => {
            Reflect::delete_property(&init, &JsValue::from_str("cache"))?;
            web_sys::Request::new_with_str_and_init(&url, &init)?
        }
    };
    let promise = global_function("fetch")?.call1(&JsValue::UNDEFINED, &request)?;
    let response: web_sys::Response = JsFuture::from(Promise::from(promise)).await?.dyn_into()?;

    let mut builder = http::Response::builder().status(response.status());
    let mut length = None;
    if let Some(iterator) = js_sys::try_iter(&response.headers())? {
        for entry in iterator {
            let entry: js_sys::Array = entry?.dyn_into()?;
            let (name, value) = (
                entry.get(0).as_string().unwrap_or_default(),
                entry.get(1).as_string().unwrap_or_default(),
            );
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<u64>().ok();
            }
            builder = builder.header(name, value);
        }
    }
    let body = match response.body() {
        Some(stream) => Body::from_js_stream(stream, length),
        None => Body::empty(),
    };
    builder
        .body(body)
        .map_err(|e| JsValue::from_str(&format!("invalid response: {e}")))
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/transport/fetch.js")]
extern "C" {
    /// In workerd, a stream of known length as a `FixedLengthStream` (sent with its
    /// Content-Length); elsewhere the stream itself.
    fn with_fixed_length(stream: &web_sys::ReadableStream, length: Option<f64>) -> web_sys::ReadableStream;
    /// One stream of the parts in order (`Uint8Array`s and `ReadableStream`s), each read
    /// only after the one before ended; an error in a part errors the whole. With a
    /// length, in workerd, a `FixedLengthStream` of that length.
    #[wasm_bindgen::prelude::wasm_bindgen(js_name = concat_streams)]
    pub(crate) fn concat_js_streams(parts: &js_sys::Array, length: Option<f64>) -> web_sys::ReadableStream;
}

/// In workerd, the stream as a `FixedLengthStream` of `length` bytes.
pub(crate) fn fixed_length(stream: &web_sys::ReadableStream, length: u64) -> web_sys::ReadableStream {
    with_fixed_length(stream, Some(length as f64))
}

/// Reads a JavaScript stream from Rust (copies each chunk into wasm memory: use only
/// where Rust must see the bytes).
pub(crate) fn js_stream_to_rust(stream: web_sys::ReadableStream) -> ByteStream {
    let stream = wasm_streams::ReadableStream::from_raw(stream.unchecked_into()).into_stream();
    Box::pin(stream.map(|chunk| match chunk {
        Ok(chunk) => Ok(Bytes::from(Uint8Array::new(&chunk).to_vec())),
        Err(error) => Err(Error::Body(describe(&error))),
    }))
}

/// Wraps a Rust stream as a JavaScript `ReadableStream`.
pub(crate) fn rust_stream_to_js(stream: ByteStream) -> web_sys::ReadableStream {
    let stream = stream.map(|chunk| match chunk {
        Ok(bytes) => Ok(JsValue::from(Uint8Array::from(bytes.as_ref()))),
        Err(error) => Err(JsValue::from_str(&error.to_string())),
    });
    wasm_streams::ReadableStream::from_stream(stream)
        .into_raw()
        .unchecked_into()
}

fn describe(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
