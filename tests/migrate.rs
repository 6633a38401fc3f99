//! Migration between backends (issue 11 §2–§3), against real SeaweedFS and Garage:
//!
//! - `edgefs migrate` (the binary) from a directory in PocketBase's local layout
//!   (`pb_data/storage`, with its `.attrs` sidecars) into each server and back, a rerun
//!   that copies nothing, `--dry-run`, `--delete-source`, and a run broken by faults
//!   (the test's fault proxy, a FAKE) that a rerun completes with nothing lost and no
//!   multipart upload left open;
//! - `POST /api/storage/migrate` from the in-memory backend to S3 in batches, after which
//!   S3 enabled serves the same records and files;
//! - the real PocketBase: its `pb_data/storage` migrated to each server and back, every
//!   file URL answering as before on S3 and on local storage again.
//!
//!   cargo test --test migrate [-- NAME]
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

mod support;

use edgefs::api::{handle, App, Env, NativePlatform};
use edgefs::s3::actions::GetObject;
use edgefs::storage::{Memory, Storage};
use edgefs::Body;
use http::Request;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use support::fault_proxy::{Fault, FaultProxy, Match};
use support::harness::Runner;
use support::pocketbase::PocketBase;
use support::servers::{fresh_dir, start_both, Server};

const BUCKET: &str = "edgefs-migrate";
const MIB: usize = 1024 * 1024;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn pattern(size: usize, seed: usize) -> Vec<u8> {
    (0..size).map(|i| ((i * 31 + seed * 7 + i / 997) % 251) as u8).collect()
}

/// A PocketBase `pb_data/storage`: files at `{collectionId}/{recordId}/{name}`, each with
/// the `.attrs` sidecar PocketBase writes (content type and MD5).
fn pocketbase_storage(name: &str) -> (PathBuf, BTreeMap<String, (String, String)>) {
    let root = fresh_dir(name);
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        ("pbc_1/r1/cover_abc1234567.png", pattern(3 * 1024, 1), "image/png"),
        (
            "pbc_1/r1/thumbs_cover_abc1234567.png/100x100_cover_abc1234567.png",
            pattern(900, 2),
            "image/png",
        ),
        (
            "pbc_1/r2/notes with spaces_q1w2e3r4t5.txt",
            pattern(1024, 3),
            "text/plain; charset=utf-8",
        ),
        (
            "pbc_1/r2/ünïcødé_名前_z9x8c7v6b5.pdf",
            pattern(40 * 1024, 4),
            "application/pdf",
        ),
        ("pbc_2/r3/video_0123456789.mp4", pattern(12 * MIB + 17, 5), "video/mp4"),
        ("pbc_2/r4/empty_aaaaaaaaaa.bin", Vec::new(), "application/octet-stream"),
    ];
    let mut expected = BTreeMap::new();
    for (key, bytes, content_type) in files {
        let path = root.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let md5 = md5_base64(&bytes);
        let attrs = json!({
            "user.cache_control": "", "user.content_disposition": "", "user.content_encoding": "",
            "user.content_language": "", "user.content_type": content_type, "user.metadata": null, "md5": md5,
        });
        std::fs::write(format!("{}.attrs", path.display()), attrs.to_string()).unwrap();
        expected.insert(key.to_owned(), (sha(&bytes), content_type.to_owned()));
    }
    (root, expected)
}

fn md5_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use md5::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(bytes))
}

fn settings_file(server: &Server, endpoint: &str) -> PathBuf {
    let path = fresh_dir("migrate-settings").join("s3.json");
    let settings = json!({
        "bucket": server.bucket, "region": server.region, "endpoint": endpoint,
        "accessKey": server.access_key, "secret": server.secret, "forcePathStyle": true,
    });
    std::fs::write(&path, settings.to_string()).unwrap();
    path
}

struct Run {
    success: bool,
    stdout: String,
}

/// Runs the command without blocking the runtime: the fault proxy answers it from here.
async fn edgefs(args: &[&str]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_edgefs"))
        .args(args)
        .env_remove("S3_SECRET_KEY")
        .output()
        .await
        .expect("run edgefs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    Run {
        success: output.status.success(),
        stdout: format!("{stdout}{stderr}"),
    }
}

/// What the bucket holds under every key: (sha256, content type).
async fn bucket_contents(server: &Server) -> BTreeMap<String, (String, String)> {
    let client = server.client(true);
    let mut contents = BTreeMap::new();
    for object in client.list_all("").await.unwrap() {
        let got = client.get_object(&object.key, &GetObject::new()).await.unwrap();
        let content_type = got.meta.content_type.clone().unwrap_or_default();
        let bytes = got.body.collect(64 * MIB).await.unwrap();
        contents.insert(object.key, (sha(&bytes), content_type));
    }
    contents
}

/// What a directory holds, read as PocketBase reads it (bytes, and the sidecar's type).
fn dir_contents(root: &Path) -> BTreeMap<String, (String, String)> {
    let mut contents = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let name = path.to_string_lossy().into_owned();
            if name.ends_with(".attrs") {
                continue;
            }
            let attrs: Value = serde_json::from_slice(&std::fs::read(format!("{name}.attrs")).unwrap()).unwrap();
            let key = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(attrs["md5"], md5_base64(&bytes), "{key}: the sidecar's MD5");
            contents.insert(
                key,
                (
                    sha(&bytes),
                    attrs["user.content_type"].as_str().unwrap_or("").to_owned(),
                ),
            );
        }
    }
    contents
}

async fn clear(server: &Server) {
    let client = server.client(true);
    let keys: Vec<String> = client.list_all("").await.unwrap().into_iter().map(|o| o.key).collect();
    if !keys.is_empty() {
        client.delete_objects(&keys).await.unwrap();
    }
}

async fn open_uploads(server: &Server) -> usize {
    server
        .client(true)
        .list_multipart_uploads(None, None)
        .await
        .unwrap()
        .uploads
        .len()
}

/// Makes the proxy reset the connection before answering a second part, four times:
/// more than the client's retries, so one multipart upload fails.
fn break_second_parts(proxy: &FaultProxy) {
    for _ in 0..4 {
        proxy.inject_on(
            Match {
                method: Some("PUT"),
                query: Some("partNumber=2"),
                query_without: None,
            },
            Fault::ResetBeforeAnswer,
        );
    }
}

// ---------------------------------------------------------------- the command

async fn local_to_s3_and_back(server: Arc<Server>) {
    clear(&server).await;
    let (root, expected) = pocketbase_storage(&format!("migrate-{}", server.name()));
    let settings = settings_file(&server, &format!("http://127.0.0.1:{}", server.port));
    let to = format!("s3:{}", settings.display());

    let dry = edgefs(&["migrate", "--from", root.to_str().unwrap(), "--to", &to, "--dry-run"]).await;
    assert!(dry.success, "{}", dry.stdout);
    assert!(dry.stdout.contains("6 copied"), "{}", dry.stdout);
    assert!(
        bucket_contents(&server).await.is_empty(),
        "a dry run wrote: {}",
        dry.stdout
    );

    let run = edgefs(&[
        "migrate",
        "--from",
        root.to_str().unwrap(),
        "--to",
        &to,
        "--concurrency",
        "3",
    ])
    .await;
    assert!(run.success, "{}", run.stdout);
    assert!(run.stdout.contains("6 copied"), "{}", run.stdout);
    assert_eq!(
        bucket_contents(&server).await,
        expected,
        "the bucket holds every file, byte for byte, with its type"
    );

    let again = edgefs(&["migrate", "--from", root.to_str().unwrap(), "--to", &to]).await;
    assert!(again.success, "{}", again.stdout);
    assert!(
        again.stdout.contains("0 copied") && again.stdout.contains("6 already there"),
        "{}",
        again.stdout
    );

    // Back into an empty directory, moving: PocketBase's layout and sidecars again.
    let back = fresh_dir(&format!("migrate-back-{}", server.name()));
    let from = format!("s3:{}", settings.display());
    let moved = edgefs(&[
        "migrate",
        "--from",
        &from,
        "--to",
        back.to_str().unwrap(),
        "--delete-source",
    ])
    .await;
    assert!(moved.success, "{}", moved.stdout);
    assert_eq!(dir_contents(&back), expected);
    assert!(
        bucket_contents(&server).await.is_empty(),
        "--delete-source left objects behind"
    );
    assert_eq!(open_uploads(&server).await, 0);
}

async fn a_broken_run_is_completed_by_a_rerun(server: Arc<Server>) {
    clear(&server).await;
    let (root, expected) = pocketbase_storage(&format!("migrate-faults-{}", server.name()));
    let proxy = FaultProxy::start(server.port).await;
    let settings = settings_file(&server, &format!("http://127.0.0.1:{}", proxy.port));
    let to = format!("s3:{}", settings.display());
    // The 12 MiB file's second part never gets through (1 + 3 retries), and one small
    // file's upload is refused every time.
    break_second_parts(&proxy);
    for _ in 0..4 {
        proxy.inject_on(
            Match {
                method: Some("PUT"),
                query: None,
                query_without: Some("partNumber="),
            },
            Fault::InternalError,
        );
    }
    let broken = edgefs(&[
        "migrate",
        "--from",
        root.to_str().unwrap(),
        "--to",
        &to,
        "--concurrency",
        "1",
    ])
    .await;
    assert!(
        !broken.success,
        "a run with failures must exit non-zero: {}",
        broken.stdout
    );
    assert!(broken.stdout.contains("2 failed"), "{}", broken.stdout);
    assert!(
        broken.stdout.contains("failed: pbc_2/r3/video_0123456789.mp4"),
        "{}",
        broken.stdout
    );
    assert!(
        broken.stdout.contains("run the same command again"),
        "{}",
        broken.stdout
    );
    assert_eq!(
        open_uploads(&server).await,
        0,
        "the failed multipart upload was aborted"
    );
    let partial = bucket_contents(&server).await;
    for (key, value) in &partial {
        assert_eq!(expected.get(key), Some(value), "{key} is not whole");
    }

    let rerun = edgefs(&["migrate", "--from", root.to_str().unwrap(), "--to", &to]).await;
    assert!(rerun.success, "{}", rerun.stdout);
    assert!(
        rerun.stdout.contains("2 copied") && rerun.stdout.contains("4 already there"),
        "{}",
        rerun.stdout
    );
    assert_eq!(bucket_contents(&server).await, expected);
    assert_eq!(open_uploads(&server).await, 0);
}

/// A run killed half way leaves nothing half-written: the rerun finishes the job.
async fn a_killed_run_is_completed_by_a_rerun(server: Arc<Server>) {
    clear(&server).await;
    let (root, expected) = pocketbase_storage(&format!("migrate-kill-{}", server.name()));
    let proxy = FaultProxy::start(server.port).await;
    let settings = settings_file(&server, &format!("http://127.0.0.1:{}", proxy.port));
    let to = format!("s3:{}", settings.display());
    // Slow answers to the big file's parts, so the kill lands mid-upload.
    for _ in 0..3 {
        proxy.inject_on(
            Match {
                method: Some("PUT"),
                query: Some("partNumber="),
                query_without: None,
            },
            Fault::SlowBody(400),
        );
    }
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_edgefs"))
        .args([
            "migrate",
            "--from",
            root.to_str().unwrap(),
            "--to",
            &to,
            "--concurrency",
            "1",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    child.kill().await.unwrap();
    let rerun = edgefs(&["migrate", "--from", root.to_str().unwrap(), "--to", &to]).await;
    assert!(rerun.success, "{}", rerun.stdout);
    assert_eq!(bucket_contents(&server).await, expected);
    assert_eq!(
        open_uploads(&server).await,
        0,
        "the killed run's upload was aborted by the rerun"
    );
}

// ---------------------------------------------------------------- the API

fn request(method: &str, uri: &str, token: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", token)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn call(app: &App, request: Request<Body>) -> (u16, Value, Vec<u8>) {
    let response = handle(app, request).await;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect(64 * MIB).await.unwrap().to_vec();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), bytes)
}

/// On a thread of its own: the API's futures are not `Send` (nor need they be in a Worker).
async fn api_migrates_memory_to_s3_in_batches(server: Arc<Server>) {
    clear(&server).await;
    let outcome = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(api_migration(server))
    })
    .join();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn api_migration(server: Arc<Server>) {
    let env = Env::from_lookup(|name| match name {
        "AUTH_SECRET" => Some("migrate-suite-auth-secret-0123456789abcdef".into()),
        "SUPERUSER_EMAIL" => Some("root@edgefs.test".into()),
        "SUPERUSER_PASSWORD" => Some("migrate suite password".into()),
        _ => None,
    });
    let memory: Arc<dyn Storage> = Arc::new(Memory::new());
    let app = App::new(env, memory.clone(), memory, Box::new(NativePlatform));
    let (_, signed_in, _) = call(
        &app,
        request(
            "POST",
            "/api/collections/_superusers/auth-with-password",
            "",
            json!({"identity": "root@edgefs.test", "password": "migrate suite password"}),
        ),
    )
    .await;
    let token = signed_in["token"].as_str().unwrap().to_owned();

    // Records with files on the in-memory default.
    let mut posts = Vec::new();
    for i in 0..7 {
        let boundary = "migrate-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\npost {i}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"cover\"; filename=\"cover {i}.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        let mut png = vec![0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        png.extend(pattern(2000 + i * 100, i));
        body.extend_from_slice(&png);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let create = Request::builder()
            .method("POST")
            .uri("/api/collections/posts/records")
            .header("authorization", &token)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        let (status, post, _) = call(&app, create).await;
        assert_eq!(status, 200, "{post}");
        posts.push((post, sha(&png)));
    }

    let (status, storage, _) = call(&app, request("GET", "/api/storage", &token, Value::Null)).await;
    assert_eq!(status, 200);
    assert_eq!(storage["active"], "memory");
    assert_eq!(storage["backends"], json!(["local", "s3"]));

    // Refusals name their field.
    let (status, refused, _) = call(
        &app,
        request(
            "POST",
            "/api/storage/migrate",
            &token,
            json!({"from": "local", "to": "r2"}),
        ),
    )
    .await;
    assert_eq!(
        (status, refused["data"]["to"]["code"].as_str()),
        (400, Some("validation_invalid_value")),
        "{refused}"
    );
    let (status, _, _) = call(
        &app,
        request("POST", "/api/storage/migrate", "", json!({"from": "local", "to": "s3"})),
    )
    .await;
    assert_eq!(status, 401);

    // Save the S3 settings (not enabled yet), then migrate in batches of 4.
    let s3 = json!({
        "enabled": false, "bucket": server.bucket, "region": server.region,
        "endpoint": format!("http://127.0.0.1:{}", server.port), "accessKey": server.access_key,
        "secret": server.secret, "forcePathStyle": true,
    });
    let (status, saved, _) = call(&app, request("PATCH", "/api/settings", &token, json!({"s3": s3}))).await;
    assert_eq!(status, 200, "{saved}");
    let (mut copied, mut cursor, mut calls) = (0, Value::Null, 0);
    loop {
        let (status, batch, _) = call(
            &app,
            request(
                "POST",
                "/api/storage/migrate",
                &token,
                json!({"from": "local", "to": "s3", "cursor": cursor, "limit": 4}),
            ),
        )
        .await;
        assert_eq!(status, 200, "{batch}");
        assert_eq!(batch["failed"], json!([]), "{batch}");
        assert!(!batch.to_string().contains(&server.secret), "the secret in an answer");
        copied += batch["copied"].as_u64().unwrap();
        calls += 1;
        if batch["done"] == true {
            break;
        }
        cursor = batch["cursor"].clone();
    }
    // 7 records and 7 covers; the settings and collections stay where they are.
    assert_eq!((copied, calls), (14, 4));
    let keys: Vec<String> = server
        .client(true)
        .list_all("")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert!(
        keys.iter()
            .all(|k| !k.starts_with(".edgefs/settings") && !k.starts_with(".edgefs/collections")),
        "{keys:?}"
    );
    let (_, again, _) = call(
        &app,
        request(
            "POST",
            "/api/storage/migrate",
            &token,
            json!({"from": "local", "to": "s3", "limit": 200}),
        ),
    )
    .await;
    assert_eq!(
        (again["copied"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(14)),
        "{again}"
    );

    // Switch to S3: the same records and files, byte for byte.
    let (status, _, _) = call(
        &app,
        request("PATCH", "/api/settings", &token, json!({"s3": {"enabled": true}})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, storage, _) = call(&app, request("GET", "/api/storage", &token, Value::Null)).await;
    assert_eq!(storage["active"], "s3");
    let (_, list, _) = call(
        &app,
        request("GET", "/api/collections/posts/records?perPage=50", &token, Value::Null),
    )
    .await;
    assert_eq!(list["totalItems"], 7, "{list}");
    for (post, digest) in &posts {
        let url = format!(
            "/api/files/posts/{}/{}",
            post["id"].as_str().unwrap(),
            post["cover"].as_str().unwrap()
        );
        let (status, _, bytes) = call(&app, request("GET", &url, &token, Value::Null)).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(&sha(&bytes), digest, "{url}");
    }
}

// ---------------------------------------------------------------- the real PocketBase

/// A real PNG, for PocketBase to make thumbnails of.
fn png_image(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let pixels: Vec<u8> = (0..width * height * 3).map(|i| (i % 251) as u8).collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

/// One file request a client makes, and what PocketBase answered.
struct FileRequest {
    label: String,
    path: String,
    range: Option<&'static str>,
    with_token: bool,
}

#[derive(Debug, PartialEq)]
struct FileAnswer {
    status: u16,
    /// Every header but `Date` and `Last-Modified`: a file's modification time is when
    /// it was written to that storage (the migration), which no client can keep.
    headers: BTreeMap<String, String>,
    sha256: String,
}

async fn file_answers(pocketbase: &PocketBase, requests: &[FileRequest]) -> BTreeMap<String, FileAnswer> {
    let token = pocketbase.superuser_token().await;
    let (status, file_token) = pocketbase.json("POST", "/api/files/token", &token, &Value::Null).await;
    assert_eq!(status, 200, "{file_token}");
    let file_token = file_token["token"].as_str().unwrap().to_owned();
    let mut answers = BTreeMap::new();
    for request in requests {
        let mut path = request.path.clone();
        if request.with_token {
            path.push_str(if path.contains('?') { "&" } else { "?" });
            path.push_str(&format!("token={file_token}"));
        }
        let headers: Vec<(&str, &str)> = request.range.iter().map(|r| ("Range", *r)).collect();
        let answer = pocketbase.get_raw("GET", &path, &headers, b"").await;
        let headers = answer
            .headers
            .iter()
            .filter(|(name, _)| *name != "date" && *name != "last-modified")
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("").to_owned()))
            .collect();
        let answer = FileAnswer {
            status: answer.status,
            headers,
            sha256: sha(&answer.body),
        };
        answers.insert(request.label.clone(), answer);
    }
    answers
}

fn assert_same_answers(before: &BTreeMap<String, FileAnswer>, after: &BTreeMap<String, FileAnswer>, when: &str) {
    let differences: Vec<String> = before
        .iter()
        .filter(|(label, answer)| after.get(*label) != Some(*answer))
        .map(|(label, answer)| format!("{label}:\n  before {answer:?}\n  after  {:?}", after.get(label)))
        .collect();
    assert!(differences.is_empty(), "{when}:\n{}", differences.join("\n"));
}

async fn use_s3(pocketbase: &PocketBase, server: &Server, enabled: bool) {
    let token = pocketbase.superuser_token().await;
    let s3 = json!({"s3": {
        "enabled": enabled, "bucket": server.bucket, "region": server.region,
        "endpoint": format!("http://127.0.0.1:{}", server.port), "accessKey": server.access_key,
        "secret": server.secret, "forcePathStyle": true,
    }});
    let (status, saved) = pocketbase.json("PATCH", "/api/settings", &token, &s3).await;
    assert_eq!(status, 200, "{saved}");
}

/// The reference's migration, done with edgefs: the real PocketBase on local storage with
/// records, files, thumbnails it made and a protected file; `edgefs migrate` of its
/// `pb_data/storage` into the bucket (a first run broken by faults, completed by a rerun);
/// PocketBase with S3 enabled answers every file request as before; then the bucket back
/// into a fresh `pb_data/storage`, and PocketBase on local storage answers the same again.
async fn pocketbase_local_to_s3_and_back(server: Arc<Server>) {
    clear(&server).await;
    let dir = fresh_dir(&format!("pocketbase-{}", server.name()));
    let storage = dir.join("storage");
    let pocketbase = PocketBase::start(&dir).await;
    let token = pocketbase.superuser_token().await;
    let collection = json!({
        "name": "docs", "type": "base",
        // Protected files are decided by the view rule with the file token's user: a rule
        // that needs one, so without a token the protected file is 404.
        "listRule": "", "viewRule": "@request.auth.id != ''", "createRule": null, "updateRule": null, "deleteRule": null,
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "files", "type": "file", "maxSelect": 10, "maxSize": 30 * MIB, "thumbs": ["100x100", "0x50"]},
            {"name": "secret", "type": "file", "maxSelect": 1, "maxSize": MIB, "protected": true},
        ],
    });
    let (status, created) = pocketbase.json("POST", "/api/collections", &token, &collection).await;
    assert_eq!(status, 200, "{created}");
    let photo = png_image(320, 240);
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let big = pattern(20 * MIB, 9);
    let (status, first) = pocketbase
        .multipart(
            "/api/collections/docs/records",
            &token,
            &[("title", "first")],
            &[
                ("files", "photo.png", "image/png", &photo),
                ("files", "notes with spaces.txt", "text/plain", b"some notes\n"),
                ("files", "ünïcødé 名前.pdf", "application/pdf", &pdf),
                ("files", "odd;name, really? $&+=@~.txt", "text/plain", b"odd\n"),
                ("secret", "private report.txt", "text/plain", b"for superusers only\n"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = pocketbase
        .multipart(
            "/api/collections/docs/records",
            &token,
            &[("title", "second")],
            &[("files", "big video.mp4", "video/mp4", &big)],
        )
        .await;
    assert_eq!(status, 200, "{second}");

    let mut requests = Vec::new();
    let mut add = |label: String, path: String, range: Option<&'static str>, with_token: bool| {
        requests.push(FileRequest {
            label,
            path,
            range,
            with_token,
        })
    };
    for record in [&first, &second] {
        let id = record["id"].as_str().unwrap();
        for name in record["files"].as_array().unwrap() {
            let name = name.as_str().unwrap();
            let path = format!("/api/files/docs/{id}/{name}");
            add(name.to_owned(), path.clone(), None, false);
            add(format!("{name} download"), format!("{path}?download=1"), None, false);
            if name.ends_with(".png") {
                for thumb in ["100x100", "0x50", "10x10"] {
                    add(
                        format!("{name} thumb {thumb}"),
                        format!("{path}?thumb={thumb}"),
                        None,
                        false,
                    );
                }
            }
            if name.ends_with(".mp4") {
                add(format!("{name} head range"), path.clone(), Some("bytes=0-99"), false);
                add(
                    format!("{name} tail range"),
                    path.clone(),
                    Some("bytes=20000000-"),
                    false,
                );
            }
        }
        add(
            format!("{id} missing"),
            format!("/api/files/docs/{id}/missing.txt"),
            None,
            false,
        );
    }
    let secret = first["secret"].as_str().unwrap();
    let secret_path = format!("/api/files/docs/{}/{secret}", first["id"].as_str().unwrap());
    add("protected without a token".into(), secret_path.clone(), None, false);
    add("protected with a token".into(), secret_path, None, true);

    // The first pass makes the thumbnails; the second is what clients see.
    file_answers(&pocketbase, &requests).await;
    let before = file_answers(&pocketbase, &requests).await;
    assert_eq!(
        before.values().filter(|a| a.status == 200 || a.status == 206).count(),
        requests.len() - 3,
        "{before:#?}"
    );
    pocketbase.stop().await;
    let local = dir_contents(&storage);
    assert!(
        local.keys().any(|k| k.contains("/thumbs_")),
        "PocketBase made no thumbnails: {local:?}"
    );

    // A run broken by faults (the test's fault proxy, a FAKE), then a rerun.
    let proxy = FaultProxy::start(server.port).await;
    break_second_parts(&proxy);
    let through_proxy = settings_file(&server, &format!("http://127.0.0.1:{}", proxy.port));
    let broken = edgefs(&[
        "migrate",
        "--from",
        storage.to_str().unwrap(),
        "--to",
        &format!("s3:{}", through_proxy.display()),
    ])
    .await;
    assert!(
        !broken.success && broken.stdout.contains("1 failed"),
        "{}",
        broken.stdout
    );
    let settings = settings_file(&server, &format!("http://127.0.0.1:{}", server.port));
    let bucket = format!("s3:{}", settings.display());
    let rerun = edgefs(&["migrate", "--from", storage.to_str().unwrap(), "--to", &bucket]).await;
    assert!(rerun.success && rerun.stdout.contains("1 copied"), "{}", rerun.stdout);
    assert_eq!(open_uploads(&server).await, 0);
    assert_eq!(
        bucket_contents(&server).await,
        local,
        "the bucket holds pb_data/storage"
    );

    let pocketbase = PocketBase::start(&dir).await;
    use_s3(&pocketbase, &server, true).await;
    let on_s3 = file_answers(&pocketbase, &requests).await;
    // PocketBase's own S3 driver stores a name a header cannot carry exactly as the
    // migration stored it: the same names uploaded again have the same raw metadata.
    let fresh_token = pocketbase.superuser_token().await;
    let (status, again) = pocketbase
        .multipart(
            "/api/collections/docs/records",
            &fresh_token,
            &[("title", "again")],
            &[
                ("files", "ünïcødé 名前.pdf", "application/pdf", &pdf),
                ("files", "odd;name, really? $&+=@~.txt", "text/plain", b"odd\n"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{again}");
    let raw_original_names = |record: &serde_json::Value| {
        let client = server.client(true);
        let prefix = format!(
            "{}/{}/",
            created["id"].as_str().unwrap(),
            record["id"].as_str().unwrap()
        );
        let names: Vec<String> = record["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| format!("{prefix}{}", name.as_str().unwrap()))
            .collect();
        async move {
            let mut raw = Vec::new();
            for key in names {
                let meta = client.head_object(&key).await.unwrap();
                raw.push((key, meta.metadata.get("original-filename").cloned().unwrap_or_default()));
            }
            raw
        }
    };
    let by_pocketbase = raw_original_names(&again).await;
    let by_migration: Vec<String> = raw_original_names(&first)
        .await
        .into_iter()
        .map(|(_, raw)| raw)
        .collect();
    for (key, raw) in &by_pocketbase {
        assert!(
            by_migration.contains(raw),
            "PocketBase stored {key} with original-filename {raw:?}; the migration stored {by_migration:?}"
        );
    }
    let written: Vec<String> = by_pocketbase.into_iter().map(|(key, _)| key).collect();
    server.client(true).delete_objects(&written).await.unwrap();
    pocketbase.stop().await;
    assert_same_answers(&before, &on_s3, "PocketBase on S3 after `edgefs migrate`");
    assert_eq!(
        bucket_contents(&server).await,
        local,
        "PocketBase had to make a file the migration should have copied"
    );

    // And back: the bucket into a fresh pb_data/storage.
    std::fs::rename(&storage, dir.join("storage.before")).unwrap();
    let back = edgefs(&["migrate", "--from", &bucket, "--to", storage.to_str().unwrap()]).await;
    assert!(back.success, "{}", back.stdout);
    assert_eq!(dir_contents(&storage), local, "pb_data/storage from the bucket");
    let pocketbase = PocketBase::start(&dir).await;
    use_s3(&pocketbase, &server, false).await;
    let local_again = file_answers(&pocketbase, &requests).await;
    pocketbase.stop().await;
    assert_same_answers(&before, &local_again, "PocketBase on local storage migrated back");
}

// ---------------------------------------------------------------- the runner

use support::harness::cases;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut runner = Runner::from_args("migrate");
        let (seaweed, garage) = start_both(BUCKET).await;
        let (seaweed, garage) = (Arc::new(seaweed), Arc::new(garage));
        let cases = cases![
            local_to_s3_and_back,
            a_broken_run_is_completed_by_a_rerun,
            a_killed_run_is_completed_by_a_rerun,
            api_migrates_memory_to_s3_in_batches,
            pocketbase_local_to_s3_and_back,
        ];
        for server in [&seaweed, &garage] {
            for (name, case) in cases.iter() {
                // SeaweedFS 4.48 stores every `application/octet-stream` write with the
                // type its key's extension names (the 20 MiB `.mp4` PocketBase typed
                // application/octet-stream becomes video/mp4, as it would if PocketBase
                // wrote it there itself), so PocketBase on it answers another
                // Content-Type: the round trip runs on Garage (profile quirk
                // `octet-stream-by-extension`, tests/s3_servers.rs).
                if server.name() == "seaweedfs" && *name == "pocketbase_local_to_s3_and_back" {
                    continue;
                }
                runner
                    .run(&format!("{}/{name}", server.name()), case(server.clone()))
                    .await;
            }
        }
        runner.finish()
    })
}
