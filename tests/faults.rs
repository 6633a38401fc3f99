//! Faults between the native S3 client and a real S3 server (issue 10 §4): 5xx,
//! `SlowDown`, resets before an answer and mid-body, truncated and slow bodies, and a
//! `200 OK` carrying an error, injected by the test's fault proxy (a FAKE, named as
//! such: tests/support/fault_proxy.rs) during uploads, multipart uploads, copies,
//! deletes, listings and downloads, on SeaweedFS and on Garage.
//!
//! Each fault is retried or surfaces as a clear error. After every case the server
//! itself is asked: no object shorter than what was sent, no object from a failed
//! upload, and no multipart upload left open.
//!
//!   cargo test --test faults [-- NAME]
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

mod support;

use edgefs::client::UploadConfig;
use edgefs::s3::actions::{CopyObject, GetObject, ListObjectsV2, ObjectOptions};
use edgefs::transport::native::NativeTransport;
use edgefs_s3::{Body, Error, RetryPolicy, S3Client, S3Settings};
use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use support::fault_proxy::{Fault, FaultProxy, Match};
use support::harness::Runner;
use support::servers::{start_both, Server};

const BUCKET: &str = "edgefs-faults";
const MIB: usize = 1024 * 1024;
/// The client's retries in these cases: 1 + 3 attempts.
const RETRIES: u32 = 3;

type Client = S3Client<NativeTransport>;

#[derive(Clone)]
struct Ctx {
    /// Straight to the server: what the server holds, unaffected by faults.
    direct: Arc<Client>,
    /// Through the fault proxy, with retries.
    client: Arc<Client>,
    proxy: Arc<FaultProxy>,
    /// The proxy's endpoint.
    settings: S3Settings,
    prefix: String,
}

impl Ctx {
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The object's bytes as the server holds them; `None` when there is none.
    async fn stored(&self, key: &str) -> Option<Vec<u8>> {
        match self.direct.get_object(key, &GetObject::new()).await {
            Ok(object) => Some(object.body.collect(64 * MIB).await.unwrap().to_vec()),
            Err(e) if e.is_not_found() => None,
            Err(e) => panic!("read {key} directly: {e}"),
        }
    }

    /// Every case ends here: no multipart upload of this case is left open on the
    /// server, and every injected fault was used (the case hit what it meant to).
    async fn assert_clean(&self) {
        let open = self
            .direct
            .list_multipart_uploads(Some(&self.prefix), None)
            .await
            .unwrap();
        assert!(
            open.uploads.is_empty(),
            "multipart uploads left open: {:?}",
            open.uploads
        );
        assert_eq!(self.proxy.pending(), 0, "an injected fault was never used");
    }
}

fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 + i / 4096) as u8).collect()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A body the client cannot send twice (a stream), so it is never retried.
fn stream_body(bytes: Vec<u8>) -> Body {
    let length = bytes.len() as u64;
    let chunks: Vec<Result<bytes::Bytes, Error>> = bytes
        .chunks(64 * 1024)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(Box::pin(futures::stream::iter(chunks)), Some(length))
}

const PUT_OBJECT: Match = Match {
    method: Some("PUT"),
    query: None,
    query_without: Some("partNumber="),
};
const PART_2: Match = Match {
    method: Some("PUT"),
    query: Some("partNumber=2"),
    query_without: None,
};
const COMPLETE: Match = Match {
    method: Some("POST"),
    query: Some("uploadId="),
    query_without: None,
};
const CREATE_UPLOAD: Match = Match {
    method: Some("POST"),
    query: Some("uploads"),
    query_without: None,
};
const GET: Match = Match {
    method: Some("GET"),
    query: None,
    query_without: None,
};
const LIST: Match = Match {
    method: Some("GET"),
    query: Some("list-type=2"),
    query_without: None,
};
const DELETE_MANY: Match = Match {
    method: Some("POST"),
    query: Some("delete"),
    query_without: None,
};

// ---------------------------------------------------------------- uploads

/// A body in memory is sent again after each kind of failure that left no object.
async fn put_retried_through_every_fault(ctx: Ctx) {
    for (name, fault) in [
        ("slow-down", Fault::SlowDown),
        ("internal", Fault::InternalError),
        ("reset", Fault::ResetBeforeAnswer),
    ] {
        let key = ctx.key(&format!("{name}.bin"));
        let bytes = pattern(200 * 1024);
        ctx.proxy.inject_on(PUT_OBJECT, fault.clone());
        ctx.proxy.inject_on(PUT_OBJECT, fault);
        ctx.client
            .put_object(&key, Body::from(bytes.clone()), &ObjectOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ctx.stored(&key).await.map(|b| sha(&b)), Some(sha(&bytes)), "{name}");
    }
    ctx.assert_clean().await;
}

/// A stream cannot be sent twice: the failure is the caller's to see, and the server
/// holds nothing.
async fn streamed_put_fails_clearly_and_stores_nothing(ctx: Ctx) {
    let key = ctx.key("streamed.bin");
    ctx.proxy.inject_on(PUT_OBJECT, Fault::ResetBeforeAnswer);
    let error = ctx
        .client
        .put_object(&key, stream_body(pattern(300 * 1024)), &ObjectOptions::default())
        .await
        .expect_err("a reset streamed upload must fail");
    assert!(matches!(error, Error::Transport(_)), "{error}");
    assert!(error.to_string().starts_with("could not reach S3"), "{error}");
    assert_eq!(ctx.stored(&key).await, None, "a failed upload left an object");

    ctx.proxy.inject_on(PUT_OBJECT, Fault::SlowDown);
    let error = ctx
        .client
        .put_object(&key, stream_body(pattern(300 * 1024)), &ObjectOptions::default())
        .await
        .expect_err("a refused streamed upload must fail");
    assert_eq!(error.code(), Some("SlowDown"), "{error}");
    assert!(error.to_string().contains("overloaded"), "{error}");
    assert_eq!(ctx.stored(&key).await, None);
    ctx.assert_clean().await;
}

// ---------------------------------------------------------------- multipart uploads

fn multipart_client(ctx: &Ctx) -> Client {
    proxied(&ctx.settings).with_upload_config(UploadConfig {
        part_size: 5 * MIB as u64,
        concurrency: 2,
    })
}

/// A part that fails is sent again; a CompleteMultipartUpload whose 200 carries an
/// `InternalError` is sent again: the object is whole, and no upload stays open.
async fn multipart_faults_are_retried(ctx: Ctx) {
    let client = multipart_client(&ctx);
    let key = ctx.key("retried-parts.bin");
    let bytes = pattern(12 * MIB);
    ctx.proxy.inject_on(PART_2, Fault::SlowDown);
    ctx.proxy.inject_on(PART_2, Fault::ResetBeforeAnswer);
    ctx.proxy.inject_on(COMPLETE, Fault::OkWithError("InternalError"));
    client
        .upload(&key, stream_body(bytes.clone()), &ObjectOptions::default())
        .await
        .unwrap();
    let stored = ctx.stored(&key).await.expect("the object exists");
    assert_eq!((stored.len(), sha(&stored)), (bytes.len(), sha(&bytes)));
    ctx.assert_clean().await;
}

/// A part that keeps failing ends the upload with its error, and the upload is
/// aborted: the server lists no open upload and holds no object.
async fn multipart_failure_is_aborted(ctx: Ctx) {
    let client = multipart_client(&ctx);
    let key = ctx.key("failed-parts.bin");
    for _ in 0..=RETRIES {
        ctx.proxy.inject_on(PART_2, Fault::ResetBeforeAnswer);
    }
    let error = client
        .upload(&key, stream_body(pattern(12 * MIB)), &ObjectOptions::default())
        .await
        .expect_err("the part never got through");
    assert!(error.to_string().starts_with("could not reach S3"), "{error}");
    assert_eq!(ctx.stored(&key).await, None);

    let key = ctx.key("failed-complete.bin");
    for _ in 0..=RETRIES {
        ctx.proxy.inject_on(COMPLETE, Fault::OkWithError("InternalError"));
    }
    let error = client
        .upload(&key, stream_body(pattern(11 * MIB)), &ObjectOptions::default())
        .await
        .expect_err("the upload never completed");
    assert_eq!(error.code(), Some("InternalError"), "{error}");
    assert_eq!(ctx.stored(&key).await, None);
    ctx.assert_clean().await;
}

/// The answer to CreateMultipartUpload is lost after the server made the upload: its
/// id never reaches the client, which finds the upload by its key and aborts it.
async fn lost_upload_id_is_aborted(ctx: Ctx) {
    let client = multipart_client(&ctx);
    let key = ctx.key("lost-id.bin");
    ctx.proxy.inject_on(CREATE_UPLOAD, Fault::TruncatedBody);
    let error = client
        .upload(&key, stream_body(pattern(11 * MIB)), &ObjectOptions::default())
        .await
        .expect_err("the upload id was lost");
    assert!(!error.to_string().is_empty());
    assert_eq!(ctx.stored(&key).await, None);
    ctx.assert_clean().await;
}

// ---------------------------------------------------------------- copies, deletes, listings

async fn copy_faults(ctx: Ctx) {
    let (source, copy) = (ctx.key("source.txt"), ctx.key("copy.txt"));
    ctx.direct
        .put_object(&source, Body::from("copy me"), &ObjectOptions::default())
        .await
        .unwrap();
    ctx.proxy.inject(Fault::OkWithError("InternalError"));
    ctx.proxy.inject(Fault::SlowDown);
    ctx.client
        .copy_object(&source, &copy, &CopyObject::default())
        .await
        .unwrap();
    assert_eq!(ctx.stored(&copy).await.as_deref(), Some(&b"copy me"[..]));

    let other = ctx.key("never-copied.txt");
    for _ in 0..=RETRIES {
        ctx.proxy.inject(Fault::OkWithError("InternalError"));
    }
    let error = ctx
        .client
        .copy_object(&source, &other, &CopyObject::default())
        .await
        .expect_err("every attempt failed");
    assert_eq!(error.code(), Some("InternalError"), "{error}");
    assert_eq!(ctx.stored(&other).await, None);
    ctx.assert_clean().await;
}

async fn delete_faults(ctx: Ctx) {
    let keys: Vec<String> = (0..5).map(|i| ctx.key(&format!("doomed-{i}.txt"))).collect();
    for key in &keys {
        ctx.direct
            .put_object(key, Body::from("x"), &ObjectOptions::default())
            .await
            .unwrap();
    }
    for _ in 0..=RETRIES {
        ctx.proxy.inject_on(DELETE_MANY, Fault::ResetBeforeAnswer);
    }
    let error = ctx.client.delete_objects(&keys).await.expect_err("never reached");
    assert!(error.to_string().starts_with("could not reach S3"), "{error}");
    for key in &keys {
        assert!(ctx.stored(key).await.is_some(), "nothing was deleted: {key}");
    }
    ctx.proxy.inject_on(DELETE_MANY, Fault::InternalError);
    ctx.proxy.inject_on(DELETE_MANY, Fault::TruncatedBody);
    let output = ctx.client.delete_objects(&keys).await.unwrap();
    assert!(output.errors.is_empty(), "{:?}", output.errors);
    for key in &keys {
        assert_eq!(ctx.stored(key).await, None, "{key}");
    }
    ctx.assert_clean().await;
}

async fn listing_faults(ctx: Ctx) {
    for i in 0..3 {
        ctx.direct
            .put_object(
                &ctx.key(&format!("listed-{i}")),
                Body::from("x"),
                &ObjectOptions::default(),
            )
            .await
            .unwrap();
    }
    let options = ListObjectsV2 {
        prefix: Some(ctx.prefix.clone()),
        ..ListObjectsV2::default()
    };
    // A cut, reset or garbled listing is read again.
    ctx.proxy.inject_on(LIST, Fault::TruncatedBody);
    ctx.proxy.inject_on(LIST, Fault::ResetMidBody);
    ctx.proxy.inject_on(LIST, Fault::SlowDown);
    let page = ctx.client.list_objects_v2(&options).await.unwrap();
    assert_eq!(page.objects.len(), 3);
    ctx.proxy.inject_on(LIST, Fault::SlowBody(5));
    assert_eq!(ctx.client.list_objects_v2(&options).await.unwrap().objects.len(), 3);
    // A whole answer that is not S3's XML is not a fault in transit: not asked again.
    ctx.proxy.inject_on(LIST, Fault::MalformedXml);
    let error = ctx
        .client
        .list_objects_v2(&options)
        .await
        .expect_err("garbled every time");
    assert!(matches!(error, Error::InvalidResponse(_)), "{error}");
    assert!(error.to_string().contains("malformed ListBucketResult"), "{error}");
    ctx.assert_clean().await;
}

// ---------------------------------------------------------------- downloads

/// A download cut short is an error in the body stream, never a short success; a
/// slow body arrives whole; a reset before the answer is retried (a GET has no body).
async fn download_faults(ctx: Ctx) {
    let key = ctx.key("download.bin");
    let bytes = pattern(512 * 1024);
    ctx.direct
        .put_object(&key, Body::from(bytes.clone()), &ObjectOptions::default())
        .await
        .unwrap();
    for fault in [Fault::TruncatedBody, Fault::ResetMidBody] {
        ctx.proxy.inject_on(GET, fault.clone());
        let object = ctx.client.get_object(&key, &GetObject::new()).await.unwrap();
        let read: Result<Vec<bytes::Bytes>, Error> = object.body.into_stream().try_collect().await;
        let error = read.expect_err(&format!("{fault:?}: a cut body must fail, not end early"));
        assert!(!error.to_string().is_empty());
    }
    ctx.proxy.inject_on(GET, Fault::SlowBody(2));
    let object = ctx.client.get_object(&key, &GetObject::new()).await.unwrap();
    assert_eq!(sha(&object.body.collect(MIB).await.unwrap()), sha(&bytes));
    ctx.proxy.inject_on(GET, Fault::ResetBeforeAnswer);
    ctx.proxy.inject_on(GET, Fault::SlowDown);
    let object = ctx.client.get_object(&key, &GetObject::new()).await.unwrap();
    assert_eq!(sha(&object.body.collect(MIB).await.unwrap()), sha(&bytes));
    ctx.assert_clean().await;
}

// ---------------------------------------------------------------- the runner

fn proxied(settings: &S3Settings) -> Client {
    S3Client::new(settings, NativeTransport::new())
        .unwrap()
        .with_retry(RetryPolicy {
            max_retries: RETRIES,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        })
}

use support::harness::cases;

async fn context(server: &Server, name: &str) -> Ctx {
    let proxy = FaultProxy::start(server.port).await;
    let mut settings = server.settings(true);
    settings.endpoint = format!("http://127.0.0.1:{}", proxy.port);
    Ctx {
        direct: Arc::new(server.client(true)),
        client: Arc::new(proxied(&settings)),
        settings,
        proxy: Arc::new(proxy),
        prefix: format!("{name}/"),
    }
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut runner = Runner::from_args("faults");
        let (seaweed, garage) = start_both(BUCKET).await;
        let cases = cases![
            put_retried_through_every_fault,
            streamed_put_fails_clearly_and_stores_nothing,
            multipart_faults_are_retried,
            multipart_failure_is_aborted,
            lost_upload_id_is_aborted,
            copy_faults,
            delete_faults,
            listing_faults,
            download_faults,
        ];
        for server in [&seaweed, &garage] {
            for (name, case) in cases.iter() {
                let full = format!("{}/{name}", server.name());
                if runner.wants(&full) {
                    let ctx = context(server, name).await;
                    runner.run(&full, case(ctx)).await;
                }
            }
        }
        runner.finish()
    })
}
