//! The API end to end on the in-memory backend, natively: every route with its rules,
//! statuses and error shapes as PocketBase answers them. (The same flows run in the
//! Worker under workerd with PocketBase's SDK: tests/worker/sdk.test.mjs.)
#![cfg(not(target_arch = "wasm32"))]

use base64::Engine as _;
use edgefs::api::{handle, App, Env};
use edgefs::auth::JwtSigner;
use edgefs::{Body, Secret};
use http::{Request, Response};
use serde_json::{json, Map, Value};

const SECRET: &str = "test-auth-secret-0123456789abcdefghij";
const EMAIL: &str = "admin@example.test";
const PASSWORD: &str = "correct horse battery staple";

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

fn env() -> Env {
    Env::from_lookup(|name| match name {
        "AUTH_SECRET" => Some(SECRET.into()),
        "SUPERUSER_EMAIL" => Some(EMAIL.into()),
        "SUPERUSER_PASSWORD" => Some(PASSWORD.into()),
        _ => None,
    })
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.bytes)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

struct Client {
    app: App,
}

impl Client {
    fn new() -> Client {
        Client {
            app: App::in_memory(env()),
        }
    }

    fn send(&self, request: Request<Body>) -> Answer {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let response: Response<Body> = handle(&self.app, request).await;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect(usize::MAX).await.unwrap().to_vec();
            Answer { status, headers, bytes }
        })
    }

    fn request(&self, method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            builder = builder.header("authorization", token);
        }
        let body = match body {
            Some(value) => {
                builder = builder.header("content-type", "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap())
    }

    fn form(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Answer {
        let boundary = "edgefs-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, filename, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"));
        if let Some(token) = token {
            builder = builder.header("authorization", token);
        }
        self.send(builder.body(Body::from(body)).unwrap())
    }

    /// `PUT /api/collections/import` with `body` (`{"collections": […], "deleteMissing": …}`).
    fn import(&self, token: &str, body: Value) -> Answer {
        self.request("PUT", "/api/collections/import", Some(token), Some(body))
    }

    fn superuser(&self) -> String {
        let answer = self.request(
            "POST",
            "/api/collections/_superusers/auth-with-password",
            None,
            Some(json!({"identity": EMAIL, "password": PASSWORD})),
        );
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.bytes));
        answer.json()["token"].as_str().unwrap().to_owned()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A user's auth token, as an app that shares `AUTH_SECRET` signs it.
fn user_token(id: &str) -> String {
    let mut claims = Map::new();
    claims.insert("id".into(), json!(id));
    claims.insert("type".into(), json!("auth"));
    claims.insert("collectionId".into(), json!("_pb_users_auth_"));
    claims.insert("collectionName".into(), json!("users"));
    claims.insert("exp".into(), json!(now() + 3600));
    JwtSigner::new(Secret::new(SECRET)).sign(&claims)
}

const NOT_FOUND: &str = r#"{"data":{},"message":"The requested resource wasn't found.","status":404}"#;

fn assert_not_found(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 404, "{what}: {}", String::from_utf8_lossy(&answer.bytes));
    assert_eq!(String::from_utf8_lossy(&answer.bytes), NOT_FOUND, "{what}");
}

#[test]
fn superuser_sign_in_and_refusals() {
    let client = Client::new();
    let answer = client.request(
        "POST",
        "/api/collections/_superusers/auth-with-password",
        None,
        Some(json!({"identity": "ADMIN@example.test", "password": PASSWORD})),
    );
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["record"]["email"], EMAIL);
    assert_eq!(body["record"]["collectionName"], "_superusers");
    assert_eq!(body["record"]["id"].as_str().unwrap().len(), 15);
    let token = body["token"].as_str().unwrap();
    // The token works, with or without `Bearer `.
    assert_eq!(client.request("GET", "/api/settings", Some(token), None).status, 200);
    assert_eq!(
        client
            .request("GET", "/api/settings", Some(&format!("Bearer {token}")), None)
            .status,
        200
    );

    let wrong = client.request(
        "POST",
        "/api/collections/_superusers/auth-with-password",
        None,
        Some(json!({"identity": EMAIL, "password": "nope"})),
    );
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json()["message"], "Failed to authenticate.");
    let blank = client.request(
        "POST",
        "/api/collections/_superusers/auth-with-password",
        None,
        Some(json!({"identity": ""})),
    );
    assert_eq!(blank.status, 400);
    assert_eq!(blank.json()["data"]["password"]["code"], "validation_required");

    // Settings need a superuser: 401 for visitors, 403 for users.
    assert_eq!(client.request("GET", "/api/settings", None, None).status, 401);
    assert_eq!(
        client
            .request("GET", "/api/settings", Some(&user_token("u1")), None)
            .status,
        403
    );
    // A refreshed token works too.
    let refreshed = client.request("POST", "/api/collections/_superusers/auth-refresh", Some(token), None);
    assert_eq!(refreshed.status, 200);
    assert_ne!(refreshed.json()["token"], Value::Null);
}

#[test]
fn tokens_that_must_not_authenticate() {
    let client = Client::new();
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = json!({"id": "x", "type": "auth", "collectionName": "_superusers", "collectionId": "pbc_3142635823", "exp": now() + 600});
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims));
    let expired = {
        let mut c = claims.as_object().unwrap().clone();
        c.insert("exp".into(), json!(now() - 10));
        JwtSigner::new(Secret::new(SECRET)).sign(&c)
    };
    let other_secret = JwtSigner::new(Secret::new("another secret")).sign(claims.as_object().unwrap());
    let file_type = {
        let mut c = claims.as_object().unwrap().clone();
        c.insert("type".into(), json!("file"));
        JwtSigner::new(Secret::new(SECRET)).sign(&c)
    };
    for (what, token) in [
        ("alg none", none.as_str()),
        ("expired", &expired),
        ("wrong secret", &other_secret),
        ("file token as auth", &file_type),
        ("garbage", "not.a.jwt"),
    ] {
        let answer = client.request("GET", "/api/settings", Some(token), None);
        assert_eq!(answer.status, 401, "{what}");
    }
}

#[test]
fn without_auth_secret_sign_in_is_refused_clearly() {
    let app = App::in_memory(Env::from_lookup(|name| match name {
        "SUPERUSER_EMAIL" => Some(EMAIL.into()),
        "SUPERUSER_PASSWORD" => Some(PASSWORD.into()),
        _ => None,
    }));
    let client = Client { app };
    let answer = client.request(
        "POST",
        "/api/collections/_superusers/auth-with-password",
        None,
        Some(json!({"identity": EMAIL, "password": PASSWORD})),
    );
    assert_eq!(answer.status, 503);
    assert!(answer.json()["message"].as_str().unwrap().contains("AUTH_SECRET"));
}

#[test]
fn collections_read_and_import() {
    let client = Client::new();
    let su = client.superuser();
    let list = client.request("GET", "/api/collections", Some(&su), None);
    assert_eq!(list.status, 200);
    let list = list.json();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["posts", "documents"]);
    assert_eq!(list["totalItems"], 2);
    let posts_id = list["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        client
            .request("GET", &format!("/api/collections/{posts_id}"), Some(&su), None)
            .json()["name"],
        "posts"
    );
    assert_eq!(client.request("GET", "/api/collections/posts", None, None).status, 401);

    let bad = client.import(&su, json!({"collections": [{"name": "notes", "type": "base", "listRule": "title = ", "fields": [{"name": "title", "type": "text"}]}]}));
    assert_eq!(bad.status, 400);
    let bad = bad.json();
    assert_eq!(bad["message"], "Failed to import collections.");
    assert_eq!(
        bad["data"]["collections"]["code"],
        "validation_collections_import_failure"
    );
    assert!(bad["data"]["collections"]["message"]
        .as_str()
        .unwrap()
        .contains("listRule"));
    assert_eq!(
        client.request("GET", "/api/collections/notes", Some(&su), None).status,
        404,
        "nothing imported"
    );

    let good = client.import(&su, json!({"collections": [{"name": "notes", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "fields": [{"name": "title", "type": "text"}]}], "deleteMissing": false}));
    assert_eq!(good.status, 204);
    assert_eq!(
        client.request("GET", "/api/collections/notes", Some(&su), None).status,
        200
    );
    assert_eq!(
        client.request("GET", "/api/collections/posts", Some(&su), None).status,
        200,
        "merged"
    );
    let created = client.request(
        "POST",
        "/api/collections/notes/records",
        None,
        Some(json!({"title": "hi"})),
    );
    assert_eq!(created.status, 200);
    assert_eq!(created.json()["collectionName"], "notes");
}

#[test]
fn records_rules_and_files() {
    let client = Client::new();
    let alice = user_token("alice0000000001");
    let bob = user_token("bob000000000001");

    // Create needs auth (a failing create rule is 400).
    let denied = client.form("POST", "/api/collections/posts/records", None, &[("title", "x")], &[]);
    assert_eq!(denied.status, 400);
    assert_eq!(denied.json()["message"], "Failed to create record.");

    let created = client.form(
        "POST",
        "/api/collections/posts/records",
        Some(&alice),
        &[("title", "Hello"), ("author", "alice0000000001"), ("published", "true")],
        &[("cover", "My Photo.png", PNG)],
    );
    assert_eq!(created.status, 200, "{}", String::from_utf8_lossy(&created.bytes));
    let post = created.json();
    let id = post["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 15);
    assert_eq!(post["published"], true);
    assert_eq!(post["collectionName"], "posts");
    assert!(post["created"].as_str().unwrap().ends_with('Z'));
    let cover = post["cover"].as_str().unwrap().to_owned();
    assert!(cover.starts_with("my_photo_") && cover.ends_with(".png"), "{cover}");

    // The file is public: anyone with the URL.
    let url = format!("/api/files/posts/{id}/{cover}");
    let file = client.request("GET", &url, None, None);
    assert_eq!(file.status, 200);
    assert_eq!(file.bytes, PNG);
    assert_eq!(file.header("content-type"), Some("image/png"));
    assert!(file.header("content-disposition").unwrap().starts_with("inline"));
    assert_eq!(
        file.header("cache-control"),
        Some("max-age=2592000, stale-while-revalidate=86400")
    );
    let by_id = client.request(
        "GET",
        &format!("/api/files/{}/{id}/{cover}", post["collectionId"].as_str().unwrap()),
        None,
        None,
    );
    assert_eq!(by_id.status, 200, "collections are addressed by id too");
    let ranged = client.send(
        Request::get(&url)
            .header("range", "bytes=0-3")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.bytes, &PNG[..4]);
    let download = client.request("GET", &format!("{url}?download=1"), None, None);
    assert!(download
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));

    // Validation: mime type and size.
    let text = client.form(
        "POST",
        "/api/collections/posts/records",
        Some(&alice),
        &[("title", "t")],
        &[("cover", "notes.png", b"just text, not an image")],
    );
    assert_eq!(text.status, 400);
    assert_eq!(text.json()["data"]["cover"]["code"], "validation_invalid_mime_type");
    let missing_title = client.request("POST", "/api/collections/posts/records", Some(&alice), Some(json!({})));
    assert_eq!(missing_title.status, 400);
    assert_eq!(missing_title.json()["data"]["title"]["code"], "validation_required");

    // List with filter and sort.
    for title in ["b second", "a first"] {
        let r = client.request(
            "POST",
            "/api/collections/posts/records",
            Some(&bob),
            Some(json!({"title": title, "author": "bob000000000001"})),
        );
        assert_eq!(r.status, 200);
    }
    let list = client.request(
        "GET",
        "/api/collections/posts/records?sort=title&filter=(author%3D'bob000000000001')",
        None,
        None,
    );
    assert_eq!(list.status, 200);
    let list = list.json();
    assert_eq!(list["totalItems"], 2);
    let titles: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["a first", "b second"]);
    let bad_filter = client.request("GET", "/api/collections/posts/records?filter=title%3D", None, None);
    assert_eq!(bad_filter.status, 400);

    // Update: only the author; others get 404.
    assert_not_found(
        &client.request(
            "PATCH",
            &format!("/api/collections/posts/records/{id}"),
            Some(&bob),
            Some(json!({"title": "mine"})),
        ),
        "update by another user",
    );
    let replaced = client.form(
        "PATCH",
        &format!("/api/collections/posts/records/{id}"),
        Some(&alice),
        &[("title", "Hello again")],
        &[("cover", "second.png", PNG)],
    );
    assert_eq!(replaced.status, 200, "{}", String::from_utf8_lossy(&replaced.bytes));
    let new_cover = replaced.json()["cover"].as_str().unwrap().to_owned();
    assert_ne!(new_cover, cover);
    assert_not_found(&client.request("GET", &url, None, None), "the replaced file");
    assert_eq!(
        client
            .request("GET", &format!("/api/files/posts/{id}/{new_cover}"), None, None)
            .status,
        200
    );

    // Delete: only the author; the files go with the record.
    assert_not_found(
        &client.request(
            "DELETE",
            &format!("/api/collections/posts/records/{id}"),
            Some(&bob),
            None,
        ),
        "delete by another user",
    );
    assert_eq!(
        client
            .request(
                "DELETE",
                &format!("/api/collections/posts/records/{id}"),
                Some(&alice),
                None
            )
            .status,
        204
    );
    assert_not_found(
        &client.request("GET", &format!("/api/collections/posts/records/{id}"), None, None),
        "deleted record",
    );
    assert_not_found(
        &client.request("GET", &format!("/api/files/posts/{id}/{new_cover}"), None, None),
        "deleted file",
    );
}

#[test]
fn protected_files_need_a_file_token_that_passes_the_view_rule() {
    let client = Client::new();
    let alice = user_token("alice0000000001");
    let bob = user_token("bob000000000001");
    let created = client.form(
        "POST",
        "/api/collections/documents/records",
        Some(&alice),
        &[("name", "contract"), ("owner", "alice0000000001"), ("pages", "3")],
        &[
            ("files", "contract.pdf", b"%PDF-1.4 test"),
            ("files", "notes.txt", b"hello"),
        ],
    );
    assert_eq!(created.status, 200, "{}", String::from_utf8_lossy(&created.bytes));
    let doc = created.json();
    assert_eq!(doc["pages"], 3);
    let files: Vec<String> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(files.len(), 2);
    let url = format!("/api/files/documents/{}/{}", doc["id"].as_str().unwrap(), files[0]);

    let token_for = |auth: &str| {
        client.request("POST", "/api/files/token", Some(auth), None).json()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let alice_file = token_for(&alice);
    let bob_file = token_for(&bob);
    assert_eq!(client.request("POST", "/api/files/token", None, None).status, 401);

    assert_not_found(&client.request("GET", &url, None, None), "no token");
    assert_not_found(
        &client.request("GET", &url, Some(&alice), None),
        "auth header instead of ?token=",
    );
    assert_not_found(
        &client.request("GET", &format!("{url}?token={bob_file}"), None, None),
        "another user's token",
    );
    assert_not_found(
        &client.request("GET", &format!("{url}?token={alice}"), None, None),
        "an auth token in ?token=",
    );
    assert_not_found(
        &client.request("GET", &format!("{url}?token=garbage"), None, None),
        "garbage token",
    );
    let ok = client.request("GET", &format!("{url}?token={alice_file}"), None, None);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.bytes, b"%PDF-1.4 test");
    assert_eq!(ok.header("cache-control"), Some("private, no-store"));
    let su_file = token_for(&client.superuser());
    assert_eq!(
        client
            .request("GET", &format!("{url}?token={su_file}"), None, None)
            .status,
        200
    );

    // Files not in the record, and paths that try to escape, are all 404.
    let record_id = doc["id"].as_str().unwrap();
    for path in [
        format!("/api/files/documents/{record_id}/other.pdf?token={alice_file}"),
        format!("/api/files/documents/{record_id}/..%2F..%2Fsettings.json?token={alice_file}"),
        format!("/api/files/documents/%2E%2E/{}?token={alice_file}", files[0]),
    ] {
        assert_not_found(&client.request("GET", &path, None, None), &path);
    }
    // An unknown collection is PocketBase's own 404 (collections are no secret).
    let unknown = client.request(
        "GET",
        &format!("/api/files/nope/{record_id}/{}?token={alice_file}", files[0]),
        None,
        None,
    );
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["message"], "Missing or invalid collection context.");

    // List rule filters per user; view denied is 404.
    let mine = client
        .request("GET", "/api/collections/documents/records", Some(&alice), None)
        .json();
    assert_eq!(mine["totalItems"], 1);
    let theirs = client
        .request("GET", "/api/collections/documents/records", Some(&bob), None)
        .json();
    assert_eq!(theirs["totalItems"], 0);
    assert_not_found(
        &client.request(
            "GET",
            &format!("/api/collections/documents/records/{record_id}"),
            Some(&bob),
            None,
        ),
        "view by another",
    );

    // `files-` removes one file, the other stays.
    let removed = client.request(
        "PATCH",
        &format!("/api/collections/documents/records/{record_id}"),
        Some(&alice),
        Some(json!({"files-": [files[0]]})),
    );
    assert_eq!(removed.status, 200);
    assert_eq!(removed.json()["files"], json!([files[1]]));
    assert_not_found(
        &client.request("GET", &format!("{url}?token={alice_file}"), None, None),
        "removed file",
    );

    // Too many files.
    let six: Vec<(&str, &str, &[u8])> = (0..6).map(|_| ("files", "a.txt", b"x" as &[u8])).collect();
    let too_many = client.form(
        "POST",
        "/api/collections/documents/records",
        Some(&alice),
        &[("name", "n"), ("owner", "alice0000000001")],
        &six,
    );
    assert_eq!(too_many.status, 400);
    assert_eq!(too_many.json()["data"]["files"]["code"], "validation_too_many_files");
}

#[test]
fn null_rules_are_superusers_only() {
    let client = Client::new();
    let su = client.superuser();
    let import = client.import(&su, json!({"collections": [{"name": "secrets", "type": "base", "listRule": null, "viewRule": null, "createRule": null, "updateRule": null, "deleteRule": null, "fields": [{"name": "value", "type": "text"}]}]}));
    assert_eq!(import.status, 204);
    let user = user_token("u00000000000001");
    for (method, path) in [
        ("GET", "/api/collections/secrets/records"),
        ("POST", "/api/collections/secrets/records"),
    ] {
        let answer = client.request(method, path, Some(&user), Some(json!({"value": "x"})));
        assert_eq!(answer.status, 403, "{method} {path}");
        assert_eq!(answer.json()["message"], "Only superusers can perform this action.");
    }
    let created = client.request(
        "POST",
        "/api/collections/secrets/records",
        Some(&su),
        Some(json!({"value": "x"})),
    );
    assert_eq!(created.status, 200);
}

#[test]
fn malformed_bodies_are_400s_and_leave_nothing() {
    let client = Client::new();
    let alice = user_token("alice0000000001");
    let broken = client.send(
        Request::post("/api/collections/posts/records")
            .header("authorization", &alice)
            .header("content-type", "multipart/form-data; boundary=xyz")
            .body(Body::from(
                "--xyz\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nunterminated",
            ))
            .unwrap(),
    );
    assert_eq!(broken.status, 400);
    assert_eq!(broken.json()["message"], "Failed to read the submitted data.");
    let bad_json = client.send(
        Request::post("/api/collections/posts/records")
            .header("authorization", &alice)
            .header("content-type", "application/json")
            .body(Body::from("{\"title\": "))
            .unwrap(),
    );
    assert_eq!(bad_json.status, 400);
    let list = client
        .request("GET", "/api/collections/posts/records", None, None)
        .json();
    assert_eq!(list["totalItems"], 0, "nothing was created");
}

#[test]
fn settings_keep_the_secret_and_validate() {
    let client = Client::new();
    let su = client.superuser();
    let settings = client.request("GET", "/api/settings", Some(&su), None).json();
    assert_eq!(settings["s3"]["enabled"], false);
    assert!(settings["s3"].get("secret").is_none());

    let invalid = client.request(
        "PATCH",
        "/api/settings",
        Some(&su),
        Some(json!({"s3": {"enabled": true, "bucket": "b"}})),
    );
    assert_eq!(invalid.status, 400);
    let data = invalid.json()["data"].clone();
    assert_eq!(data["s3"]["endpoint"]["code"], "validation_required");
    assert_eq!(data["s3"]["secret"]["code"], "validation_required");
    assert!(data["s3"].get("bucket").is_none());

    let saved = client.request(
        "PATCH",
        "/api/settings",
        Some(&su),
        Some(json!({"s3": {"bucket": "b", "region": "auto", "endpoint": "http://127.0.0.1:1", "accessKey": "AK", "secret": "TOPSECRET"}, "meta": {"appName": "mine"}})),
    );
    assert_eq!(saved.status, 200);
    assert!(!String::from_utf8_lossy(&saved.bytes).contains("TOPSECRET"));
    assert_eq!(saved.json()["meta"]["appName"], "mine");
    // A PATCH without the secret keeps it: enabling now validates.
    let enabled = client.request(
        "PATCH",
        "/api/settings",
        Some(&su),
        Some(json!({"s3": {"enabled": true}})),
    );
    assert_eq!(enabled.status, 200, "{}", String::from_utf8_lossy(&enabled.bytes));

    // The S3 test against a port where nothing listens: 400 with the steps, no secret.
    let test = client.request(
        "POST",
        "/api/settings/test/s3",
        Some(&su),
        Some(json!({"filesystem": "storage"})),
    );
    assert_eq!(test.status, 400);
    let text = String::from_utf8_lossy(&test.bytes).into_owned();
    assert!(!text.contains("TOPSECRET"));
    let body = test.json();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("Failed to test the S3 filesystem. Raw error:"));
    let steps = body["data"]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["step"], "put");
    assert_eq!(steps[0]["ok"], false);
    assert!(steps[0]["hint"].as_str().is_some());
    assert_eq!(steps.len(), 5);
}

#[test]
fn settings_and_collections_reach_every_isolate_through_the_config_store() {
    use edgefs::api::NativePlatform;
    use edgefs::storage::{Memory, Storage};
    use std::sync::Arc;
    // Two isolates of one deployment: separate APIs over the same stores (KV and R2 in
    // the Worker).
    let shared: Arc<dyn Storage> = Arc::new(Memory::new());
    let isolate = || {
        let mut app = App::new(env(), shared.clone(), shared.clone(), Box::new(NativePlatform));
        app.reload_after = std::time::Duration::ZERO;
        Client { app }
    };
    let (first, second) = (isolate(), isolate());
    let su = first.superuser();
    let patched = first.request(
        "PATCH",
        "/api/settings",
        Some(&su),
        Some(json!({"meta": {"appName": "shared"}})),
    );
    assert_eq!(patched.status, 200);
    let imported = first.import(&su, json!({"collections": [{"name": "notes", "type": "base", "listRule": "", "fields": [{"name": "title", "type": "text"}]}]}));
    assert_eq!(imported.status, 204);
    let settings = second.request("GET", "/api/settings", Some(&su), None).json();
    assert_eq!(settings["meta"]["appName"], "shared");
    assert_eq!(
        second
            .request("GET", "/api/collections/notes/records", None, None)
            .status,
        200
    );
}

#[test]
fn a_body_over_the_collections_limit_is_a_413_before_it_is_read() {
    let client = Client::new();
    let alice = user_token("alice0000000001");
    // posts: 32 MiB + one 5 MiB cover, as PocketBase computes it.
    let huge = vec![0u8; 38 * 1024 * 1024];
    let answer = client.form(
        "POST",
        "/api/collections/posts/records",
        Some(&alice),
        &[("title", "big")],
        &[("cover", "big.png", &huge)],
    );
    assert_eq!(answer.status, 413);
    assert_eq!(answer.json()["message"], "Request entity too large.");
    let list = client
        .request("GET", "/api/collections/posts/records", None, None)
        .json();
    assert_eq!(list["totalItems"], 0);
}

// --- hardening (issue 10 §2): each of these was found by trying the API as an attacker ---

/// The payload of a JWT, decoded (no verification).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn sign_in(client: &Client, address: &str, password: &str) -> Answer {
    let request = Request::builder()
        .method("POST")
        .uri("/api/collections/_superusers/auth-with-password")
        .header("content-type", "application/json")
        .header("cf-connecting-ip", address)
        .body(Body::from(json!({"identity": EMAIL, "password": password}).to_string()))
        .unwrap();
    client.send(request)
}

#[test]
fn an_app_cannot_mint_a_superuser_token_with_auth_secret() {
    let client = Client::new();
    for claims in [
        json!({"id": "x", "type": "auth", "collectionId": "pbc_3142635823", "exp": now() + 600}),
        json!({"id": "x", "type": "auth", "collectionName": "_superusers", "exp": now() + 600}),
    ] {
        let forged = JwtSigner::new(Secret::new(SECRET)).sign(claims.as_object().unwrap());
        assert_eq!(
            client.request("GET", "/api/settings", Some(&forged), None).status,
            401,
            "{claims}"
        );
        assert_eq!(
            client.request("GET", "/api/collections", Some(&forged), None).status,
            401,
            "not even a user: {claims}"
        );
        let file = client.request("POST", "/api/files/token", Some(&forged), None);
        assert_eq!(file.status, 401, "no file token for it");
    }
    // The superuser's own token, signed with the derived key, carries PocketBase's claims only.
    let token = client.superuser();
    let mut keys: Vec<String> = claims_of(&token).as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["collectionId", "exp", "id", "refreshable", "type"]);
    assert_eq!(client.request("GET", "/api/settings", Some(&token), None).status, 200);
    // Its file token works as a superuser's on a protected file's route, and is not an auth token.
    let file_token = client.request("POST", "/api/files/token", Some(&token), None).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims_of(&file_token)["type"], "file");
    assert_eq!(
        client.request("GET", "/api/settings", Some(&file_token), None).status,
        401
    );
}

#[test]
fn a_password_change_ends_every_superuser_token() {
    let before = Client::new();
    let token = before.superuser();
    let after = Client {
        app: App::in_memory(Env::from_lookup(|name| match name {
            "AUTH_SECRET" => Some(SECRET.into()),
            "SUPERUSER_EMAIL" => Some(EMAIL.into()),
            "SUPERUSER_PASSWORD" => Some("a new password after a leak".into()),
            _ => None,
        })),
    };
    assert_eq!(after.request("GET", "/api/settings", Some(&token), None).status, 401);
    let refreshed = after.request("POST", "/api/collections/_superusers/auth-refresh", Some(&token), None);
    assert_eq!(refreshed.status, 401, "the old token cannot be refreshed either");
    // User tokens are the app's and do not change with the superuser's password.
    assert_eq!(
        after
            .request("POST", "/api/files/token", Some(&user_token("u1")), None)
            .status,
        200
    );
}

#[test]
fn a_short_auth_secret_is_refused_with_the_reason() {
    let client = Client {
        app: App::in_memory(Env::from_lookup(|name| match name {
            "AUTH_SECRET" => Some("short-secret".into()),
            "SUPERUSER_EMAIL" => Some(EMAIL.into()),
            "SUPERUSER_PASSWORD" => Some(PASSWORD.into()),
            _ => None,
        })),
    };
    let answer = sign_in(&client, "203.0.113.1", PASSWORD);
    assert_eq!(answer.status, 503);
    let message = answer.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("AUTH_SECRET is shorter than 32 characters"),
        "{message}"
    );
    assert!(!message.contains("short-secret"), "the secret is not echoed: {message}");
    let mut claims = Map::new();
    claims.insert("id".into(), json!("u1"));
    claims.insert("type".into(), json!("auth"));
    claims.insert("exp".into(), json!(now() + 600));
    let weak = JwtSigner::new(Secret::new("short-secret")).sign(&claims);
    assert_eq!(
        client.request("POST", "/api/files/token", Some(&weak), None).status,
        401
    );
}

#[test]
fn failed_sign_ins_lock_out_that_client_for_a_minute() {
    let client = Client::new();
    for attempt in 1..=5 {
        let answer = sign_in(&client, "198.51.100.7", "guess");
        assert_eq!(answer.status, 400, "attempt {attempt}");
    }
    let locked = sign_in(&client, "198.51.100.7", PASSWORD);
    assert_eq!(locked.status, 429, "even the right password, while locked out");
    assert_eq!(
        String::from_utf8_lossy(&locked.bytes),
        r#"{"data":{},"message":"Too Many Requests.","status":429}"#
    );
    assert_eq!(
        sign_in(&client, "198.51.100.8", PASSWORD).status,
        200,
        "another client is not locked out"
    );
    // A success clears a client's count.
    for _ in 0..4 {
        sign_in(&client, "198.51.100.9", "guess");
    }
    assert_eq!(sign_in(&client, "198.51.100.9", PASSWORD).status, 200);
    assert_eq!(
        sign_in(&client, "198.51.100.9", "guess").status,
        400,
        "counting starts again"
    );
}

#[test]
fn hidden_fields_are_searchable_by_superusers_only() {
    let client = Client::new();
    let su = client.superuser();
    let imported = client.import(
        &su,
        json!({"collections": [{
            "name": "notes", "type": "base", "listRule": "pin != 'locked'", "viewRule": "", "createRule": null,
            "fields": [{"name": "title", "type": "text"}, {"name": "pin", "type": "text", "hidden": true}],
        }]}),
    );
    assert_eq!(imported.status, 204, "{}", String::from_utf8_lossy(&imported.bytes));
    for (title, pin) in [("a", "hunter2"), ("b", "locked")] {
        let created = client.request(
            "POST",
            "/api/collections/notes/records",
            Some(&su),
            Some(json!({"title": title, "pin": pin})),
        );
        assert_eq!(created.status, 200);
    }
    // The list rule uses the hidden field: the collection's owner wrote it.
    let listed = client
        .request("GET", "/api/collections/notes/records", None, None)
        .json();
    assert_eq!(listed["totalItems"], 1);
    assert!(listed["items"][0].get("pin").is_none(), "hidden from visitors");
    // A visitor's filter or sort on it would recover the value a character at a time.
    for query in [
        "filter=pin~'hun'",
        "filter=(title='a'%20%26%26%20pin='hunter2')",
        "sort=pin",
        "sort=-title,pin",
    ] {
        let answer = client.request("GET", &format!("/api/collections/notes/records?{query}"), None, None);
        assert_eq!(answer.status, 400, "{query}");
        let user = client.request(
            "GET",
            &format!("/api/collections/notes/records?{query}"),
            Some(&user_token("u1")),
            None,
        );
        assert_eq!(user.status, 400, "a user: {query}");
    }
    let superuser = client.request(
        "GET",
        "/api/collections/notes/records?filter=pin~'hun'&sort=pin",
        Some(&su),
        None,
    );
    assert_eq!(superuser.status, 200);
    assert_eq!(superuser.json()["items"][0]["pin"], "hunter2");
}

#[test]
fn paging_numbers_past_32_bits_and_pocketbases_filter_limits() {
    let client = Client::new();
    let list = |query: &str| client.request("GET", &format!("/api/collections/posts/records?{query}"), None, None);
    let huge = list("perPage=4294967296&page=4294967296");
    assert_eq!(huge.status, 200, "{}", String::from_utf8_lossy(&huge.bytes));
    let body = huge.json();
    assert_eq!(
        (body["page"].as_u64(), body["perPage"].as_u64()),
        (Some(4_294_967_296), Some(1000))
    );
    let su = client.superuser();
    let collections = client.request(
        "GET",
        "/api/collections?perPage=4294967296&page=4294967297",
        Some(&su),
        None,
    );
    assert_eq!(collections.status, 200);
    assert_eq!(collections.json()["items"], json!([]));

    let encode =
        |text: &str| percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string();
    let nested = format!("{}title='x'{}", "(".repeat(1700), ")".repeat(1700));
    assert_eq!(
        list(&format!("filter={}", encode(&nested))).status,
        200,
        "deep but within 3500 bytes"
    );
    for (what, filter) in [
        (
            "over 3500 bytes",
            format!("{}title='x'{}", "(".repeat(1800), ")".repeat(1800)),
        ),
        ("201 comparisons", vec!["title='x'"; 201].join("||")),
        (
            "a 5,000-deep nesting",
            format!("{}title='x'{}", "(".repeat(5_000), ")".repeat(5_000)),
        ),
    ] {
        let answer = list(&format!("filter={}", encode(&filter)));
        assert_eq!(answer.status, 400, "{what}");
        assert_eq!(
            answer.json()["message"],
            "Something went wrong while processing your request."
        );
    }
    assert_eq!(
        list(&format!("filter={}", encode(&vec!["title='x'"; 200].join("||")))).status,
        200
    );
    assert_eq!(
        list("sort=title,title,title,title,title,title,title,title,title").status,
        400
    );
}

#[test]
fn a_collection_id_that_is_not_a_single_key_segment_is_refused() {
    let client = Client::new();
    let su = client.superuser();
    for id in ["pbc_1125843985/x", ".edgefs", "../records"] {
        let answer = client.import(
            &su,
            json!({"collections": [{"id": id, "name": "evil", "type": "base", "listRule": "", "fields": []}]}),
        );
        assert_eq!(answer.status, 400, "{id}");
        let message = answer.json()["data"]["collections"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(message.contains("Invalid collection id"), "{id}: {message}");
    }
    assert_eq!(
        client.request("GET", "/api/collections/evil", Some(&su), None).status,
        404
    );
}

#[test]
fn a_form_without_content_length_is_held_to_the_limit_as_it_arrives() {
    use futures::StreamExt;
    let client = Client::new();
    let alice = user_token("alice0000000001");
    let boundary = "edgefs-chunked-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nchunked\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"cover\"; filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n"
    );
    // 38 MiB in 1 MiB chunks, with no length: over posts' 32 MiB + 5 MiB.
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    let chunks =
        std::iter::once(bytes::Bytes::from(head)).chain((0..38).map(|_| bytes::Bytes::from(vec![0u8; 1 << 20])));
    let stream = futures::stream::iter(chunks).map(move |chunk| {
        counter.fetch_add(chunk.len(), std::sync::atomic::Ordering::SeqCst);
        Ok::<_, edgefs_s3::Error>(chunk)
    });
    let request = Request::builder()
        .method("POST")
        .uri("/api/collections/posts/records")
        .header("authorization", &alice)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from_stream(Box::pin(stream), None))
        .unwrap();
    let answer = client.send(request);
    assert_eq!(answer.status, 413, "{}", String::from_utf8_lossy(&answer.bytes));
    assert_eq!(answer.json()["message"], "Request entity too large.");
    let read = sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(read < 38 << 20, "refused before the whole body was read ({read} bytes)");
    let list = client
        .request("GET", "/api/collections/posts/records", None, None)
        .json();
    assert_eq!(list["totalItems"], 0);
}

/// A TCP listener on 127.0.0.1 that counts the connections made to it.
fn counting_listener() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    (endpoint, count)
}

#[test]
fn the_s3_test_signs_with_the_saved_secret_only_for_the_saved_endpoint() {
    let client = Client::new();
    let su = client.superuser();
    let (saved_endpoint, _) = counting_listener();
    let (other_endpoint, other_connections) = counting_listener();
    let saved = client.request(
        "PATCH",
        "/api/settings",
        Some(&su),
        Some(json!({"s3": {"enabled": true, "bucket": "b", "region": "us-east-1", "endpoint": saved_endpoint, "accessKey": "AK", "secret": "STORED-SECRET"}})),
    );
    assert_eq!(saved.status, 200, "{}", String::from_utf8_lossy(&saved.bytes));
    let test = |body: Value| client.request("POST", "/api/settings/test/s3", Some(&su), Some(body));

    for body in [
        json!({"filesystem": "storage", "s3": {"endpoint": other_endpoint}}),
        json!({"filesystem": "storage", "s3": {"accessKey": "ANOTHER"}}),
        json!({"filesystem": "storage", "s3": {"endpoint": other_endpoint, "secret": ""}}),
    ] {
        let answer = test(body.clone());
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.json()["data"]["secret"]["code"], "validation_required", "{body}");
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(
        other_connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing was sent there"
    );
    // With its own secret, the unsaved endpoint is tried (and fails: nothing speaks S3 there).
    let typed = test(json!({"filesystem": "storage", "s3": {"endpoint": other_endpoint, "secret": "TYPED-SECRET"}}));
    assert_eq!(typed.status, 400);
    assert!(typed.json()["data"]["steps"].is_array());
    assert!(
        other_connections.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the typed values were tested"
    );
    let text = String::from_utf8_lossy(&typed.bytes).into_owned();
    assert!(!text.contains("TYPED-SECRET") && !text.contains("STORED-SECRET"));

    // PocketBase's `filesystem`: required, `storage` or `backups` (edgefs keeps no backups).
    let missing = test(json!({}));
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["data"]["filesystem"]["code"], "validation_required");
    let invalid = test(json!({"filesystem": "nope"}));
    assert_eq!(invalid.json()["data"]["filesystem"]["code"], "validation_in_invalid");
    let backups = test(json!({"filesystem": "backups"}));
    assert_eq!(backups.status, 400, "a test that did not run never reports success");
    assert_eq!(
        backups.json()["message"],
        "Failed to test the S3 filesystem. Raw error: \nS3 storage filesystem is not enabled."
    );
}

#[test]
fn created_and_updated_are_answered_only_where_declared_and_set_by_the_server() {
    let client = Client::new();
    let su = client.superuser();
    let imported = client.import(
        &su,
        json!({"collections": [
            {"name": "plain", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
             "fields": [{"name": "title", "type": "text"}]},
            {"name": "stamped", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
             "fields": [{"name": "title", "type": "text"},
                        {"name": "created", "type": "autodate", "onCreate": true, "onUpdate": false},
                        {"name": "changed", "type": "autodate", "onCreate": true, "onUpdate": true}]},
        ]}),
    );
    assert_eq!(imported.status, 204, "{}", String::from_utf8_lossy(&imported.bytes));
    // As PocketBase 0.23+: a collection without autodate fields has no dates in its records.
    let plain = client
        .request(
            "POST",
            "/api/collections/plain/records",
            None,
            Some(json!({"title": "a"})),
        )
        .json();
    assert!(
        plain.get("created").is_none() && plain.get("updated").is_none(),
        "{plain}"
    );
    let listed = client
        .request("GET", "/api/collections/plain/records", None, None)
        .json();
    assert!(listed["items"][0].get("created").is_none());
    // Declared autodates are the server's: a value in the body is ignored.
    let forged = "2000-01-01 00:00:00.000Z";
    let stamped = client
        .request(
            "POST",
            "/api/collections/stamped/records",
            None,
            Some(json!({"title": "b", "created": forged, "changed": forged})),
        )
        .json();
    let (created, changed) = (
        stamped["created"].as_str().unwrap().to_owned(),
        stamped["changed"].as_str().unwrap().to_owned(),
    );
    assert_ne!(created, forged);
    assert_eq!(created, changed, "both set on creation");
    assert!(stamped.get("updated").is_none(), "not declared here");
    std::thread::sleep(std::time::Duration::from_millis(5));
    let id = stamped["id"].as_str().unwrap();
    let patched = client
        .request(
            "PATCH",
            &format!("/api/collections/stamped/records/{id}"),
            None,
            Some(json!({"title": "c", "created": forged})),
        )
        .json();
    assert_eq!(patched["created"], created, "onCreate only: kept");
    assert_ne!(patched["changed"], changed, "onUpdate: set again");
    let schema = client
        .request("GET", "/api/collections/stamped", Some(&su), None)
        .json();
    let field = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "changed")
        .unwrap()
        .clone();
    assert_eq!(
        (
            field["type"].as_str(),
            field["onCreate"].as_bool(),
            field["onUpdate"].as_bool()
        ),
        (Some("autodate"), Some(true), Some(true))
    );
}

/// Without D1, a list reads every record from the object store: past the list limit it
/// is refused before any record is read, with a 400 that names the limit and the fix.
#[test]
fn a_list_past_the_object_stores_limit_is_a_clear_400() {
    let app = App::in_memory(Env::from_lookup(|name| match name {
        "RECORDS_LIST_LIMIT" => Some("2".into()),
        other => env_value(other),
    }));
    let client = Client { app };
    let su = client.superuser();
    for i in 0..2 {
        let created = client.request(
            "POST",
            "/api/collections/posts/records",
            Some(&su),
            Some(json!({"title": format!("post {i}")})),
        );
        assert_eq!(created.status, 200);
    }
    let two = client.request("GET", "/api/collections/posts/records", None, None);
    assert_eq!(
        (two.status, two.json()["totalItems"].clone()),
        (200, json!(2)),
        "at the limit it lists"
    );
    let created = client.request(
        "POST",
        "/api/collections/posts/records",
        Some(&su),
        Some(json!({"title": "third"})),
    );
    assert_eq!(created.status, 200);
    let three = client.request("GET", "/api/collections/posts/records", None, None);
    assert_eq!(three.status, 400);
    let message = three.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("has 3 records, more than the 2")
            && message.contains("D1")
            && message.contains("RECORDS_LIST_LIMIT"),
        "{message}"
    );
    let one = client.request(
        "GET",
        &format!(
            "/api/collections/posts/records/{}",
            created.json()["id"].as_str().unwrap()
        ),
        None,
        None,
    );
    assert_eq!(one.status, 200, "a record by id is one read: still served");
}

fn env_value(name: &str) -> Option<String> {
    match name {
        "AUTH_SECRET" => Some(SECRET.into()),
        "SUPERUSER_EMAIL" => Some(EMAIL.into()),
        "SUPERUSER_PASSWORD" => Some(PASSWORD.into()),
        _ => None,
    }
}
