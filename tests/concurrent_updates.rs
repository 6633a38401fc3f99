//! Two requests on one record at once (issue 10 §4): records are written as a
//! compare-and-swap, and an update that finds the record changed is applied again to it.
//! The storage here is the in-memory backend behind a wrapper that makes every storage
//! call wait one turn of the executor, so two requests driven together interleave at
//! every step — read, read, upload, upload, write, write — as a slow backend makes them.
//! After each pair, the record must name only files that exist, and every file under
//! the record must be named by it.
//!
//! Each case runs twice: records as objects in the storage, and records in SQLite (the
//! engine of D1), whose calls wait a turn too.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use edgefs::api::{handle, App, Env, NativePlatform};
use edgefs::storage::{Attributes, GetOptions, GetOutcome, ListPage, Memory, Storage, UploadOptions};
use edgefs::transport::BoxFuture;
use edgefs::{Body, Error};
use http::Request;
use serde_json::{json, Value};
use std::sync::Arc;
use std::task::Poll;

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89,
];

/// Waits one turn: the other request runs its next step meanwhile.
async fn one_turn() {
    let mut waited = false;
    futures::future::poll_fn(|cx| {
        if waited {
            return Poll::Ready(());
        }
        waited = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// The in-memory backend, every call a turn late.
struct Interleaved {
    inner: Memory,
    conditional: bool,
}

impl Storage for Interleaved {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn conditional_writes(&self) -> bool {
        self.conditional
    }
    fn attributes<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Attributes>, Error>> {
        Box::pin(async move {
            one_turn().await;
            self.inner.attributes(key).await
        })
    }
    fn get<'a>(&'a self, key: &'a str, options: &'a GetOptions) -> BoxFuture<'a, Result<GetOutcome, Error>> {
        Box::pin(async move {
            one_turn().await;
            self.inner.get(key, options).await
        })
    }
    fn upload<'a>(&'a self, key: &'a str, body: Body, options: &'a UploadOptions) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            one_turn().await;
            self.inner.upload(key, body, options).await
        })
    }
    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            one_turn().await;
            self.inner.copy(from, to).await
        })
    }
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            one_turn().await;
            self.inner.delete(key).await
        })
    }
    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            one_turn().await;
            self.inner.delete_prefix(prefix).await
        })
    }
    fn list<'a>(
        &'a self,
        prefix: &'a str,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ListPage, Error>> {
        Box::pin(async move {
            one_turn().await;
            self.inner.list(prefix, cursor, limit).await
        })
    }
}

struct Fixture {
    app: App,
    storage: Arc<Interleaved>,
    token: String,
    runtime: tokio::runtime::Runtime,
}

/// SQLite, every batch a turn late.
struct InterleavedSql(support::sqlite::Sqlite);

impl edgefs::records::sql::Database for InterleavedSql {
    fn batch<'a>(
        &'a self,
        statements: &'a [edgefs::records::sql::Statement],
    ) -> BoxFuture<'a, Result<Vec<edgefs::records::sql::Outcome>, Error>> {
        Box::pin(async move {
            one_turn().await;
            self.0.batch(statements).await
        })
    }
    fn name(&self) -> &'static str {
        "sqlite"
    }
}

fn fixture(conditional: bool, sql: bool) -> Fixture {
    let env = Env::from_lookup(|name| match name {
        "AUTH_SECRET" => Some("concurrent-updates-auth-secret-0123456789".into()),
        "SUPERUSER_EMAIL" => Some("root@edgefs.test".into()),
        "SUPERUSER_PASSWORD" => Some("concurrent updates password".into()),
        _ => None,
    });
    let storage = Arc::new(Interleaved {
        inner: Memory::new(),
        conditional,
    });
    let mut app = App::new(env, storage.clone(), storage.clone(), Box::new(NativePlatform));
    if sql {
        app = app.with_database(Arc::new(InterleavedSql(support::sqlite::Sqlite::new())));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut fixture = Fixture {
        app,
        storage,
        token: String::new(),
        runtime,
    };
    let (status, answer) = fixture.one(json_request(
        "POST",
        "/api/collections/_superusers/auth-with-password",
        "",
        json!({"identity": "root@edgefs.test", "password": "concurrent updates password"}),
    ));
    assert_eq!(status, 200, "{answer}");
    fixture.token = answer["token"].as_str().unwrap().to_owned();
    fixture
}

fn json_request(method: &str, uri: &str, token: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", token)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn cover_request(method: &str, uri: &str, token: &str, filename: &str) -> Request<Body> {
    let boundary = "concurrent-updates-boundary";
    // A create names its title; an update sends the cover alone.
    let title = if method == "POST" {
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nwith a cover\r\n")
    } else {
        String::new()
    };
    let mut body = format!(
        "{title}--{boundary}\r\nContent-Disposition: form-data; name=\"cover\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(PNG);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", token)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap()
}

async fn answer(app: &App, request: Request<Body>) -> (u16, Value) {
    let response = handle(app, request).await;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect(1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

impl Fixture {
    fn one(&self, request: Request<Body>) -> (u16, Value) {
        self.runtime.block_on(answer(&self.app, request))
    }

    /// Both requests at once, interleaved step by step.
    fn two(&self, first: Request<Body>, second: Request<Body>) -> ((u16, Value), (u16, Value)) {
        self.runtime
            .block_on(async { futures::join!(answer(&self.app, first), answer(&self.app, second)) })
    }

    fn post_with_cover(&self) -> Value {
        let (status, post) = self.one(cover_request(
            "POST",
            "/api/collections/posts/records",
            &self.token,
            "first.png",
        ));
        assert_eq!(status, 200, "{post}");
        post
    }

    fn url(&self, post: &Value) -> String {
        format!(
            "/api/collections/{}/records/{}",
            post["collectionName"].as_str().unwrap(),
            post["id"].as_str().unwrap()
        )
    }

    /// The record as stored (`None` when gone) and the files stored under it.
    fn stored(&self, post: &Value) -> (Option<Value>, Vec<String>) {
        let (status, record) = self.one(json_request("GET", &self.url(post), &self.token, Value::Null));
        let prefix = format!(
            "{}/{}/",
            post["collectionId"].as_str().unwrap(),
            post["id"].as_str().unwrap()
        );
        let page = self
            .runtime
            .block_on(self.storage.inner.list(&prefix, None, 1000))
            .unwrap();
        let files = page
            .items
            .into_iter()
            .map(|item| item.key[prefix.len()..].to_owned())
            .collect();
        ((status == 200).then_some(record), files)
    }
}

#[test]
fn a_title_change_and_a_cover_change_at_once_both_stay() {
    a_title_change_and_a_cover_change_at_once_both_stay_on(false)
}

#[test]
fn a_title_change_and_a_cover_change_at_once_both_stay_in_sqlite() {
    a_title_change_and_a_cover_change_at_once_both_stay_on(true)
}

fn a_title_change_and_a_cover_change_at_once_both_stay_on(sql: bool) {
    let fixture = fixture(true, sql);
    let post = fixture.post_with_cover();
    let url = fixture.url(&post);
    let (title, cover) = fixture.two(
        json_request("PATCH", &url, &fixture.token, json!({"title": "renamed"})),
        cover_request("PATCH", &url, &fixture.token, "second.png"),
    );
    assert_eq!(title.0, 200, "{}", title.1);
    assert_eq!(cover.0, 200, "{}", cover.1);
    let (record, files) = fixture.stored(&post);
    let record = record.expect("the record exists");
    // Each request's change is kept: the title of one, the cover of the other.
    assert_eq!(record["title"], "renamed");
    assert_eq!(record["cover"], cover.1["cover"]);
    assert_eq!(
        files,
        vec![record["cover"].as_str().unwrap().to_owned()],
        "the old cover is deleted"
    );
}

#[test]
fn two_cover_changes_at_once_leave_one_cover_and_no_other_file() {
    two_cover_changes_at_once_leave_one_cover_and_no_other_file_on(false)
}

#[test]
fn two_cover_changes_at_once_leave_one_cover_and_no_other_file_in_sqlite() {
    two_cover_changes_at_once_leave_one_cover_and_no_other_file_on(true)
}

fn two_cover_changes_at_once_leave_one_cover_and_no_other_file_on(sql: bool) {
    let fixture = fixture(true, sql);
    let post = fixture.post_with_cover();
    let url = fixture.url(&post);
    let (a, b) = fixture.two(
        cover_request("PATCH", &url, &fixture.token, "a.png"),
        cover_request("PATCH", &url, &fixture.token, "b.png"),
    );
    assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
    let (record, files) = fixture.stored(&post);
    let cover = record.expect("the record exists")["cover"].as_str().unwrap().to_owned();
    // The second to be written wins, as if it had come after the first.
    assert_eq!(cover, b.1["cover"].as_str().unwrap());
    assert_eq!(files, vec![cover]);
}

#[test]
fn an_update_and_a_delete_at_once_leave_nothing() {
    an_update_and_a_delete_at_once_leave_nothing_on(false)
}

#[test]
fn an_update_and_a_delete_at_once_leave_nothing_in_sqlite() {
    an_update_and_a_delete_at_once_leave_nothing_on(true)
}

fn an_update_and_a_delete_at_once_leave_nothing_on(sql: bool) {
    let fixture = fixture(true, sql);
    let post = fixture.post_with_cover();
    let url = fixture.url(&post);
    let (update, delete) = fixture.two(
        cover_request("PATCH", &url, &fixture.token, "late.png"),
        json_request("DELETE", &url, &fixture.token, Value::Null),
    );
    assert_eq!(delete.0, 204, "{}", delete.1);
    // The update read the record before the delete and wrote after it: refused, as an
    // update of a record that is gone, and its upload deleted.
    assert_eq!(update.0, 404, "{}", update.1);
    let (record, files) = fixture.stored(&post);
    assert!(record.is_none(), "the record came back: {record:?}");
    assert!(files.is_empty(), "files left behind: {files:?}");
}

#[test]
fn without_conditional_writes_the_last_writer_wins_and_a_replaced_file_can_stay() {
    // KV and an S3 server that ignores If-Match (Garage 2.5.0): the known cost.
    let fixture = fixture(false, false);
    let post = fixture.post_with_cover();
    let url = fixture.url(&post);
    let (title, cover) = fixture.two(
        json_request("PATCH", &url, &fixture.token, json!({"title": "renamed"})),
        cover_request("PATCH", &url, &fixture.token, "second.png"),
    );
    assert_eq!((title.0, cover.0), (200, 200));
    let (record, files) = fixture.stored(&post);
    let record = record.expect("the record exists");
    // The cover change was written last, from the record as it read it: the title
    // change is lost, and the record still names a file that exists.
    assert_eq!(record["title"], "with a cover");
    assert!(files.contains(&record["cover"].as_str().unwrap().to_owned()));
}

/// A multipart request with text fields and text files (`field`, `filename`).
fn form_request(
    method: &str,
    uri: &str,
    token: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str)],
) -> Request<Body> {
    let boundary = "concurrent-updates-boundary";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    for (name, filename) in files {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: text/plain\r\n\r\n{filename}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", token)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap()
}

fn two_appends_at_once_keep_both_files_on(sql: bool) {
    let fixture = fixture(true, sql);
    let (status, document) = fixture.one(form_request(
        "POST",
        "/api/collections/documents/records",
        &fixture.token,
        &[("name", "shared"), ("owner", "someone0000000a")],
        &[("files", "first.txt")],
    ));
    assert_eq!(status, 200, "{document}");
    let url = format!(
        "/api/collections/documents/records/{}",
        document["id"].as_str().unwrap()
    );
    let (a, b) = fixture.two(
        form_request("PATCH", &url, &fixture.token, &[], &[("files+", "a.txt")]),
        form_request("PATCH", &url, &fixture.token, &[], &[("files+", "b.txt")]),
    );
    assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
    let (record, stored) = fixture.stored(&document);
    let mut named: Vec<String> = record.expect("the record exists")["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(named.len(), 3, "both appends are kept: {named:?}");
    // (PocketBase pads a name this short with random characters: `a2boz2mir6l_….txt`.)
    assert!(
        named.iter().any(|n| n.starts_with('a')) && named.iter().any(|n| n.starts_with('b')),
        "{named:?}"
    );
    named.sort();
    let mut stored = stored;
    stored.sort();
    assert_eq!(named, stored, "every file named exists, and no other");
}

#[test]
fn two_appends_at_once_keep_both_files() {
    two_appends_at_once_keep_both_files_on(false)
}

#[test]
fn two_appends_at_once_keep_both_files_in_sqlite() {
    two_appends_at_once_keep_both_files_on(true)
}
