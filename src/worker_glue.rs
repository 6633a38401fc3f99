//! The Cloudflare Worker glue: the module's exported `fetch(request, env, ctx)`.
//!
//! Bound with wasm-bindgen directly instead of the `worker` crate (which depends on
//! tokio). The JavaScript entry point is worker-build 0.8.7's shim (see
//! `scripts/lib-worker.sh`): it calls the exports `__worker_init_state()` once and
//! `fetch(request, env, ctx)` per request, and after a trap it calls
//! `__wbg_reset_state()` to start a fresh instance. This module provides those exports
//! with the minimal part of the `worker` crate's `init.rs`:
//! * a shared state object (`globalThis.__worker_init_state`) whose `criticalError` a
//!   panic sets, so the shim re-creates the instance before the next request;
//! * `wasm_bindgen::handler::set_on_abort(schedule_reinit)`, so a hard abort (trap,
//!   out of memory) also leads to a fresh instance.
//!
//! A request becomes an `http::Request<Body>` whose body is the runtime's own
//! `ReadableStream` (never copied into wasm memory); [`crate::api::handle`] answers it;
//! the `http::Response<Body>` goes back as a `web_sys::Response` whose body is the
//! runtime's stream again, or a `Uint8Array` for a small in-memory body.
//!
//! Unit tests of this crate never get these exports (`cfg(not(test))`): an exported
//! `fetch` would shadow the global one in a browser test page.

use crate::transport::Body;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use http::StatusCode;
use js_sys::Uint8Array;
use std::panic;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(inline_js = "
export const state = globalThis.__worker_init_state = { criticalError: false, instanceId: 0 };
")]
extern "C" {
    type InitState;

    #[wasm_bindgen(thread_local_v2, js_name = state)]
    static INIT_STATE: InitState;

    #[wasm_bindgen(method, setter, js_name = criticalError)]
    fn set_critical_error(this: &InitState, value: bool);

    #[wasm_bindgen(method, getter, js_name = instanceId)]
    fn instance_id(this: &InitState) -> u32;

    #[wasm_bindgen(method, setter, js_name = instanceId)]
    fn set_instance_id(this: &InitState, value: u32);
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(label: &str, error: &JsValue);
}

fn on_abort() {
    wasm_bindgen::handler::schedule_reinit();
}

/// Runs once per instance: installs the panic hook and the abort handler.
#[cfg_attr(not(test), wasm_bindgen(start, private))]
#[allow(dead_code)]
fn init() {
    panic::set_hook(Box::new(|info| {
        let error = js_sys::Error::new(&format!("Rust panic: {info}"));
        console_error("Critical", &error);
        // With panic = "abort" the instance is unusable after this: have the shim
        // build a fresh one before the next request.
        INIT_STATE.with(|state| state.set_critical_error(true));
    }));
    INIT_STATE.with(|state| state.set_instance_id(state.instance_id() + 1));
    wasm_bindgen::handler::set_on_abort(on_abort);
}

/// The state object the shim reads `criticalError` and `instanceId` from.
#[cfg_attr(not(test), wasm_bindgen(js_name = "__worker_init_state"))]
#[allow(dead_code)]
pub fn worker_init_state() -> JsValue {
    INIT_STATE.with(|state| state.into())
}

/// The Worker's `fetch` handler.
#[cfg_attr(not(test), wasm_bindgen)]
#[allow(dead_code)]
pub async fn fetch(request: web_sys::Request, _env: JsValue, _ctx: JsValue) -> Result<web_sys::Response, JsValue> {
    // The test build only (`--features workerd-tests`): the storage conformance route.
    #[cfg(feature = "workerd-tests")]
    if let Some(response) = crate::storage::workerd_tests::handle(&request, &_env).await {
        return response;
    }
    let response = match to_http_request(&request) {
        Ok(request) => crate::api::handle(request).await,
        Err(message) => crate::api::error(StatusCode::BAD_REQUEST, &message),
    };
    to_web_response(response)
}

/// `web_sys::Request` → `http::Request<Body>`, the body kept as the runtime's stream.
fn to_http_request(request: &web_sys::Request) -> Result<http::Request<Body>, String> {
    let uri = parse_uri(&request.url())?;
    let mut builder = http::Request::builder().method(request.method().as_str()).uri(uri);
    let mut length = None;
    let entries = js_sys::try_iter(&request.headers())
        .map_err(|e| format!("unreadable request headers: {e:?}"))?
        .ok_or("unreadable request headers")?;
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let Ok(entry) = entry.dyn_into::<js_sys::Array>() else {
            continue;
        };
        let (Some(name), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string()) else {
            continue;
        };
        let (Ok(name), Some(value)) = (HeaderName::from_bytes(name.as_bytes()), byte_string(&value)) else {
            continue;
        };
        if name == CONTENT_LENGTH {
            length = value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok());
        }
        builder = builder.header(name, value);
    }
    let body = match request.body() {
        Some(stream) => Body::from_js_stream(stream, length),
        None => Body::empty(),
    };
    builder.body(body).map_err(|e| format!("invalid request: {e}"))
}

/// The request URL as an `http::Uri`. The runtime's URLs are WHATWG-serialized, which
/// leaves a few characters unescaped that `http` refuses: those are percent-encoded.
fn parse_uri(url: &str) -> Result<http::Uri, String> {
    if let Ok(uri) = url.parse::<http::Uri>() {
        return Ok(uri);
    }
    let mut escaped = String::with_capacity(url.len() + 16);
    for byte in url.bytes() {
        if byte.is_ascii_graphic() && !matches!(byte, b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}') {
            escaped.push(byte as char);
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
        .parse::<http::Uri>()
        .map_err(|e| format!("invalid request URL: {e}"))
}

/// A header value from a JavaScript ByteString (each char one byte).
fn byte_string(value: &str) -> Option<HeaderValue> {
    let bytes = value
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<Vec<u8>>>()?;
    HeaderValue::from_bytes(&bytes).ok()
}

/// `http::Response<Body>` → `web_sys::Response`.
fn to_web_response(response: http::Response<Body>) -> Result<web_sys::Response, JsValue> {
    let (parts, body) = response.into_parts();
    let headers = web_sys::Headers::new()?;
    for (name, value) in &parts.headers {
        let value = match value.to_str() {
            Ok(value) => value.to_owned(),
            Err(_) => value.as_bytes().iter().map(|&b| char::from(b)).collect(),
        };
        headers.append(name.as_str(), &value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(parts.status.as_u16());
    init.set_headers(&headers);

    // A null-body status must not get a body, not even an empty one.
    let null_body = matches!(parts.status.as_u16(), 101 | 103 | 204 | 205 | 304);
    if null_body || body.is_empty() {
        return web_sys::Response::new_with_opt_readable_stream_and_init(None, &init);
    }
    if let Some(bytes) = body.as_bytes() {
        // A small in-memory body (JSON, errors): one copy out of wasm memory.
        let array = Uint8Array::from(bytes);
        return web_sys::Response::new_with_opt_js_u8_array_and_init(Some(&array), &init);
    }
    let stream = body.into_js_stream();
    web_sys::Response::new_with_opt_readable_stream_and_init(stream.as_ref(), &init)
}
