//! The HTTP API, platform-free: `http::Request` in, `http::Response` out.
//!
//! [`handle`] is the whole API: the Worker glue (and any other host) converts its own
//! request type into an `http::Request<Body>`, calls it, and converts the answer back.
//! Nothing here touches a platform, so everything is testable natively.
//!
//! Requests go through three steps:
//! 1. CORS preflights (`OPTIONS`) are answered directly, as PocketBase's CORS middleware
//!    does (any origin, the usual methods, the requested headers echoed);
//! 2. [`route`] maps the method and path to a [`Route`] — **add new routes there** and
//!    give each one a small `async fn` below;
//! 3. the answer gets PocketBase's default headers (security headers and, for a request
//!    with an `Origin`, `Access-Control-Allow-Origin: *`).
//!
//! Errors use PocketBase's error shape: `{"data":{},"message":…,"status":…}`.

// Route helpers return an early answer as `Err(Response)`: it is the value the route
// gives back anyway, so boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

mod admin;
mod app;
mod auth;
mod collections;
pub mod edge_cache;
mod files;
pub mod form;
mod records;
mod settings;
mod storage;

#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub use app::NativePlatform;
pub use app::{App, Env, Platform, COLLECTIONS_KEY, SETTINGS_KEY};
pub use auth::{Caller, SUPERUSERS_COLLECTION_ID, SUPERUSERS_COLLECTION_NAME};
pub use settings::Settings;

use crate::transport::Body;
use form::FormFile;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};

/// The methods PocketBase's CORS middleware allows.
const CORS_ALLOW_METHODS: &str = "GET,HEAD,PUT,PATCH,POST,DELETE";

/// The largest JSON body read (PocketBase's default body limit is 32 MiB; edgefs's
/// JSON bodies are records, settings and collections).
const JSON_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Answers one API request. Errors are answers too, in PocketBase's error shape.
///
/// # Example
///
/// ```
/// use edgefs::api::{handle, App, Env};
/// use edgefs::Body;
///
/// // No AUTH_SECRET: the API runs, and refuses to sign anyone in.
/// let app = App::in_memory(Env::from_lookup(|_| None));
/// let request = http::Request::get("/api/health").body(Body::empty()).unwrap();
/// let response = futures::executor::block_on(handle(&app, request));
/// assert_eq!(response.status(), 200);
///
/// let body = futures::executor::block_on(response.into_body().collect(64 * 1024)).unwrap();
/// let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
/// assert_eq!(health["message"], "API is healthy.");
/// ```
pub async fn handle(app: &App, request: Request<Body>) -> Response<Body> {
    // The admin page (`/_/`, src/api/admin.rs): static files, before the API's routes.
    if let Some(page) = admin::serve(&request) {
        return page;
    }
    let has_origin = request.headers().contains_key(header::ORIGIN);
    let preflight_request = request.method() == Method::OPTIONS;
    let mut response = if preflight_request {
        preflight(&request)
    } else {
        let head = request.method() == Method::HEAD;
        let response = match route(request.method(), request.uri().path()) {
            Some(route) => dispatch(app, route, request).await,
            // PocketBase hands a GET that matches none of its routes to its static file
            // server ("File not found."). Under its records and files routes a bad
            // segment (`%2e%2e`, which the runtime's URL parser has already resolved
            // by the time the Worker sees the path) still matched a route there, whose
            // handler answers the generic 404.
            None if (head || request.method() == Method::GET) && !under_record_or_file_routes(request.uri().path()) => {
                error(StatusCode::NOT_FOUND, "File not found.")
            }
            None => not_found(),
        };
        if head {
            without_body(response)
        } else {
            response
        }
    };
    default_headers(&mut response, preflight_request, has_origin);
    response
}

async fn dispatch(app: &App, route: Route, request: Request<Body>) -> Response<Body> {
    let caller = auth::caller(app, request.headers());
    match route {
        Route::Health => health().await,
        Route::SuperuserAuthWithPassword => {
            let client = auth::client_address(request.headers());
            auth::auth_with_password(app, &client, read_json(request).await)
        }
        Route::SuperuserAuthRefresh => auth::auth_refresh(app, &caller),
        Route::FileToken => auth::file_token(app, &caller),
        Route::File(c, id, name) => files::download(app, &request, &caller, &c, &id, &name).await,
        Route::CollectionsList => collections::list(app, &caller, &request).await,
        Route::CollectionView(c) => collections::view(app, &caller, &c).await,
        Route::CollectionsImport => collections::import(app, &caller, read_json(request).await).await,
        Route::RecordsList(c) => records::list(app, &caller, &request, &c).await,
        Route::RecordView(c, id) => records::view(app, &caller, &request, &c, &id).await,
        Route::RecordCreate(c) => records::create(app, &caller, Submission::new(request), &c).await,
        Route::RecordUpdate(c, id) => records::update(app, &caller, Submission::new(request), &c, &id).await,
        Route::RecordDelete(c, id) => records::delete(app, &caller, &c, &id).await,
        Route::SettingsGet => settings::get(app, &caller).await,
        Route::SettingsPatch => settings::patch(app, &caller, read_json(request).await).await,
        Route::SettingsTestS3 => settings::test_s3(app, &caller, read_json(request).await).await,
        Route::Storage => storage::get(app, &caller).await,
        Route::StorageMigrate => storage::migrate(app, &caller, read_json(request).await).await,
    }
}

/// Every route of the API. One variant per endpoint; path parameters (percent-decoded)
/// go in the variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET`/`HEAD /api/health`
    Health,
    /// `POST /api/collections/_superusers/auth-with-password`
    SuperuserAuthWithPassword,
    /// `POST /api/collections/_superusers/auth-refresh`
    SuperuserAuthRefresh,
    /// `POST /api/files/token`
    FileToken,
    /// `GET`/`HEAD /api/files/{collection}/{recordId}/{filename}`
    File(String, String, String),
    /// `GET /api/collections`
    CollectionsList,
    /// `GET /api/collections/{idOrName}`
    CollectionView(String),
    /// `PUT /api/collections/import`
    CollectionsImport,
    /// `GET /api/collections/{c}/records`
    RecordsList(String),
    /// `POST /api/collections/{c}/records`
    RecordCreate(String),
    /// `GET /api/collections/{c}/records/{id}`
    RecordView(String, String),
    /// `PATCH /api/collections/{c}/records/{id}`
    RecordUpdate(String, String),
    /// `DELETE /api/collections/{c}/records/{id}`
    RecordDelete(String, String),
    /// `GET /api/settings`
    SettingsGet,
    /// `PATCH /api/settings`
    SettingsPatch,
    /// `POST /api/settings/test/s3`
    SettingsTestS3,
    /// `GET /api/storage`: the backend serving files, and those a migration may name
    Storage,
    /// `POST /api/storage/migrate`: one batch of a migration between backends
    StorageMigrate,
}

fn under_record_or_file_routes(path: &str) -> bool {
    path.starts_with("/api/files/") || path.starts_with("/api/collections/")
}

/// Maps a method and path to a route. Paths match exactly, as in PocketBase (no
/// trailing-slash or case folding); `HEAD` is accepted wherever `GET` is. A path
/// segment that does not percent-decode to UTF-8 matches nothing.
pub fn route(method: &Method, path: &str) -> Option<Route> {
    let get = method == Method::GET || method == Method::HEAD;
    let segments: Vec<String> = path
        .strip_prefix("/api/")?
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
        })
        .collect::<Result<_, _>>()
        .ok()?;
    if segments.iter().any(String::is_empty) {
        return None;
    }
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = method.clone();
    Some(match (s.as_slice(), m) {
        (["health"], _) if get => Route::Health,
        (["collections", "_superusers", "auth-with-password"], Method::POST) => Route::SuperuserAuthWithPassword,
        (["collections", "_superusers", "auth-refresh"], Method::POST) => Route::SuperuserAuthRefresh,
        (["files", "token"], Method::POST) => Route::FileToken,
        (["files", c, id, name], _) if get => Route::File(c.to_string(), id.to_string(), name.to_string()),
        (["collections"], _) if get => Route::CollectionsList,
        (["collections", "import"], Method::PUT) => Route::CollectionsImport,
        (["collections", c], _) if get => Route::CollectionView(c.to_string()),
        (["collections", c, "records"], _) if get => Route::RecordsList(c.to_string()),
        (["collections", c, "records"], Method::POST) => Route::RecordCreate(c.to_string()),
        (["collections", c, "records", id], _) if get => Route::RecordView(c.to_string(), id.to_string()),
        (["collections", c, "records", id], Method::PATCH) => Route::RecordUpdate(c.to_string(), id.to_string()),
        (["collections", c, "records", id], Method::DELETE) => Route::RecordDelete(c.to_string(), id.to_string()),
        (["settings"], _) if get => Route::SettingsGet,
        (["settings"], Method::PATCH) => Route::SettingsPatch,
        (["settings", "test", "s3"], Method::POST) => Route::SettingsTestS3,
        (["storage"], _) if get => Route::Storage,
        (["storage", "migrate"], Method::POST) => Route::StorageMigrate,
        _ => return None,
    })
}

/// The body of a create or update, read once the route has decided it wants it.
pub(crate) struct Submission {
    body: Body,
    content_type: String,
}

impl Submission {
    fn new(request: Request<Body>) -> Submission {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        Submission {
            body: request.into_body(),
            content_type,
        }
    }

    /// The submitted fields and files: a multipart form, or a JSON object. A body whose
    /// length is over `limit` is PocketBase's 413, refused before it is read.
    async fn read(self, app: &App, limit: u64) -> Result<(Map<String, Value>, Vec<FormFile>), Response<Body>> {
        if self.body.len().is_some_and(|length| length > limit) {
            return Err(too_large());
        }
        if form::multipart_boundary(&self.content_type).is_some() {
            let form = app
                .platform()
                .read_form(self.body, &self.content_type, limit)
                .await
                .map_err(|e| match e {
                    crate::Error::TooLarge(_) => too_large(),
                    e => unreadable(&e.to_string()),
                })?;
            let fields = form.to_json().map_err(|e| unreadable(&e))?;
            return Ok((fields, form.files));
        }
        match json_body(self.body).await.map_err(|reason| unreadable(&reason))? {
            Value::Object(fields) => Ok((fields, Vec::new())),
            _ => Err(unreadable("the body must be a JSON object")),
        }
    }
}

/// PocketBase's 413 for a body over the route's limit.
fn too_large() -> Response<Body> {
    error(StatusCode::PAYLOAD_TOO_LARGE, "Request entity too large.")
}

/// 400 "Failed to read the submitted data." with the reason in `data.body`.
fn unreadable(reason: &str) -> Response<Body> {
    with_data(
        StatusCode::BAD_REQUEST,
        "Failed to read the submitted data.",
        serde_json::json!({"body": {"code": "validation_invalid_body", "message": reason}}),
    )
}

/// A JSON body; an empty body is `{}`. The error is the reason it cannot be read.
async fn json_body(body: Body) -> Result<Value, String> {
    // Refused before reading when the length says so: the host then drains the body
    // without it passing through here.
    if body.len().is_some_and(|length| length > JSON_BODY_LIMIT as u64) {
        return Err(format!(
            "the body is over the {} MiB limit for JSON",
            JSON_BODY_LIMIT / (1024 * 1024)
        ));
    }
    let bytes = body.collect(JSON_BODY_LIMIT).await.map_err(|e| e.to_string())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("invalid JSON: {e}"))
}

/// PocketBase's 400 for a body a route other than the records API cannot load; the
/// reason, which PocketBase leaves out, is in `data.body`.
fn not_loaded(reason: &str) -> Response<Body> {
    with_data(
        StatusCode::BAD_REQUEST,
        "An error occurred while loading the submitted data.",
        serde_json::json!({"body": {"code": "validation_invalid_body", "message": reason}}),
    )
}

/// A request's JSON body, for routes that take only JSON (settings, imports, sign-in).
async fn read_json(request: Request<Body>) -> Result<Value, Response<Body>> {
    match json_body(request.into_body()).await {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(not_loaded("the body must be a JSON object")),
        Err(reason) => Err(not_loaded(&reason)),
    }
}

/// The query string's pairs, percent-decoded (`+` is a space, as in forms).
pub(crate) fn query_pairs(uri: &http::Uri) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_encoding::percent_decode_str(&s)
            .decode_utf8_lossy()
            .into_owned()
    };
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// The first value of a query parameter.
pub(crate) fn query_param(uri: &http::Uri, name: &str) -> Option<String> {
    query_pairs(uri).into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// `GET /api/health`: `{"message":"API is healthy.","code":200,"data":{}}`.
async fn health() -> Response<Body> {
    #[derive(Serialize)]
    struct Health<'a> {
        message: &'a str,
        code: u16,
        data: Map<String, Value>,
    }
    json(
        StatusCode::OK,
        &Health {
            message: "API is healthy.",
            code: 200,
            data: Map::new(),
        },
    )
}

/// An error answer with `data` (field errors, a diagnosis).
pub fn with_data(status: StatusCode, message: &str, data: Value) -> Response<Body> {
    #[derive(Serialize)]
    struct ApiErrorWithData<'a> {
        data: Value,
        message: &'a str,
        status: u16,
    }
    json(
        status,
        &ApiErrorWithData {
            data,
            message,
            status: status.as_u16(),
        },
    )
}

/// PocketBase's 400 for a bad list filter or sort.
pub fn bad_request() -> Response<Body> {
    error(
        StatusCode::BAD_REQUEST,
        "Something went wrong while processing your request.",
    )
}

/// An empty 204. (Built without `Response::builder()`, whose `expect` would link
/// `http::Error`'s `Debug` into the Worker.)
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// A 500 that says what failed (backend errors carry no secrets).
pub fn internal(message: &str) -> Response<Body> {
    error(StatusCode::INTERNAL_SERVER_ERROR, message)
}

/// PocketBase's error document, in PocketBase's key order.
#[derive(Serialize)]
struct ApiError<'a> {
    data: Map<String, Value>,
    message: &'a str,
    status: u16,
}

/// An error answer in PocketBase's shape.
pub fn error(status: StatusCode, message: &str) -> Response<Body> {
    json(
        status,
        &ApiError {
            data: Map::new(),
            message,
            status: status.as_u16(),
        },
    )
}

/// 404 `{"data":{},"message":"The requested resource wasn't found.","status":404}`.
pub fn not_found() -> Response<Body> {
    error(StatusCode::NOT_FOUND, "The requested resource wasn't found.")
}

/// A JSON answer with `Content-Type: application/json` and its `Content-Length`.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = status;
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            *response.body_mut() = Body::from(bytes);
            response
        }
        Err(_) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}

/// The answer to a `HEAD`: the same status and headers (including `Content-Length`),
/// no body.
fn without_body(response: Response<Body>) -> Response<Body> {
    let (parts, _) = response.into_parts();
    Response::from_parts(parts, Body::empty())
}

/// A CORS preflight, as PocketBase answers it: 204, any origin, the usual methods,
/// the requested headers echoed back.
fn preflight(request: &Request<Body>) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    if request.headers().contains_key(header::ORIGIN) {
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(CORS_ALLOW_METHODS),
        );
        if let Some(requested) = request.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
        }
    }
    response
}

/// PocketBase's default response headers: CORS (`Vary: Origin` always,
/// `Access-Control-Allow-Origin: *` for requests with an `Origin`), and its security
/// headers on every answer that is not a preflight.
fn default_headers(response: &mut Response<Body>, preflight: bool, has_origin: bool) {
    let headers = response.headers_mut();
    if has_origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if preflight {
        if has_origin {
            headers.append(header::VARY, HeaderValue::from_static("Access-Control-Request-Method"));
            headers.append(header::VARY, HeaderValue::from_static("Access-Control-Request-Headers"));
        }
        return;
    }
    for (name, value) in [
        ("cross-origin-opener-policy", "same-origin"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "SAMEORIGIN"),
        ("x-xss-protection", "1; mode=block"),
    ] {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
}

#[cfg(all(test, feature = "native", not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    /// Runs a future to completion on this thread (the API's futures need no reactor).
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            std::thread::yield_now();
        }
    }

    fn request(method: &str, uri: &str) -> Request<Body> {
        Request::builder().method(method).uri(uri).body(Body::empty()).unwrap()
    }

    fn send(request: Request<Body>) -> (Response<Body>, Value) {
        let response = block_on(handle(&App::in_memory(Env::default()), request));
        let bytes = response.body().as_bytes().expect("in-memory body").to_vec();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        (response, value)
    }

    fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
        response.headers().get(name).map(|v| v.to_str().unwrap())
    }

    #[test]
    fn health_is_ok() {
        let (response, body) = send(request("GET", "http://worker.test/api/health"));
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), Some("application/json"));
        assert_eq!(
            body,
            serde_json::json!({"code": 200, "message": "API is healthy.", "data": {}})
        );
        assert_eq!(
            header(&response, "content-length"),
            Some(response.body().len().unwrap().to_string().as_str())
        );
    }

    #[test]
    fn health_bytes_match_pocketbase() {
        let response = block_on(handle(&App::in_memory(Env::default()), request("GET", "/api/health")));
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"message":"API is healthy.","code":200,"data":{}}"#
        );
    }

    #[test]
    fn health_ignores_the_query() {
        let (response, body) = send(request("GET", "/api/health?fields=code"));
        assert_eq!(response.status(), 200);
        assert_eq!(body["message"], "API is healthy.");
    }

    #[test]
    fn head_health_has_headers_and_no_body() {
        let response = block_on(handle(&App::in_memory(Env::default()), request("HEAD", "/api/health")));
        assert_eq!(response.status(), 200);
        assert!(response.body().is_empty());
        assert_eq!(header(&response, "content-type"), Some("application/json"));
        assert_eq!(header(&response, "content-length"), Some("50"));
    }

    #[test]
    fn unknown_paths_are_pocketbase_404s() {
        for (method, path) in [
            ("GET", "/"),
            ("GET", "/api"),
            ("GET", "/api/"),
            ("GET", "/api/health/"),
            ("GET", "/API/health"),
            ("GET", "/api/nope"),
            ("POST", "/api/health"),
            ("DELETE", "/api/health"),
            ("PUT", "/anything/at/all"),
        ] {
            let (response, body) = send(request(method, path));
            assert_eq!(response.status(), 404, "{method} {path}");
            assert_eq!(header(&response, "content-type"), Some("application/json"));
            // As PocketBase 0.40.6 answers (measured): an unknown GET reaches its static
            // file server, anything else its router's 404.
            let message = if method == "GET" {
                "File not found."
            } else {
                "The requested resource wasn't found."
            };
            assert_eq!(
                body,
                serde_json::json!({"data": {}, "message": message, "status": 404}),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn not_found_bytes_match_pocketbase() {
        let response = block_on(handle(&App::in_memory(Env::default()), request("POST", "/nope")));
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"data":{},"message":"The requested resource wasn't found.","status":404}"#
        );
    }

    #[test]
    fn head_of_unknown_path_is_404_without_body() {
        let response = block_on(handle(&App::in_memory(Env::default()), request("HEAD", "/api/nope")));
        assert_eq!(response.status(), 404);
        assert!(response.body().is_empty());
    }

    #[test]
    fn security_headers_as_in_pocketbase() {
        let (response, _) = send(request("GET", "/api/health"));
        assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&response, "x-frame-options"), Some("SAMEORIGIN"));
        assert_eq!(header(&response, "x-xss-protection"), Some("1; mode=block"));
        assert_eq!(header(&response, "cross-origin-opener-policy"), Some("same-origin"));
        assert_eq!(header(&response, "vary"), Some("Origin"));
        assert_eq!(header(&response, "access-control-allow-origin"), None);
    }

    #[test]
    fn cors_for_requests_with_an_origin() {
        let mut req = request("GET", "/api/health");
        req.headers_mut()
            .insert(header::ORIGIN, HeaderValue::from_static("http://app.test"));
        let (response, _) = send(req);
        assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
    }

    #[test]
    fn cors_preflight() {
        let mut req = request("OPTIONS", "/api/collections/posts/records");
        req.headers_mut()
            .insert(header::ORIGIN, HeaderValue::from_static("http://app.test"));
        req.headers_mut()
            .insert(header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_static("PATCH"));
        req.headers_mut().insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("authorization,content-type"),
        );
        let response = block_on(handle(&App::in_memory(Env::default()), req));
        assert_eq!(response.status(), 204);
        assert!(response.body().is_empty());
        assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
        assert_eq!(
            header(&response, "access-control-allow-methods"),
            Some("GET,HEAD,PUT,PATCH,POST,DELETE")
        );
        assert_eq!(
            header(&response, "access-control-allow-headers"),
            Some("authorization,content-type")
        );
        let vary: Vec<_> = response.headers().get_all("vary").iter().collect();
        assert_eq!(
            vary,
            [
                "Origin",
                "Access-Control-Request-Method",
                "Access-Control-Request-Headers"
            ]
        );
        assert_eq!(header(&response, "x-frame-options"), None);
        assert_eq!(header(&response, "content-type"), None);
    }

    #[test]
    fn options_without_origin_is_a_bare_204() {
        let response = block_on(handle(&App::in_memory(Env::default()), request("OPTIONS", "/api/nope")));
        assert_eq!(response.status(), 204);
        assert_eq!(header(&response, "access-control-allow-origin"), None);
        assert_eq!(header(&response, "access-control-allow-methods"), None);
        assert_eq!(header(&response, "vary"), Some("Origin"));
    }

    #[test]
    fn routes() {
        assert_eq!(route(&Method::GET, "/api/health"), Some(Route::Health));
        assert_eq!(route(&Method::HEAD, "/api/health"), Some(Route::Health));
        assert_eq!(route(&Method::POST, "/api/health"), None);
        assert_eq!(route(&Method::GET, "/api/health/"), None);
    }
}
