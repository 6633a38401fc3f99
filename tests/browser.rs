//! The same S3 client, compiled to wasm32, in headless Chromium against SeaweedFS on
//! 127.0.0.1 — through the browser's own `fetch`, CORS and all.
//!
//! Run by `tests/browser_runner.rs` (`scripts/browser-test.sh`), which starts SeaweedFS
//! and passes its address at compile time.
#![cfg(all(target_arch = "wasm32", target_os = "unknown"))]

use edgefs::client::UploadConfig;
use edgefs::s3::actions::{ByteRange, CopyObject, GetObject, ListObjectsV2, ObjectOptions};
use edgefs::transport::fetch::FetchTransport;
use edgefs::{Body, S3Client, S3Settings};
use futures::TryStreamExt;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn setting(name: &str, value: Option<&'static str>) -> &'static str {
    value.unwrap_or_else(|| panic!("{name} is not set: run the browser tests with scripts/browser-test.sh"))
}

fn settings(path_style: bool) -> S3Settings {
    let port = setting("EDGEFS_BROWSER_S3_PORT", option_env!("EDGEFS_BROWSER_S3_PORT"));
    let host = if path_style { "127.0.0.1" } else { "localhost" };
    S3Settings::new(
        setting("EDGEFS_BROWSER_S3_BUCKET", option_env!("EDGEFS_BROWSER_S3_BUCKET")),
        "us-east-1",
        format!("http://{host}:{port}"),
        setting(
            "EDGEFS_BROWSER_S3_ACCESS_KEY",
            option_env!("EDGEFS_BROWSER_S3_ACCESS_KEY"),
        ),
        setting("EDGEFS_BROWSER_S3_SECRET", option_env!("EDGEFS_BROWSER_S3_SECRET")),
    )
    .force_path_style(path_style)
}

fn client() -> S3Client<FetchTransport> {
    S3Client::new(&settings(true), FetchTransport).unwrap()
}

async fn read_all(body: Body) -> Vec<u8> {
    body.into_stream()
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
        .unwrap()
}

/// A plain browser `fetch`, as a page using a presigned URL would do.
async fn plain_fetch(method: &str, url: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&js_sys::Uint8Array::from(body));
    }
    let window = web_sys::window().unwrap();
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    let buffer = JsFuture::from(response.array_buffer().unwrap()).await.unwrap();
    (response.status(), js_sys::Uint8Array::new(&buffer).to_vec())
}

#[wasm_bindgen_test]
async fn put_get_head_delete() {
    let client = client();
    let key = "browser/put get ü+.txt";
    let options = ObjectOptions::default().content_type("text/plain");
    client
        .put_object(key, Body::from("hello from the browser"), &options)
        .await
        .unwrap();
    let meta = client.head_object(key).await.unwrap();
    assert_eq!(meta.content_length, Some(22));
    assert_eq!(meta.content_type.as_deref(), Some("text/plain"));
    let got = client.get_object(key, &GetObject::new()).await.unwrap();
    assert_eq!(got.status, 200);
    assert!(got.body.is_js_stream(), "the body stays the browser's ReadableStream");
    assert_eq!(read_all(got.body).await, b"hello from the browser");
    client.delete_object(key).await.unwrap();
    assert!(client.head_object(key).await.unwrap_err().is_not_found());
}

#[wasm_bindgen_test]
async fn range_get() {
    let client = client();
    let key = "browser/range.bin";
    let data: Vec<u8> = (0..100u8).collect();
    client
        .put_object(key, Body::from(data.clone()), &ObjectOptions::default())
        .await
        .unwrap();
    let got = client
        .get_object(key, &GetObject::new().range(ByteRange::Inclusive(10, 19)))
        .await
        .unwrap();
    assert_eq!(got.status, 206);
    assert_eq!(read_all(got.body).await, &data[10..20]);
    let got = client
        .get_object(key, &GetObject::new().range(ByteRange::Suffix(3)))
        .await
        .unwrap();
    assert_eq!(read_all(got.body).await, &data[97..]);
}

#[wasm_bindgen_test]
async fn list_copy_and_batch_delete() {
    let client = client();
    for name in ["a.txt", "b c.txt", "sub/d.txt"] {
        client
            .put_object(
                &format!("browser/list/{name}"),
                Body::from(name.to_owned()),
                &ObjectOptions::default(),
            )
            .await
            .unwrap();
    }
    client
        .copy_object(
            "browser/list/b c.txt",
            "browser/list/copy of b+c.txt",
            &CopyObject::default(),
        )
        .await
        .unwrap();
    let page = client
        .list_objects_v2(&ListObjectsV2 {
            prefix: Some("browser/list/".into()),
            delimiter: Some("/".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let keys: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "browser/list/a.txt",
            "browser/list/b c.txt",
            "browser/list/copy of b+c.txt"
        ]
    );
    assert_eq!(page.common_prefixes, ["browser/list/sub/"]);
    let copied = client
        .get_object("browser/list/copy of b+c.txt", &GetObject::new())
        .await
        .unwrap();
    assert_eq!(read_all(copied.body).await, b"b c.txt");

    let all: Vec<String> = client
        .list_all("browser/list/")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(all.len(), 4);
    let deleted = client.delete_objects(&all).await.unwrap();
    assert!(deleted.errors.is_empty(), "{:?}", deleted.errors);
    assert!(client.list_all("browser/list/").await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn presigned_urls_work_with_plain_fetch() {
    let client = client();
    let key = "browser/presigned file.txt";
    let put_url = client.presign_put(key, Duration::from_secs(300)).unwrap();
    let (status, _) = plain_fetch("PUT", &put_url, Some(b"put through a presigned URL")).await;
    assert_eq!(status, 200);
    let get_url = client.presign_get(key, Duration::from_secs(300)).unwrap();
    let (status, body) = plain_fetch("GET", &get_url, None).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"put through a presigned URL");
}

#[wasm_bindgen_test]
async fn multipart_upload_from_a_stream() {
    const MIB: usize = 1024 * 1024;
    let client = client().with_upload_config(UploadConfig {
        part_size: 5 * MIB as u64,
        concurrency: 2,
    });
    let key = "browser/multipart.bin";
    let data: Vec<u8> = (0..11 * MIB + 7).map(|i| (i % 251) as u8).collect();
    let chunks: Vec<Result<bytes::Bytes, edgefs_s3::Error>> = data
        .chunks(700_000)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let body = Body::from_stream(Box::pin(futures::stream::iter(chunks)), None);
    let etag = client
        .upload(key, body, &ObjectOptions::default())
        .await
        .unwrap()
        .expect("an ETag");
    assert!(etag.trim_matches('"').ends_with("-3"), "three parts, got {etag}");
    let got = client.get_object(key, &GetObject::new()).await.unwrap();
    assert_eq!(read_all(got.body).await, data);
    assert!(client
        .list_multipart_uploads(Some("browser/"), None)
        .await
        .unwrap()
        .uploads
        .is_empty());
}

#[wasm_bindgen_test]
async fn virtual_hosted_style_from_the_browser() {
    let client = S3Client::new(&settings(false), FetchTransport).unwrap();
    assert!(!client.bucket().is_path_style());
    client
        .put_object(
            "browser/virtual.txt",
            Body::from("virtual host"),
            &ObjectOptions::default(),
        )
        .await
        .unwrap();
    let got = client
        .get_object("browser/virtual.txt", &GetObject::new())
        .await
        .unwrap();
    assert_eq!(read_all(got.body).await, b"virtual host");
}

#[wasm_bindgen_test]
async fn wrong_secret_reads_like_the_native_client() {
    let mut settings = settings(true);
    settings.secret = "wrong".into();
    let client = S3Client::new(&settings, FetchTransport)
        .unwrap()
        .with_retry(edgefs::RetryPolicy::none());
    let error = client.list_objects_v2(&ListObjectsV2::default()).await.unwrap_err();
    assert_eq!(error.status(), Some(403));
    assert!(error.to_string().contains("secret"), "{error}");
}
