//! The admin page through the whole API (`edgefs::api::handle`), natively: `/_/` and its
//! files are answered before the API's routes, with the page's own headers, and nothing
//! else changes (other methods, preflights and the API's paths are the API's).
#![cfg(not(target_arch = "wasm32"))]

use edgefs::api::{handle, App, Env};
use edgefs::Body;
use http::{Request, Response};

fn send(method: &str, uri: &str, headers: &[(&str, &str)]) -> Response<Body> {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let app = App::in_memory(Env::from_lookup(|_| None));
    futures::executor::block_on(handle(&app, request.body(Body::empty()).unwrap()))
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn text(response: Response<Body>) -> String {
    let bytes = futures::executor::block_on(response.into_body().collect(1 << 20)).unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn the_page_is_served_with_its_headers() {
    let page = send("GET", "http://worker.test/_/", &[]);
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-type"), Some("text/html; charset=utf-8"));
    let csp = header(&page, "content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&page, "x-frame-options"), Some("DENY"));
    assert_eq!(header(&page, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&page, "cache-control"), Some("no-cache"));
    let length: usize = header(&page, "content-length").unwrap().parse().unwrap();
    let etag = header(&page, "etag").unwrap().to_owned();
    let html = text(page);
    assert_eq!(html.len(), length);
    assert!(html.contains(r#"<script type="module" src="admin.js"></script>"#));

    let again = send("GET", "/_/", &[("if-none-match", &etag)]);
    assert_eq!(again.status(), 304);
    assert!(again.body().is_empty());

    let head = send("HEAD", "/_/", &[]);
    assert_eq!(head.status(), 200);
    assert!(head.body().is_empty());
    assert_eq!(header(&head, "content-length"), Some(length.to_string().as_str()));
}

#[test]
fn its_files_have_their_types() {
    for (path, content_type) in [
        ("/_/admin.js", "text/javascript; charset=utf-8"),
        ("/_/admin.css", "text/css; charset=utf-8"),
        ("/_/favicon.svg", "image/svg+xml"),
    ] {
        let response = send("GET", path, &[]);
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-type"), Some(content_type), "{path}");
        assert_eq!(header(&response, "x-frame-options"), Some("DENY"), "{path}");
    }
    let redirect = send("GET", "/_", &[]);
    assert_eq!(redirect.status(), 308);
    assert_eq!(header(&redirect, "location"), Some("/_/"));
    for path in ["/_/missing.js", "/_/admin.js/", "/_/../api/health", "/_//"] {
        let response = send("GET", path, &[]);
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(header(&response, "x-frame-options"), Some("DENY"), "{path}");
    }
}

#[test]
fn the_api_keeps_everything_else() {
    // Other methods on the page's paths are the API's 404; a preflight is the API's.
    let post = send("POST", "/_/", &[]);
    assert_eq!(post.status(), 404);
    assert_eq!(header(&post, "x-frame-options"), Some("SAMEORIGIN"));
    let preflight = send(
        "OPTIONS",
        "/_/",
        &[("origin", "http://app.test"), ("access-control-request-method", "GET")],
    );
    assert_eq!(preflight.status(), 204);
    let health = send("GET", "/api/health", &[]);
    assert_eq!(health.status(), 200);
    assert_eq!(header(&health, "x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(header(&health, "content-security-policy"), None);
    for path in ["/_x", "/__/", "/admin"] {
        assert_eq!(send("GET", path, &[]).status(), 404, "{path}");
    }
}
