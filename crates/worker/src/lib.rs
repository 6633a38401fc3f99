#![cfg(all(target_arch = "wasm32", target_os = "unknown"))]
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
//! `ReadableStream` (never copied into wasm memory); [`edgefs::api::handle`] answers it;
//! the `http::Response<Body>` goes back as a `web_sys::Response` whose body is the
//! runtime's stream again, or a `Uint8Array` for a small in-memory body.
//!
//! Unit tests of this crate never get these exports (`cfg(not(test))`): an exported
//! `fetch` would shadow the global one in a browser test page.

#[cfg(feature = "workerd-tests")]
mod workerd_tests;

use edgefs::api::edge_cache::EdgeCache;
use edgefs::api::form::{Form, FormFile};
use edgefs::api::{App, Env, Platform};
use edgefs::companion::{Answer, Companion, CompanionConfig};
use edgefs::s3::S3Settings;
use edgefs::storage::{choose_backends, Kv, Memory, S3Storage, Storage, KV_BINDING, R2, R2_BINDING};
use edgefs::transport::fetch::FetchTransport;
use edgefs::transport::{Body, BoxFuture};
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use http::StatusCode;
use js_sys::Reflect;
use js_sys::Uint8Array;
use std::cell::RefCell;
use std::panic;
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Talc instead of the standard library's dlmalloc: 2.7 KiB less of the Worker's gzip
/// (BENCHMARKS.md) and faster. Only in the Worker build (the `worker` feature), which
/// is a program of its own; the library leaves the allocator to its user.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen(module = "/src/glue.js")]
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

/// The most of an unread request body drained before an answer (see [`fetch`]).
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

/// The Worker's `fetch` handler.
#[cfg_attr(not(test), wasm_bindgen)]
#[allow(dead_code)]
pub async fn fetch(request: web_sys::Request, env: JsValue, ctx: JsValue) -> Result<web_sys::Response, JsValue> {
    // The test build only (`--features workerd-tests`): the storage conformance route.
    #[cfg(feature = "workerd-tests")]
    if let Some(response) = crate::workerd_tests::handle(&request, &env).await {
        return response;
    }
    if let Some(companion) = companion(&env) {
        return companion_fetch(companion, request, &ctx).await;
    }
    let app = app(&env);
    let request_body = request.body();
    let response = match to_http_request(&request) {
        Ok(parsed) => {
            // A public file kept at the edge is answered from there (with the cache's
            // own Range and 304 answers), reading neither the record nor the object.
            if let Some(key) = edgefs::api::edge_cache::lookup_key(&app, &parsed).await {
                let hit = JsFuture::from(edge_cache_match(&key, &request, true)).await?;
                if !hit.is_undefined() {
                    return Ok(hit.unchecked_into());
                }
            }
            edgefs::api::handle(&app, parsed).await
        }
        Err(message) => edgefs::api::error(StatusCode::BAD_REQUEST, &message),
    };
    // An answer given before the body was read (a denial, a 404): the body is still
    // arriving, and workerd resets the connection if the Worker answers before it has
    // all been read (measured: even a drain under waitUntil loses the race). So it is
    // drained, in JavaScript, before the answer goes out — up to DRAIN_LIMIT bytes:
    // past that the rest is cancelled and the client may see a reset instead of the
    // answer, which is better than reading an endless body.
    if let Some(stream) = request_body {
        if !stream.locked() {
            let _ = JsFuture::from(drain(&stream, DRAIN_LIMIT as f64)).await;
        }
    }
    let edge_cache = response.extensions().get::<EdgeCache>().cloned();
    let response = to_web_response(response)?;
    match edge_cache {
        Some(EdgeCache::Keep { key, time }) => Ok(edge_cache_put(&ctx, &key, response, time.as_secs() as f64)),
        Some(EdgeCache::Drop(keys)) => {
            let keys: js_sys::Array = keys.iter().map(|key| JsValue::from_str(key)).collect();
            JsFuture::from(edge_cache_delete(&keys)).await?;
            Ok(response)
        }
        None => Ok(response),
    }
}

thread_local! {
    /// The API of this isolate, built from `env` on the first request. Its in-memory
    /// backend (when nothing is bound) lives as long as the isolate.
    static APP: RefCell<Option<Rc<App>>> = const { RefCell::new(None) };
}

/// The Worker's string variables and secrets by name.
fn env_lookup(env: &JsValue) -> impl Fn(&str) -> Option<String> + '_ {
    |name: &str| {
        Reflect::get(env, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
    }
}

fn app(env: &JsValue) -> Rc<App> {
    if let Some(app) = APP.with(|app| app.borrow().clone()) {
        return app;
    }
    let lookup = env_lookup(env);
    let kv: Option<Arc<dyn Storage>> = Kv::from_env(env, KV_BINDING).map(|kv| Arc::new(kv) as Arc<dyn Storage>);
    let r2: Option<Arc<dyn Storage>> = R2::from_env(env, R2_BINDING).map(|r2| Arc::new(r2) as Arc<dyn Storage>);
    let backends = choose_backends(r2, kv, || Arc::new(Memory::new()));
    let mut app = App::new(
        Env::from_lookup(lookup),
        backends.local,
        backends.config_store,
        Box::new(WorkerPlatform),
    );
    if let Some(d1) = D1::from_env(env) {
        app = app.with_database(Arc::new(d1));
    }
    let app = Rc::new(app);
    APP.with(|slot| *slot.borrow_mut() = Some(app.clone()));
    app
}

/// Companion mode as configured: off (`None`), on, or why its configuration is wrong.
type CompanionMode = Option<Result<Rc<Companion>, String>>;

thread_local! {
    /// This isolate's companion mode, read from `env` on the first request.
    static COMPANION: RefCell<Option<CompanionMode>> = const { RefCell::new(None) };
}

/// Companion mode, when `PB_ORIGIN` is set: PocketBase's files from PocketBase's bucket,
/// the R2 binding `BUCKET` or PocketBase's own `S3_*` settings.
fn companion(env: &JsValue) -> CompanionMode {
    if let Some(built) = COMPANION.with(|slot| slot.borrow().clone()) {
        return built;
    }
    let lookup = env_lookup(env);
    let built = CompanionConfig::from_lookup(&lookup).map(|config| {
        let config = config?;
        let bucket: Arc<dyn Storage> = match R2::from_env(env, R2_BINDING) {
            Some(r2) => Arc::new(r2),
            None => {
                let settings = S3Settings::from_lookup(&lookup).map_err(|e| e.to_string())?;
                if settings.bucket.trim().is_empty() {
                    return Err(format!(
                        "companion mode (PB_ORIGIN) needs the bucket PocketBase keeps its files in: \
                         bind it as the R2 binding {R2_BINDING}, or set PocketBase's S3 settings as \
                         S3_BUCKET, S3_REGION, S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY"
                    ));
                }
                WorkerPlatform.s3_storage(&settings).map_err(|e| e.to_string())?
            }
        };
        Ok(Rc::new(Companion::new(config, bucket, Arc::new(FetchTransport))))
    });
    COMPANION.with(|slot| *slot.borrow_mut() = Some(built.clone()));
    built
}

/// A request in companion mode: served from the bucket, or sent on to PocketBase.
async fn companion_fetch(
    companion: Result<Rc<Companion>, String>,
    request: web_sys::Request,
    ctx: &JsValue,
) -> Result<web_sys::Response, JsValue> {
    let companion = match companion {
        Ok(companion) => companion,
        Err(message) => return to_web_response(edgefs::api::error(StatusCode::INTERNAL_SERVER_ERROR, &message)),
    };
    // The companion reads a body only for the purge route; otherwise the request's
    // stream is left unread for the proxy.
    let http_request = match to_http_request(&request) {
        Ok(parsed) => parsed,
        Err(message) => return to_web_response(edgefs::api::error(StatusCode::BAD_REQUEST, &message)),
    };
    if let Some(key) = companion.edge_cache_key(&http_request) {
        let hit = JsFuture::from(edge_cache_match(&key, &request, false)).await?;
        if !hit.is_undefined() {
            return Ok(hit.unchecked_into());
        }
    }
    let uri = http_request.uri().clone();
    match companion.handle(http_request).await {
        Answer::Respond(response) => to_web_response(response),
        Answer::RespondAndCache { response, key, time } => {
            let response = to_web_response(response)?;
            Ok(edge_cache_put(ctx, &key, response, time.as_secs() as f64))
        }
        Answer::Purge { keys, response } => {
            let keys: js_sys::Array = keys.iter().map(|key| JsValue::from_str(key)).collect();
            JsFuture::from(edge_cache_delete(&keys)).await?;
            to_web_response(response)
        }
        Answer::Proxy(reason) => {
            let url = companion.origin_url(&uri);
            let timeout = companion.timeout().as_millis() as f64;
            let source = format!("pocketbase; {}", reason.as_str());
            let answer = JsFuture::from(proxy_to_pocketbase(
                &request,
                &url,
                &source,
                timeout,
                reason.about_a_file(),
            ))
            .await?;
            Ok(answer.unchecked_into())
        }
    }
}

/// The name of the D1 binding records live in (README, Records).
const D1_BINDING: &str = "DB";

/// A D1 database binding: each batch is one `db.batch()` (a transaction), its answer
/// handed back as JSON text (rows of texts, numbers and nulls).
struct D1(JsValue);

impl D1 {
    fn from_env(env: &JsValue) -> Option<D1> {
        let db = Reflect::get(env, &JsValue::from_str(D1_BINDING)).ok()?;
        // A D1 binding has `prepare` and `batch`; anything else bound as DB is not one.
        let is_d1 = Reflect::get(&db, &JsValue::from_str("batch")).is_ok_and(|f| f.is_function());
        is_d1.then_some(D1(db))
    }
}

impl edgefs::records::sql::Database for D1 {
    fn batch<'a>(
        &'a self,
        statements: &'a [edgefs::records::sql::Statement],
    ) -> BoxFuture<'a, Result<Vec<edgefs::records::sql::Outcome>, edgefs::Error>> {
        use edgefs::records::sql::SqlValue;
        Box::pin(async move {
            let list = js_sys::Array::new();
            for statement in statements {
                let params: js_sys::Array = statement
                    .params
                    .iter()
                    .map(|p| match p {
                        SqlValue::Null => JsValue::NULL,
                        SqlValue::Integer(i) => JsValue::from_f64(*i as f64),
                        SqlValue::Real(f) => JsValue::from_f64(*f),
                        SqlValue::Text(t) => JsValue::from_str(t),
                    })
                    .collect();
                list.push(&js_sys::Array::of2(&JsValue::from_str(&statement.sql), &params));
            }
            let failed = |e: JsValue| {
                let message = e
                    .dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
                    .unwrap_or_else(|| format!("{e:?}"));
                edgefs::Error::backend("d1", message)
            };
            let answer = JsFuture::from(d1_batch(&self.0, &list)).await.map_err(failed)?;
            let text = answer.as_string().unwrap_or_default();
            let outcomes: Vec<serde_json::Value> = serde_json::from_str(&text)
                .map_err(|e| edgefs::Error::backend("d1", format!("unreadable answer: {e}")))?;
            Ok(outcomes
                .into_iter()
                .map(|outcome| edgefs::records::sql::Outcome {
                    rows: outcome["rows"]
                        .as_array()
                        .map(|rows| rows.iter().filter_map(|r| r.as_object().cloned()).collect())
                        .unwrap_or_default(),
                    changes: outcome["changes"].as_u64().unwrap_or(0),
                })
                .collect())
        })
    }

    fn name(&self) -> &'static str {
        "d1"
    }
}

/// The Workers runtime as the API's platform: S3 over `fetch`, forms by `formData()`.
struct WorkerPlatform;

impl Platform for WorkerPlatform {
    fn s3_storage(&self, settings: &S3Settings) -> Result<Arc<dyn Storage>, edgefs::Error> {
        let client = edgefs::S3Client::new(settings, FetchTransport)?;
        Ok(Arc::new(S3Storage::new(client)))
    }

    fn read_form<'a>(
        &'a self,
        body: Body,
        content_type: &'a str,
        limit: u64,
    ) -> BoxFuture<'a, Result<Form, edgefs::Error>> {
        Box::pin(async move {
            let body = match body.into_bytes() {
                Ok(bytes) => JsValue::from(Uint8Array::from(bytes.as_ref())),
                Err(body) => body.into_js_stream().map(JsValue::from).unwrap_or(JsValue::NULL),
            };
            let invalid = |e: JsValue| {
                let message = e
                    .dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
                    .unwrap_or_else(|| format!("{e:?}"));
                edgefs::Error::InvalidInput(format!("malformed multipart form: {message}"))
            };
            let parsed = JsFuture::from(read_form_js(&body, content_type, limit as f64, DRAIN_LIMIT as f64))
                .await
                .map_err(invalid)?;
            let get = |object: &JsValue, key: &str| {
                Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
            };
            if get(&parsed, "tooLarge").is_truthy() {
                return Err(edgefs::Error::TooLarge(limit));
            }
            let mut form = Form::default();
            let fields: js_sys::Array = get(&parsed, "fields").unchecked_into();
            for pair in fields.iter() {
                let pair: js_sys::Array = pair.unchecked_into();
                form.fields.push((
                    pair.get(0).as_string().unwrap_or_default(),
                    pair.get(1).as_string().unwrap_or_default(),
                ));
            }
            let files: js_sys::Array = get(&parsed, "files").unchecked_into();
            for file in files.iter() {
                let size = get(&file, "size").as_f64().unwrap_or(0.0) as u64;
                let stream: web_sys::ReadableStream = get(&file, "stream").unchecked_into();
                form.files.push(FormFile {
                    field: get(&file, "field").as_string().unwrap_or_default(),
                    filename: get(&file, "name").as_string().unwrap_or_default(),
                    size,
                    head: Uint8Array::new(&get(&file, "head")).to_vec(),
                    // The Blob's own stream: its bytes never enter wasm memory.
                    body: Body::from_js_stream(stream, Some(size)),
                });
            }
            Ok(form)
        })
    }
}

#[wasm_bindgen(module = "/src/glue.js")]
extern "C" {
    fn read_form_js(body: &JsValue, content_type: &str, limit: f64, drain_limit: f64) -> js_sys::Promise;
    fn d1_batch(db: &JsValue, statements: &js_sys::Array) -> js_sys::Promise;
    fn drain(stream: &web_sys::ReadableStream, limit: f64) -> js_sys::Promise;
    fn edge_cache_match(key: &str, request: &web_sys::Request, cors: bool) -> js_sys::Promise;
    fn edge_cache_put(ctx: &JsValue, key: &str, response: web_sys::Response, seconds: f64) -> web_sys::Response;
    fn edge_cache_delete(keys: &js_sys::Array) -> js_sys::Promise;
    fn proxy_to_pocketbase(
        request: &web_sys::Request,
        url: &str,
        source: &str,
        timeout_ms: f64,
        identity: bool,
    ) -> js_sys::Promise;
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
