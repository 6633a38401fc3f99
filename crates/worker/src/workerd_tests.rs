//! The test route of the `workerd-tests` build: `GET /_test/conformance?backend=kv|r2`
//! runs [`conformance::run`] inside workerd against the bound
//! KV namespace or R2 bucket and answers the outcomes as JSON
//! (`[{"name", "ok", "error"}]`). It adds checks only workerd can make (bodies that
//! are the runtime's own streams, in and out) and, for `kv`, the size-limit checks.
//!
//! Only compiled with the `workerd-tests` feature (a separate test build of the
//! Worker, `scripts/lib-worker.sh build-tests`): the shipped Worker has no such route.

use edgefs::storage::{
    conformance, GetOptions, GetOutcome, Kv, Memory, Object, Storage, UploadOptions, KV_BINDING, KV_VALUE_LIMIT, R2,
    R2_BINDING,
};
use edgefs::{Body, Error};
use wasm_bindgen::JsValue;

/// Answers the test route, or `None` for every other request.
pub(crate) async fn handle(request: &web_sys::Request, env: &JsValue) -> Option<Result<web_sys::Response, JsValue>> {
    let url = request.url();
    let (path, query) = match url.split_once("://").and_then(|(_, rest)| rest.split_once('/')) {
        Some((_, rest)) => rest.split_once('?').unwrap_or((rest, "")),
        None => return None,
    };
    if path != "_test/conformance" {
        return None;
    }
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    };
    let backend = param("backend").unwrap_or_default();
    let filter = param("filter");
    let storage: Box<dyn Storage> = match backend.as_str() {
        "kv" => match Kv::from_env(env, KV_BINDING) {
            Some(kv) => Box::new(kv),
            None => return Some(answer(500, &format!("no KV namespace bound as {KV_BINDING}"))),
        },
        "r2" => match R2::from_env(env, R2_BINDING) {
            Some(r2) => Box::new(r2),
            None => return Some(answer(500, &format!("no R2 bucket bound as {R2_BINDING}"))),
        },
        "memory" => Box::new(Memory::new()),
        other => return Some(answer(400, &format!("unknown backend {other:?}"))),
    };
    let prefix = format!(
        "conformance-{}-{}/",
        edgefs::clock::unix_seconds(edgefs::clock::now()),
        edgefs::random::string(8, b"abcdefghijklmnopqrstuvwxyz0123456789")
    );
    let mut outcomes: Vec<(String, Result<(), String>)> =
        conformance::run(storage.as_ref(), &prefix, filter.as_deref())
            .await
            .into_iter()
            .map(|o| (o.name.to_owned(), o.result))
            .collect();
    if filter.is_none() && backend != "memory" {
        let checks = [
            "js_stream_upload_with_known_length",
            "js_stream_upload_with_unknown_length",
            "a_js_stream_shorter_than_its_length_fails",
            "downloads_and_ranges_are_the_runtimes_streams",
            "copy_of_a_large_object_keeps_bytes_and_metadata",
            "conditions_as_browsers_send_them",
        ];
        for name in checks {
            let result = workerd_check(storage.as_ref(), name, &format!("{prefix}workerd/{name}/")).await;
            outcomes.push((name.to_owned(), result));
        }
    }
    if backend == "kv" && filter.is_none() {
        let kv = Kv::from_env(env, KV_BINDING)?;
        outcomes.push((
            "kv_refuses_a_known_length_over_25_mib".into(),
            kv_known_length_limit(&kv, &prefix).await,
        ));
        outcomes.push((
            "kv_refuses_a_stream_over_25_mib_leaving_the_old_value".into(),
            kv_stream_limit(&kv, &prefix).await,
        ));
        outcomes.push((
            "kv_refuses_oversized_metadata".into(),
            kv_metadata_limit(&kv, &prefix).await,
        ));
    }
    let json: Vec<serde_json::Value> = outcomes
        .into_iter()
        .map(|(name, result)| serde_json::json!({ "name": name, "ok": result.is_ok(), "error": result.err() }))
        .collect();
    Some(answer(200, &serde_json::Value::Array(json).to_string()))
}

fn answer(status: u16, text: &str) -> Result<web_sys::Response, JsValue> {
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    web_sys::Response::new_with_opt_str_and_init(Some(text), &init)
}

async fn kv_known_length_limit(kv: &Kv, prefix: &str) -> Result<(), String> {
    let key = format!("{prefix}limits/known");
    // A stream that claims its length and would fail if it were ever read.
    let never: edgefs::transport::ByteStream = Box::pin(futures::stream::once(async {
        Err(edgefs_s3::Error::Body(
            "the body of an oversized upload was read".into(),
        ))
    }));
    let body = Body::from_stream(never, Some(KV_VALUE_LIMIT + 1));
    let result = kv.upload(&key, body, &UploadOptions::default()).await;
    match result {
        Err(Error::InvalidInput(message)) if message.contains("25 MiB") => {}
        other => return Err(format!("upload of 25 MiB + 1 byte: {other:?}")),
    }
    let left = kv.attributes(&key).await.map_err(|e| e.to_string())?;
    if left.is_some() {
        return Err("something was written".into());
    }
    Ok(())
}

async fn kv_stream_limit(kv: &Kv, prefix: &str) -> Result<(), String> {
    let key = format!("{prefix}limits/stream");
    kv.upload(&key, Body::from("old"), &UploadOptions::default())
        .await
        .map_err(|e| format!("first upload: {e}"))?;
    // 26 chunks of 1 MiB, length unknown: one over the limit.
    let chunk = bytes::Bytes::from(vec![7u8; 1024 * 1024]);
    let chunks: Vec<Result<bytes::Bytes, edgefs_s3::Error>> = (0..26).map(|_| Ok(chunk.clone())).collect();
    let body = Body::from_stream(Box::pin(futures::stream::iter(chunks)), None);
    match kv.upload(&key, body, &UploadOptions::default()).await {
        Err(Error::InvalidInput(message)) if message.contains(&KV_VALUE_LIMIT.to_string()) => {}
        other => return Err(format!("upload of a 26 MiB stream: {other:?}")),
    }
    let attributes = kv
        .attributes(&key)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the old value is gone")?;
    if attributes.size != 3 {
        return Err(format!("the value left has {} bytes, not the old 3", attributes.size));
    }
    Ok(())
}

async fn kv_metadata_limit(kv: &Kv, prefix: &str) -> Result<(), String> {
    let key = format!("{prefix}limits/metadata");
    let options = UploadOptions::default().metadata("long", "x".repeat(2000));
    match kv.upload(&key, Body::from("x"), &options).await {
        Err(Error::InvalidInput(message)) if message.contains("metadata") => {}
        other => return Err(format!("upload with 2000 bytes of metadata: {other:?}")),
    }
    if kv.attributes(&key).await.map_err(|e| e.to_string())?.is_some() {
        return Err("something was written".into());
    }
    Ok(())
}

fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 % 251) as u8).collect()
}

/// A runtime `ReadableStream` of `bytes` (made by a `Response`, as a request body is).
fn js_stream(bytes: &[u8]) -> Result<web_sys::ReadableStream, String> {
    let array = js_sys::Uint8Array::from(bytes);
    web_sys::Response::new_with_opt_js_u8_array_and_init(Some(&array), &web_sys::ResponseInit::new())
        .map_err(|e| format!("new Response: {e:?}"))?
        .body()
        .ok_or_else(|| "a Response without a body".to_owned())
}

async fn read_all(body: Body) -> Result<Vec<u8>, String> {
    body.collect(usize::MAX)
        .await
        .map(|b| b.to_vec())
        .map_err(|e| format!("reading: {e}"))
}

async fn read_object(storage: &dyn Storage, key: &str, options: &GetOptions) -> Result<Object, String> {
    match storage
        .get(key, options)
        .await
        .map_err(|e| format!("get {key:?}: {e}"))?
    {
        GetOutcome::Found(object) => Ok(object),
        other => Err(format!("get {key:?}: {other:?}")),
    }
}

async fn workerd_check(storage: &dyn Storage, name: &str, prefix: &str) -> Result<(), String> {
    let data = pattern(300_000);
    let key = format!("{prefix}object.bin");
    let options = UploadOptions::default()
        .content_type("application/x-test")
        .metadata("original", "object.bin");
    match name {
        "js_stream_upload_with_known_length" | "js_stream_upload_with_unknown_length" => {
            let length = (name == "js_stream_upload_with_known_length").then_some(data.len() as u64);
            let body = Body::from_js_stream(js_stream(&data)?, length);
            storage
                .upload(&key, body, &options)
                .await
                .map_err(|e| format!("upload: {e}"))?;
            let object = read_object(storage, &key, &GetOptions::default()).await?;
            if object.attributes.size != data.len() as u64 {
                return Err(format!("size {}", object.attributes.size));
            }
            if object.attributes.content_type.as_deref() != Some("application/x-test") {
                return Err(format!("content type {:?}", object.attributes.content_type));
            }
            if read_all(object.body).await? != data {
                return Err("the bytes read back differ".into());
            }
            Ok(())
        }
        "a_js_stream_shorter_than_its_length_fails" => {
            let body = Body::from_js_stream(js_stream(&data[..1000])?, Some(2000));
            if storage.upload(&key, body, &options).await.is_ok() {
                return Err("a 1000-byte stream said to have 2000 bytes was stored".into());
            }
            if storage.attributes(&key).await.map_err(|e| e.to_string())?.is_some() {
                return Err("something was written".into());
            }
            Ok(())
        }
        "downloads_and_ranges_are_the_runtimes_streams" => {
            storage
                .upload(&key, Body::from(data.clone()), &options)
                .await
                .map_err(|e| format!("upload: {e}"))?;
            let whole = read_object(storage, &key, &GetOptions::default()).await?;
            if !whole.body.is_js_stream() {
                return Err(format!("a download is {:?}, not the runtime's stream", whole.body));
            }
            if whole.body.len() != Some(data.len() as u64) {
                return Err(format!("a download's length is {:?}", whole.body.len()));
            }
            drop(whole);
            let ranged = GetOptions {
                range: Some(edgefs::s3::actions::ByteRange::Inclusive(70_000, 200_000)),
                ..Default::default()
            };
            let part = read_object(storage, &key, &ranged).await?;
            if !part.body.is_js_stream() {
                return Err(format!(
                    "a ranged download is {:?}, not the runtime's stream",
                    part.body
                ));
            }
            if read_all(part.body).await? != data[70_000..=200_000] {
                return Err("the range's bytes differ".into());
            }
            Ok(())
        }
        "copy_of_a_large_object_keeps_bytes_and_metadata" => {
            storage
                .upload(&key, Body::from(data.clone()), &options)
                .await
                .map_err(|e| format!("upload: {e}"))?;
            let to = format!("{prefix}copy.bin");
            storage.copy(&key, &to).await.map_err(|e| format!("copy: {e}"))?;
            let copy = read_object(storage, &to, &GetOptions::default()).await?;
            if copy.attributes.content_type.as_deref() != Some("application/x-test")
                || copy.attributes.metadata.get("original").map(String::as_str) != Some("object.bin")
            {
                return Err(format!("the copy's attributes {:?}", copy.attributes));
            }
            if read_all(copy.body).await? != data {
                return Err("the copy's bytes differ".into());
            }
            Ok(())
        }
        "conditions_as_browsers_send_them" => {
            storage
                .upload(&key, Body::from("v1"), &options)
                .await
                .map_err(|e| format!("upload: {e}"))?;
            let attributes = storage
                .attributes(&key)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("missing after upload")?;
            let etag = attributes.etag.clone().ok_or("no etag")?;
            let modified = attributes.modified.ok_or("no modification time")?;
            // Last-Modified as HTTP sends it, in whole seconds.
            let second = std::time::UNIX_EPOCH + std::time::Duration::from_secs(edgefs::clock::unix_seconds(modified));
            let cases = [
                (Some(format!("\"other\", {etag}")), None, true),
                (Some("*".to_owned()), None, true),
                (Some(format!("W/{etag}")), None, true),
                (Some("\"other\", \"another\"".to_owned()), None, false),
                (None, Some(second), true),
                (None, Some(second - std::time::Duration::from_secs(1)), false),
                // If-None-Match wins over If-Modified-Since.
                (Some("\"other\"".to_owned()), Some(second), false),
            ];
            for (if_none_match, if_modified_since, expect_not_modified) in cases {
                let get = GetOptions {
                    if_none_match: if_none_match.clone(),
                    if_modified_since,
                    ..Default::default()
                };
                let outcome = storage.get(&key, &get).await.map_err(|e| format!("get: {e}"))?;
                let not_modified = match outcome {
                    GetOutcome::NotModified(_) => true,
                    GetOutcome::Found(object) => {
                        read_all(object.body).await?;
                        false
                    }
                    other => return Err(format!("{get:?}: {other:?}")),
                };
                if not_modified != expect_not_modified {
                    return Err(format!(
                        "{if_none_match:?} / {if_modified_since:?}: not modified is {not_modified}"
                    ));
                }
            }
            Ok(())
        }
        other => Err(format!("no check {other}")),
    }
}
