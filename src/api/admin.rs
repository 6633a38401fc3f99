//! The admin page, `GET /_/`: static files from the repository's `admin/` folder,
//! bundled into the build with `include_str!` (so it is the same page natively, under
//! workerd and after `wrangler deploy`, and needs nothing from the internet).
//!
//! `/_` redirects to `/_/`; `/_/` is `index.html`; the page's other files are under
//! `/_/` by name. Each answer has its type, a strict Content-Security-Policy (no inline
//! script or style, nothing from another origin), `X-Frame-Options: DENY`,
//! `Cache-Control: no-cache` and an `ETag`, so a browser revalidates with one request
//! and gets a 304 while the Worker is the same. Anything else under `/_/` is a 404.

use crate::transport::Body;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};

/// The page's files: name under `/_/`, content type, content.
const FILES: &[(&str, &str, &str)] = &[
    ("", "text/html; charset=utf-8", include_str!("../../admin/index.html")),
    (
        "admin.js",
        "text/javascript; charset=utf-8",
        include_str!("../../admin/admin.js"),
    ),
    (
        "admin.css",
        "text/css; charset=utf-8",
        include_str!("../../admin/admin.css"),
    ),
    ("favicon.svg", "image/svg+xml", include_str!("../../admin/favicon.svg")),
];

/// The page's Content-Security-Policy: its own scripts, styles and API only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// The answer for a request under `/_`, or `None` when the request is not the admin
/// page's (another path, or a method other than `GET`/`HEAD`): the API answers it.
pub(crate) fn serve(request: &Request<Body>) -> Option<Response<Body>> {
    let if_none_match = request.headers().get(header::IF_NONE_MATCH);
    serve_path(request.method(), request.uri().path(), if_none_match)
}

fn serve_path(method: &Method, path: &str, if_none_match: Option<&HeaderValue>) -> Option<Response<Body>> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    if path == "/_" {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
        response
            .headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/_/"));
        return Some(with_page_headers(response));
    }
    let name = path.strip_prefix("/_/")?;
    let Some(&(_, content_type, content)) = FILES.iter().find(|(file, _, _)| *file == name) else {
        let mut response = super::error(StatusCode::NOT_FOUND, "File not found.");
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return Some(with_page_headers(response));
    };
    let etag = etag(content);
    let mut response = Response::new(Body::empty());
    let not_modified = if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    if not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
    } else {
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(content.len()));
        if method == Method::GET {
            *response.body_mut() = Body::from(content);
        }
    }
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    Some(with_page_headers(response))
}

/// The security headers of every answer of the page.
fn with_page_headers(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    response
}

/// A strong ETag from the content (64-bit FNV-1a): the same for the same build.
fn etag(content: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in content.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_page_and_its_files() {
        for (path, content_type) in [
            ("/_/", "text/html; charset=utf-8"),
            ("/_/admin.js", "text/javascript; charset=utf-8"),
            ("/_/admin.css", "text/css; charset=utf-8"),
        ] {
            let response = serve_path(&Method::GET, path, None).expect(path);
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(response.headers()[header::CONTENT_TYPE], content_type);
            assert_eq!(response.headers()["x-frame-options"], "DENY");
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
            assert!(!response.body().is_empty());
        }
    }

    #[test]
    fn revalidates_with_its_etag() {
        let first = serve_path(&Method::GET, "/_/", None).unwrap();
        let etag = first.headers()[header::ETAG].clone();
        let again = serve_path(&Method::GET, "/_/", Some(&etag)).unwrap();
        assert_eq!(again.status(), 304);
        assert!(again.body().is_empty());
    }

    #[test]
    fn redirects_and_refuses_the_rest() {
        let redirect = serve_path(&Method::GET, "/_", None).unwrap();
        assert_eq!(redirect.status(), 308);
        assert_eq!(redirect.headers()[header::LOCATION], "/_/");
        assert_eq!(serve_path(&Method::GET, "/_/nope.js", None).unwrap().status(), 404);
        assert_eq!(serve_path(&Method::GET, "/_/index.html/", None).unwrap().status(), 404);
        assert!(serve_path(&Method::POST, "/_/", None).is_none());
        assert!(serve_path(&Method::GET, "/api/health", None).is_none());
        assert!(serve_path(&Method::GET, "/_x", None).is_none());
    }

    #[test]
    fn head_has_the_length_and_no_body() {
        let response = serve_path(&Method::HEAD, "/_/", None).unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.body().is_empty());
        assert!(response.headers().contains_key(header::CONTENT_LENGTH));
    }
}
