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

use crate::transport::Body;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};

/// The methods PocketBase's CORS middleware allows.
const CORS_ALLOW_METHODS: &str = "GET,HEAD,PUT,PATCH,POST,DELETE";

/// Answers one API request.
pub async fn handle(request: Request<Body>) -> Response<Body> {
    let has_origin = request.headers().contains_key(header::ORIGIN);
    let preflight_request = request.method() == Method::OPTIONS;
    let mut response = if preflight_request {
        preflight(&request)
    } else {
        let head = request.method() == Method::HEAD;
        let response = match route(request.method(), request.uri().path()) {
            Some(Route::Health) => health().await,
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

/// Every route of the API. One variant per endpoint; path parameters go in the variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET`/`HEAD /api/health`
    Health,
}

/// Maps a method and path to a route. Paths match exactly, as in PocketBase (no
/// trailing-slash or case folding); `HEAD` is accepted wherever `GET` is.
pub fn route(method: &Method, path: &str) -> Option<Route> {
    let get = method == Method::GET || method == Method::HEAD;
    match path {
        "/api/health" if get => Some(Route::Health),
        _ => None,
    }
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

#[cfg(test)]
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
        let response = block_on(handle(request));
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
        let response = block_on(handle(request("GET", "/api/health")));
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
        let response = block_on(handle(request("HEAD", "/api/health")));
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
            assert_eq!(
                body,
                serde_json::json!({
                    "data": {},
                    "message": "The requested resource wasn't found.",
                    "status": 404
                }),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn not_found_bytes_match_pocketbase() {
        let response = block_on(handle(request("GET", "/nope")));
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"data":{},"message":"The requested resource wasn't found.","status":404}"#
        );
    }

    #[test]
    fn head_of_unknown_path_is_404_without_body() {
        let response = block_on(handle(request("HEAD", "/api/nope")));
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
        let response = block_on(handle(req));
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
        let response = block_on(handle(request("OPTIONS", "/api/nope")));
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
