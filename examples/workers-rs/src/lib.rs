//! A Worker written the way the workers-rs documentation writes one — `#[event(fetch)]`,
//! `Env`, `Router` — that uses edgefs as libraries: the S3 client (`edgefs-s3`) for
//! any S3 endpoint and the storage façade (`edgefs::storage`) over the Worker's own R2
//! binding. Bodies stay the runtime's streams: no file byte enters wasm memory.
//!
//! Routes:
//! * `GET /presign/*key` — a presigned GET URL for `key` in the S3 bucket (5 minutes);
//! * `GET /s3/*key` — the object streamed from the S3 bucket;
//! * `PUT /r2/*key`, `GET /r2/*key` — an object stored in and read from R2 through
//!   `edgefs::storage::R2`.
//!
//! Configuration: `S3_BUCKET`, `S3_REGION`, `S3_ENDPOINT`, `S3_ACCESS_KEY`,
//! `S3_SECRET_KEY` (a secret), `S3_FORCE_PATH_STYLE`; the R2 binding `BUCKET`.
#![cfg(all(target_arch = "wasm32", target_os = "unknown"))]

use edgefs::storage::{GetOptions, GetOutcome, Storage, UploadOptions, R2};
use edgefs_s3::protocol::actions::GetObject;
use edgefs_s3::transport::fetch::FetchTransport;
use edgefs_s3::{Body, S3Client, S3Settings};
use std::time::Duration;
use worker::*;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Router::new()
        .get_async("/presign/*key", |_req, ctx| async move {
            let key = key_of(&ctx);
            let client = s3_client(&ctx.env)?;
            let url = client
                .presign_get(&key, Duration::from_secs(300))
                .map_err(|e| Error::RustError(e.to_string()))?;
            Response::ok(url)
        })
        .get_async("/s3/*key", |_req, ctx| async move {
            let key = key_of(&ctx);
            let client = s3_client(&ctx.env)?;
            match client.get_object(&key, &GetObject::new()).await {
                Ok(object) => stream_response(object.body, object.meta.content_length),
                Err(e) if e.is_not_found() => Response::error("no such object", 404),
                Err(e) => Response::error(e.to_string(), 502),
            }
        })
        .put_async("/r2/*key", |req, ctx| async move {
            let key = key_of(&ctx);
            let length = req.headers().get("content-length")?.and_then(|v| v.parse::<u64>().ok());
            let body = match req.inner().body() {
                Some(stream) => Body::from_js_stream(stream, length),
                None => Body::empty(),
            };
            let options = UploadOptions::default().content_type("application/octet-stream");
            r2(&ctx.env)?
                .upload(&key, body, &options)
                .await
                .map_err(|e| Error::RustError(e.to_string()))?;
            Ok(Response::empty()?.with_status(204))
        })
        .get_async("/r2/*key", |_req, ctx| async move {
            let key = key_of(&ctx);
            match r2(&ctx.env)?.get(&key, &GetOptions::default()).await {
                Ok(GetOutcome::Found(object)) => stream_response(object.body, Some(object.attributes.size)),
                Ok(_) => Response::error("no such object", 404),
                Err(e) => Response::error(e.to_string(), 500),
            }
        })
        .run(req, env)
        .await
}

/// The key a route names (everything after its prefix; `/` included).
fn key_of<D>(ctx: &RouteContext<D>) -> String {
    ctx.param("key")
        .map(|key| key.trim_start_matches('/').to_owned())
        .unwrap_or_default()
}

/// The S3 client for the `S3_*` variables, over the runtime's `fetch`.
fn s3_client(env: &Env) -> Result<S3Client<FetchTransport>> {
    let lookup = |name: &str| {
        env.secret(name)
            .map(|v| v.to_string())
            .or_else(|_| env.var(name).map(|v| v.to_string()))
            .ok()
    };
    let mut settings = S3Settings::from_lookup(lookup).map_err(|e| Error::RustError(e.to_string()))?;
    settings.enabled = true;
    S3Client::new(&settings, FetchTransport).map_err(|e| Error::RustError(e.to_string()))
}

/// edgefs's R2 backend over the `BUCKET` binding of this Worker's `Env`.
fn r2(env: &Env) -> Result<R2> {
    let env: &wasm_bindgen::JsValue = env.as_ref();
    R2::from_env(env, "BUCKET").ok_or_else(|| Error::RustError("no R2 binding BUCKET".into()))
}

/// A response whose body is the runtime's own stream, handed on untouched.
fn stream_response(body: Body, length: Option<u64>) -> Result<Response> {
    let response = match body.into_js_stream() {
        Some(stream) => Response::from_body(ResponseBody::Stream(stream))?,
        None => Response::empty()?,
    };
    let headers = Headers::new();
    headers.set("content-type", "application/octet-stream")?;
    if let Some(length) = length {
        headers.set("content-length", &length.to_string())?;
    }
    Ok(response.with_headers(headers))
}
