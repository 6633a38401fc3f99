//! The test route of the `workerd-tests` build: `GET /_test/conformance?backend=kv|r2`
//! runs [`conformance::run`](super::conformance::run) inside workerd against the bound
//! KV namespace or R2 bucket and answers the outcomes as JSON
//! (`[{"name", "ok", "error"}]`). For `kv` it adds the size-limit checks.
//!
//! Only compiled with the `workerd-tests` feature (a separate test build of the
//! Worker, `scripts/lib-worker.sh build-tests`): the shipped Worker has no such route.

use super::*;
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
        crate::clock::unix_seconds(crate::clock::now()),
        crate::random::string(8, b"abcdefghijklmnopqrstuvwxyz0123456789")
    );
    let mut outcomes: Vec<(String, Result<(), String>)> =
        conformance::run(storage.as_ref(), &prefix, filter.as_deref())
            .await
            .into_iter()
            .map(|o| (o.name.to_owned(), o.result))
            .collect();
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
    let never: crate::transport::ByteStream = Box::pin(futures::stream::once(async {
        Err(Error::Transport("the body of an oversized upload was read".into()))
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
    let chunks: Vec<Result<bytes::Bytes, Error>> = (0..26).map(|_| Ok(chunk.clone())).collect();
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
