//! The S3 client against real servers that verify signatures: SeaweedFS and Garage on
//! 127.0.0.1, each in path style and in virtual-hosted style (`{bucket}.localhost`).
//!
//! The servers start once for the whole suite (fresh ports and data directories) and
//! stop at the end. Run one case with `cargo test --test s3_servers -- NAME`.
// Native only: wasm-pack builds every test target for wasm32, where this one is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

mod support;

use bytes::Bytes;
use edgefs::client::UploadConfig;
use edgefs::s3::actions::{ByteRange, CopyObject, GetObject, ListObjectsV2, MetadataDirective, ObjectOptions};
use edgefs::transport::native::NativeTransport;
use edgefs_s3::{Body, Error, RetryPolicy, S3Client, S3Error, S3Settings};
use futures::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use support::fault_proxy::{Fault, FaultProxy};
use support::harness::Runner;
use support::provider_imitation::ProviderImitation;
use support::raw_http;
use support::servers::{start_both, Kind, Server};

const BUCKET: &str = "edgefs-test";
const MIB: usize = 1024 * 1024;

type Client = S3Client<NativeTransport>;

#[derive(Clone)]
struct Ctx {
    kind: Kind,
    client: Arc<Client>,
    settings: S3Settings,
    prefix: String,
    port: u16,
}

impl Ctx {
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn client_with(&self, change: impl FnOnce(&mut S3Settings)) -> Client {
        let mut settings = self.settings.clone();
        change(&mut settings);
        S3Client::new(&settings, NativeTransport::new())
            .expect("valid settings")
            .with_retry(RetryPolicy::none())
    }
}

async fn read_all(body: Body) -> Vec<u8> {
    body.into_stream()
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
        .expect("read the body")
}

fn error_text(result: Result<impl std::fmt::Debug, Error>) -> (Error, String) {
    let error = result.expect_err("the call should fail");
    let text = error.to_string();
    (error, text)
}

// ---------------------------------------------------------------- the operations

async fn special_keys_round_trip(ctx: Ctx) {
    let names = [
        "plain.txt",
        "with space.txt",
        "plus+sign.txt",
        "percent%20literal.txt",
        "unicode-ü-日本-🙂.txt",
        "double//slash.txt",
        "punctuation !$&'()*,;=@~.txt",
    ];
    for name in names {
        let key = ctx.key(name);
        let options = ObjectOptions::default()
            .content_type("text/plain; charset=utf-8")
            .metadata("owner", "edgefs");
        let content = format!("content of {name}");
        ctx.client
            .put_object(&key, Body::from(content.clone()), &options)
            .await
            .unwrap_or_else(|e| panic!("put {key:?}: {e}"));

        let meta = ctx
            .client
            .head_object(&key)
            .await
            .unwrap_or_else(|e| panic!("head {key:?}: {e}"));
        assert_eq!(meta.content_length, Some(content.len() as u64), "{key:?}");
        assert_eq!(
            meta.content_type.as_deref(),
            Some("text/plain; charset=utf-8"),
            "{key:?}"
        );
        assert_eq!(
            meta.metadata.get("owner").map(String::as_str),
            Some("edgefs"),
            "{key:?}"
        );

        let got = ctx
            .client
            .get_object(&key, &GetObject::new())
            .await
            .unwrap_or_else(|e| panic!("get {key:?}: {e}"));
        assert_eq!(got.status, 200);
        assert_eq!(read_all(got.body).await, content.as_bytes(), "{key:?}");
    }
    let listed: Vec<String> = ctx
        .client
        .list_all(&ctx.prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    for name in names {
        let mut expected = ctx.key(name);
        if ctx.kind == Kind::SeaweedFs {
            expected = expected.replace("//", "/"); // SeaweedFS stores `a//b` as `a/b`
        }
        assert!(listed.contains(&expected), "listing {listed:?} lacks {expected:?}");
    }
    for name in names {
        let key = ctx.key(name);
        ctx.client.delete_object(&key).await.unwrap();
        let error = ctx.client.head_object(&key).await.expect_err("deleted");
        assert!(error.is_not_found(), "{error}");
        assert!(!ctx.client.object_exists(&key).await.unwrap());
    }
}

async fn empty_object(ctx: Ctx) {
    let key = ctx.key("empty");
    ctx.client
        .upload(&key, Body::empty(), &ObjectOptions::default())
        .await
        .unwrap();
    let meta = ctx.client.head_object(&key).await.unwrap();
    assert_eq!(meta.content_length, Some(0));
    let got = ctx.client.get_object(&key, &GetObject::new()).await.unwrap();
    assert_eq!(got.meta.content_length, Some(0));
    assert!(read_all(got.body).await.is_empty());
}

/// A deterministic pseudo-random body, streamed in odd-sized chunks of unknown total.
fn chunked_stream(total: usize, chunk: usize, fail_after: Option<usize>) -> (Body, [u8; 32]) {
    let data: Vec<u8> = (0..total)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1])
        .collect();
    let digest: [u8; 32] = Sha256::digest(&data).into();
    let data = Bytes::from(data);
    let mut chunks: Vec<Result<Bytes, Error>> = Vec::new();
    let mut offset = 0;
    while offset < total {
        if fail_after.is_some_and(|limit| offset >= limit) {
            chunks.push(Err(Error::Transport(
                "the upload's source failed (injected by the test)".into(),
            )));
            break;
        }
        let end = (offset + chunk).min(total);
        chunks.push(Ok(data.slice(offset..end)));
        offset = end;
    }
    (Body::from_stream(Box::pin(futures::stream::iter(chunks)), None), digest)
}

async fn multipart_upload_from_a_stream(ctx: Ctx) {
    let key = ctx.key("big.bin");
    let client = S3Client::new(&ctx.settings, NativeTransport::new())
        .unwrap()
        .with_upload_config(UploadConfig {
            part_size: 5 * MIB as u64,
            concurrency: 3,
        });
    let total = 16 * MIB + 12_345; // four parts: 5 + 5 + 5 + 1 MiB and a bit
    let (body, digest) = chunked_stream(total, 1_300_000, None);
    let etag = client
        .upload(
            &key,
            body,
            &ObjectOptions::default().content_type("application/octet-stream"),
        )
        .await
        .unwrap();
    let etag = etag.expect("an ETag");
    assert!(
        etag.trim_matches('"').ends_with("-4"),
        "a 4-part multipart ETag, got {etag}"
    );

    let meta = client.head_object(&key).await.unwrap();
    assert_eq!(meta.content_length, Some(total as u64));
    assert_eq!(meta.content_type.as_deref(), Some("application/octet-stream"));
    // Hash the download as it streams: it is never held whole.
    let got = client.get_object(&key, &GetObject::new()).await.unwrap();
    let mut hasher = Sha256::new();
    let mut stream = got.body.into_stream();
    let mut largest_chunk = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        largest_chunk = largest_chunk.max(chunk.len());
        hasher.update(&chunk);
    }
    assert_eq!(<[u8; 32]>::from(hasher.finalize()), digest);
    assert!(
        largest_chunk < total / 2,
        "the download arrived in one piece ({largest_chunk} bytes)"
    );
    let open = client.list_multipart_uploads(Some(&ctx.prefix), None).await.unwrap();
    assert!(open.uploads.is_empty(), "uploads left open: {:?}", open.uploads);
}

/// An upload, in one PutObject or in parts, keeps the type and metadata it was written
/// with — except that SeaweedFS 4.48 types `application/octet-stream` by the key's
/// extension, whatever the request (its profile's `octet_stream_by_extension`).
async fn uploads_keep_their_type(ctx: Ctx) {
    let client = S3Client::new(&ctx.settings, NativeTransport::new())
        .unwrap()
        .with_upload_config(UploadConfig {
            part_size: 5 * MIB as u64,
            concurrency: 2,
        });
    let retypes = own_provider(ctx.kind).profile().quirks.octet_stream_by_extension;
    for (name, content_type, size) in [
        ("movie.mp4", "application/octet-stream", 11 * MIB),
        ("small.mp4", "application/octet-stream", 100),
        ("notes.bin", "text/plain", 11 * MIB),
    ] {
        let key = ctx.key(name);
        let (body, _) = chunked_stream(size, MIB, None);
        let options = ObjectOptions::default()
            .content_type(content_type)
            .cache_control("max-age=60")
            .content_disposition("attachment")
            .metadata("original-filename", "a%20b.mp4");
        client.upload(&key, body, &options).await.unwrap();
        let meta = client.head_object(&key).await.unwrap();
        let expected = if retypes && content_type == "application/octet-stream" {
            "video/mp4"
        } else {
            content_type
        };
        assert_eq!(meta.content_type.as_deref(), Some(expected), "{name}");
        assert_eq!(meta.content_length, Some(size as u64), "{name}");
        assert_eq!(meta.cache_control.as_deref(), Some("max-age=60"), "{name}");
        assert_eq!(meta.content_disposition.as_deref(), Some("attachment"), "{name}");
        assert_eq!(
            meta.metadata.get("original-filename").map(String::as_str),
            Some("a%20b.mp4"),
            "{name}"
        );
    }
}

async fn failed_multipart_upload_is_aborted(ctx: Ctx) {
    let key = ctx.key("broken.bin");
    let client = S3Client::new(&ctx.settings, NativeTransport::new())
        .unwrap()
        .with_upload_config(UploadConfig {
            part_size: 5 * MIB as u64,
            concurrency: 2,
        });
    let (body, _) = chunked_stream(20 * MIB, MIB, Some(12 * MIB));
    let (_, text) = error_text(client.upload(&key, body, &ObjectOptions::default()).await);
    assert!(
        text.contains("the upload's source failed"),
        "the first error is returned: {text}"
    );
    let open = client.list_multipart_uploads(Some(&ctx.prefix), None).await.unwrap();
    assert!(
        open.uploads.is_empty(),
        "the failed upload was not aborted: {:?}",
        open.uploads
    );
    assert!(
        !client.object_exists(&key).await.unwrap(),
        "a failed upload left an object"
    );
}

async fn multipart_primitives(ctx: Ctx) {
    let key = ctx.key("parts.bin");
    let client = &ctx.client;
    let upload_id = client
        .create_multipart_upload(&key, &ObjectOptions::default())
        .await
        .unwrap();
    let part1 = Bytes::from(vec![b'a'; 5 * MIB]);
    let part2 = Bytes::from_static(b"the last part may be small");
    let etag1 = client
        .upload_part(&key, &upload_id, 1, Body::from(part1.clone()))
        .await
        .unwrap();
    let etag2 = client
        .upload_part(&key, &upload_id, 2, Body::from(part2.clone()))
        .await
        .unwrap();
    let listed = client.list_parts(&key, &upload_id, None).await.unwrap();
    assert_eq!(
        listed.parts.iter().map(|p| (p.part_number, p.size)).collect::<Vec<_>>(),
        vec![(1, 5 * MIB as u64), (2, 26)]
    );
    let open = client.list_multipart_uploads(Some(&ctx.prefix), None).await.unwrap();
    assert!(
        open.uploads.iter().any(|u| u.upload_id == upload_id && u.key == key),
        "{:?}",
        open.uploads
    );
    let parts = vec![
        edgefs::s3::actions::CompletedPart {
            part_number: 1,
            etag: etag1,
        },
        edgefs::s3::actions::CompletedPart {
            part_number: 2,
            etag: etag2,
        },
    ];
    client
        .complete_multipart_upload(&key, &upload_id, &parts)
        .await
        .unwrap();
    assert_eq!(
        client.head_object(&key).await.unwrap().content_length,
        Some(5 * MIB as u64 + 26)
    );

    // Abort frees an upload.
    let abandoned = client
        .create_multipart_upload(&ctx.key("abandoned.bin"), &ObjectOptions::default())
        .await
        .unwrap();
    client
        .upload_part(&ctx.key("abandoned.bin"), &abandoned, 1, Body::from(part2))
        .await
        .unwrap();
    client
        .abort_multipart_upload(&ctx.key("abandoned.bin"), &abandoned)
        .await
        .unwrap();
    let open = client.list_multipart_uploads(Some(&ctx.prefix), None).await.unwrap();
    assert!(open.uploads.is_empty(), "{:?}", open.uploads);
}

async fn range_reads(ctx: Ctx) {
    let key = ctx.key("range.bin");
    let data: Vec<u8> = (0..100u8).collect();
    ctx.client
        .put_object(&key, Body::from(data.clone()), &ObjectOptions::default())
        .await
        .unwrap();
    let read = |range| {
        let ctx = ctx.clone();
        let key = key.clone();
        async move { ctx.client.get_object(&key, &GetObject::new().range(range)).await }
    };
    let got = read(ByteRange::Inclusive(0, 9)).await.unwrap();
    assert_eq!(got.status, 206);
    let range = got.meta.content_range.expect("Content-Range");
    assert_eq!((range.first, range.last, range.total), (0, 9, Some(100)));
    assert_eq!(got.meta.object_size(), Some(100));
    assert_eq!(read_all(got.body).await, &data[0..10]);
    let got = read(ByteRange::Suffix(5)).await.unwrap();
    assert_eq!(read_all(got.body).await, &data[95..]);
    let got = read(ByteRange::From(90)).await.unwrap();
    assert_eq!(read_all(got.body).await, &data[90..]);
    let (error, text) = error_text(read(ByteRange::Inclusive(200, 300)).await.map(|o| o.status));
    assert_eq!(error.status(), Some(416), "{text}");
    assert_eq!(error.code(), Some("InvalidRange"), "{text}");
}

/// A compare-and-swap on PutObject: `If-Match` with the ETag read, `If-None-Match: *`
/// for a key that must be new. The profile says whether the server honours them; the
/// test holds the server to what the profile says.
async fn conditional_put(ctx: Ctx) {
    use edgefs::s3::actions::PutObject;
    let key = ctx.key("cas.json");
    let provider = match ctx.kind {
        Kind::SeaweedFs => edgefs_s3::Provider::SeaweedFs,
        Kind::Garage => edgefs_s3::Provider::Garage,
    };
    let honoured = provider.profile().quirks.conditional_writes;
    let first = ctx
        .client
        .put_object_with(&key, Body::from("v1"), &PutObject::default().if_absent())
        .await
        .unwrap()
        .expect("an ETag");
    let again = ctx
        .client
        .put_object_with(&key, Body::from("v1 again"), &PutObject::default().if_absent())
        .await;
    let second = ctx
        .client
        .put_object_with(&key, Body::from("v2"), &PutObject::default().if_match(first.clone()))
        .await
        .unwrap()
        .expect("an ETag");
    let stale = ctx
        .client
        .put_object_with(&key, Body::from("v3"), &PutObject::default().if_match(first.clone()))
        .await;
    let got = ctx.client.get_object(&key, &GetObject::new()).await.unwrap();
    let stored = read_all(got.body).await;
    println!(
        "  {}: If-None-Match on an existing key: {}; stale If-Match: {}",
        provider.name(),
        again.as_ref().map_or_else(|e| e.to_string(), |_| "stored".into()),
        stale.as_ref().map_or_else(|e| e.to_string(), |_| "stored".into())
    );
    if honoured {
        assert!(again.expect_err("the key exists").is_precondition_failed());
        assert!(stale.expect_err("the ETag is stale").is_precondition_failed());
        assert_eq!(stored, b"v2");
        assert_ne!(first, second);
    } else {
        assert_eq!(stored, b"v3", "a server without conditional writes stores every write");
    }
}

async fn conditional_get(ctx: Ctx) {
    let key = ctx.key("conditional.txt");
    ctx.client
        .put_object(&key, Body::from("v1"), &ObjectOptions::default())
        .await
        .unwrap();
    let first = ctx.client.get_object(&key, &GetObject::new()).await.unwrap();
    let etag = first.meta.etag.clone().expect("an ETag");
    let modified = first.meta.last_modified.expect("Last-Modified");
    let again = ctx
        .client
        .get_object(&key, &GetObject::new().if_none_match(etag.clone()))
        .await
        .unwrap();
    assert_eq!(again.status, 304);
    assert!(again.not_modified());
    let since = ctx
        .client
        .get_object(&key, &GetObject::new().if_modified_since(modified))
        .await
        .unwrap();
    assert_eq!(since.status, 304);
    let changed = ctx
        .client
        .get_object(&key, &GetObject::new().if_none_match("\"not-the-etag\""))
        .await
        .unwrap();
    assert_eq!(changed.status, 200);
    assert_eq!(read_all(changed.body).await, b"v1");
    let (error, text) = error_text(
        ctx.client
            .get_object(&key, &GetObject::new().if_match("\"not-the-etag\""))
            .await,
    );
    assert_eq!(error.status(), Some(412), "{text}");
}

async fn presigned_get_and_put(ctx: Ctx) {
    let key = ctx.key("presigned/a b+c ü.txt");
    let put_url = ctx.client.presign_put(&key, Duration::from_secs(300)).unwrap();
    let put = raw_http::request("PUT", &put_url, &[], b"uploaded with a presigned URL").await;
    assert_eq!(put.status, 200, "presigned PUT: {}", String::from_utf8_lossy(&put.body));
    let got = ctx.client.get_object(&key, &GetObject::new()).await.unwrap();
    assert_eq!(read_all(got.body).await, b"uploaded with a presigned URL");

    let get_url = ctx.client.presign_get(&key, Duration::from_secs(300)).unwrap();
    let get = raw_http::request("GET", &get_url, &[], b"").await;
    assert_eq!(get.status, 200, "presigned GET: {}", String::from_utf8_lossy(&get.body));
    assert_eq!(get.body, b"uploaded with a presigned URL");
    // The signature covers the key: another key with the same query is refused.
    let other = get_url.replacen("presigned/", "presigned/x", 1);
    assert_eq!(raw_http::request("GET", &other, &[], b"").await.status, 403);
}

async fn copy_keys_with_special_characters(ctx: Ctx) {
    let source = ctx.key("copy/söurce a+b%c.json");
    let destination = ctx.key("copy/dëst a+b%c.json");
    let options = ObjectOptions::default()
        .content_type("application/json")
        .metadata("color", "blue");
    ctx.client
        .put_object(&source, Body::from("{\"a\":1}"), &options)
        .await
        .unwrap();
    let copied = ctx
        .client
        .copy_object(&source, &destination, &CopyObject::default())
        .await
        .unwrap();
    assert!(copied.etag.is_some());
    let meta = ctx.client.head_object(&destination).await.unwrap();
    assert_eq!(meta.content_type.as_deref(), Some("application/json"));
    assert_eq!(meta.metadata.get("color").map(String::as_str), Some("blue"));
    let got = ctx.client.get_object(&destination, &GetObject::new()).await.unwrap();
    assert_eq!(read_all(got.body).await, b"{\"a\":1}");

    let replaced = ctx.key("copy/replaced.txt");
    let replace = CopyObject {
        metadata: MetadataDirective::Replace(ObjectOptions::default().content_type("text/plain")),
    };
    ctx.client.copy_object(&source, &replaced, &replace).await.unwrap();
    let meta = ctx.client.head_object(&replaced).await.unwrap();
    assert_eq!(meta.content_type.as_deref(), Some("text/plain"));
    assert!(meta.metadata.is_empty(), "{:?}", meta.metadata);

    let (error, text) = error_text(
        ctx.client
            .copy_object(&ctx.key("copy/missing"), &replaced, &CopyObject::default())
            .await,
    );
    assert_eq!(error.status(), Some(404), "{text}");
}

async fn listing_past_1000_keys_and_batch_delete(ctx: Ctx) {
    let prefix = ctx.key("many/");
    let mut keys: Vec<String> = (0..1005).map(|i| format!("{prefix}{i:05}")).collect();
    keys.push(format!("{prefix}sub/a"));
    keys.push(format!("{prefix}sub/b"));
    futures::stream::iter(keys.clone())
        .map(|key| {
            let client = ctx.client.clone();
            async move {
                client
                    .put_object(&key, Body::from("x"), &ObjectOptions::default())
                    .await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();

    let first = ctx
        .client
        .list_objects_v2(&ListObjectsV2 {
            prefix: Some(prefix.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.objects.len(), 1000);
    let token = first
        .next_continuation_token
        .clone()
        .expect("a continuation token after 1000 keys");
    let second = ctx
        .client
        .list_objects_v2(&ListObjectsV2 {
            prefix: Some(prefix.clone()),
            continuation_token: Some(token),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(second.objects.len(), 7);
    assert!(second.next_continuation_token.is_none());
    let mut all: Vec<String> = first.objects.into_iter().chain(second.objects).map(|o| o.key).collect();
    all.sort();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(all, expected);

    let folders = ctx
        .client
        .list_objects_v2(&ListObjectsV2 {
            prefix: Some(prefix.clone()),
            delimiter: Some("/".into()),
            start_after: Some(format!("{prefix}01000")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(folders.common_prefixes, vec![format!("{prefix}sub/")]);
    assert_eq!(folders.objects.len(), 4, "start-after skips 00000..01000");

    let deleted = ctx.client.delete_objects(&keys).await.unwrap();
    assert!(deleted.errors.is_empty(), "{:?}", deleted.errors);
    assert_eq!(deleted.deleted.len(), keys.len());
    assert!(ctx.client.list_all(&prefix).await.unwrap().is_empty());
}

async fn head_bucket(ctx: Ctx) {
    ctx.client.head_bucket().await.unwrap();
}

// ---------------------------------------------------------------- the mistakes users make

async fn wrong_secret(ctx: Ctx) {
    let client = ctx.client_with(|s| s.secret = "not-the-secret".into());
    let (error, text) = error_text(client.list_objects_v2(&ListObjectsV2::default()).await);
    assert_eq!(error.status(), Some(403), "{text}");
    assert!(
        text.contains("secret"),
        "the message should point at the secret: {text}"
    );
    assert!(
        !text.contains("not-the-secret"),
        "the secret leaked into the message: {text}"
    );
    let (_, text) = error_text(client.head_bucket().await);
    assert!(
        text.starts_with("status code 403: AccessDenied — check the access key and secret"),
        "{text}"
    );
}

async fn unknown_access_key(ctx: Ctx) {
    let client = ctx.client_with(|s| s.access_key = "GK000000000000000000000000".into());
    let (error, text) = error_text(client.list_objects_v2(&ListObjectsV2::default()).await);
    assert_eq!(error.status(), Some(403), "{text}");
    assert!(text.contains("access key"), "{text}");
}

async fn missing_bucket(ctx: Ctx) {
    let client = ctx.client_with(|s| s.bucket = "edgefs-no-such-bucket".into());
    let (error, text) = error_text(client.list_objects_v2(&ListObjectsV2::default()).await);
    assert_eq!(error.code(), Some("NoSuchBucket"), "{text}");
    assert!(
        text.starts_with("status code 404: NoSuchBucket — check the bucket name, or try toggling force path style"),
        "{text}"
    );
    // HEAD answers carry no body: the status alone must still say which bucket problem.
    let (error, text) = error_text(client.head_bucket().await);
    assert_eq!(error.code(), Some("NoSuchBucket"), "{text}");
}

async fn wrong_region(ctx: Ctx) {
    let client = ctx.client_with(|s| s.region = "eu-west-1".into());
    let (error, text) = error_text(client.list_objects_v2(&ListObjectsV2::default()).await);
    assert_eq!(error.code(), Some("AuthorizationHeaderMalformed"), "{text}");
    assert!(
        text.contains("AuthorizationHeaderMalformed — the bucket is in us-east-1, not eu-west-1"),
        "{text}"
    );
}

async fn expired_presigned_url(ctx: Ctx) {
    let key = ctx.key("expiring.txt");
    ctx.client
        .put_object(&key, Body::from("soon gone"), &ObjectOptions::default())
        .await
        .unwrap();
    let url = ctx.client.presign_get(&key, Duration::from_secs(1)).unwrap();
    assert_eq!(raw_http::request("GET", &url, &[], b"").await.status, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let answer = raw_http::request("GET", &url, &[], b"").await;
    assert!(
        matches!(answer.status, 400 | 403),
        "expired URL answered {}",
        answer.status
    );
    // What a user of the URL gets back, read with edgefs's error model.
    let error = S3Error::from_response(
        answer.status,
        &answer.headers,
        &answer.body,
        "us-east-1",
        edgefs::s3::Target::Object,
    );
    let text = error.to_string();
    assert!(
        text.contains("the presigned URL has expired: presign a new one"),
        "{text}"
    );
}

async fn endpoint_without_scheme(ctx: Ctx) {
    let mut settings = ctx.settings.clone();
    settings.endpoint = format!("127.0.0.1:{}", ctx.port);
    let text = S3Client::new(&settings, NativeTransport::new())
        .expect_err("no scheme")
        .to_string();
    assert_eq!(
        text,
        format!(
            "failed to initialize S3: endpoint must start with https:// or http:// (got \"127.0.0.1:{}\")",
            ctx.port
        )
    );
    settings.endpoint.clear();
    settings.region = "auto".into();
    let text = S3Client::new(&settings, NativeTransport::new())
        .expect_err("no endpoint")
        .to_string();
    assert_eq!(text, "failed to initialize S3: endpoint must be set");
}

async fn unreachable_endpoint(ctx: Ctx) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = ctx.client_with(|s| s.endpoint = format!("http://127.0.0.1:{closed}"));
    let (error, text) = error_text(client.head_bucket().await);
    assert!(matches!(error, Error::Transport(_)), "{text}");
    assert!(text.starts_with("could not reach S3"), "{text}");
}

// ---------------------------------------------------------------- faults (through the fake proxy)

fn through_proxy(ctx: &Ctx, proxy: &FaultProxy, retry: RetryPolicy) -> Client {
    let mut settings = ctx.settings.clone();
    settings.endpoint = format!("http://127.0.0.1:{}", proxy.port);
    settings.force_path_style = true;
    S3Client::new(&settings, NativeTransport::new())
        .unwrap()
        .with_retry(RetryPolicy {
            base_delay: Duration::from_millis(5),
            ..retry
        })
}

async fn retries_overload_and_internal_errors(ctx: Ctx) {
    let proxy = FaultProxy::start(ctx.port).await;
    let client = through_proxy(&ctx, &proxy, RetryPolicy::default());
    proxy.inject(Fault::SlowDown);
    proxy.inject(Fault::InternalError);
    client
        .put_object(
            &ctx.key("retried.txt"),
            Body::from("made it"),
            &ObjectOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(proxy.requests(), 3, "two failures, then the real server");
    let got = client
        .get_object(&ctx.key("retried.txt"), &GetObject::new())
        .await
        .unwrap();
    assert_eq!(read_all(got.body).await, b"made it");

    let no_retries = through_proxy(&ctx, &proxy, RetryPolicy::none());
    proxy.inject(Fault::SlowDown);
    let (error, text) = error_text(no_retries.get_object(&ctx.key("retried.txt"), &GetObject::new()).await);
    assert_eq!(error.code(), Some("SlowDown"), "{text}");
    assert!(text.contains("the server is overloaded"), "{text}");

    // The retry count is honoured: 1 + 3 attempts, then the error.
    let before = proxy.requests();
    for _ in 0..4 {
        proxy.inject(Fault::InternalError);
    }
    let (error, _) = error_text(client.head_object(&ctx.key("retried.txt")).await);
    assert_eq!(error.code(), Some("InternalError"));
    assert_eq!(proxy.requests() - before, 4);
}

async fn malformed_and_truncated_answers(ctx: Ctx) {
    let proxy = FaultProxy::start(ctx.port).await;
    let client = through_proxy(&ctx, &proxy, RetryPolicy::none());
    ctx.client
        .put_object(
            &ctx.key("truncated.bin"),
            Body::from(vec![7u8; 64 * 1024]),
            &ObjectOptions::default(),
        )
        .await
        .unwrap();

    proxy.inject(Fault::MalformedXml);
    let (error, text) = error_text(client.list_objects_v2(&ListObjectsV2::default()).await);
    assert!(matches!(error, Error::InvalidResponse(_)), "{text}");
    assert!(text.contains("malformed ListBucketResult"), "{text}");

    proxy.inject(Fault::TruncatedBody);
    let got = client
        .get_object(&ctx.key("truncated.bin"), &GetObject::new())
        .await
        .unwrap();
    let outcome: Result<Vec<Bytes>, Error> = got.body.into_stream().try_collect().await;
    assert!(outcome.is_err(), "a truncated download must fail, not end early");

    proxy.inject(Fault::TruncatedBody);
    let (_, text) = error_text(client.list_objects_v2(&ListObjectsV2::default()).await);
    assert!(!text.is_empty());
}

// ---------------------------------------------------------------- provider profiles

use base64::Engine as _;
use edgefs::client::observed;
use edgefs::s3::{Profile, Provider, S3Request, Target};

/// The provider profile of the real server a context talks to.
fn own_provider(kind: Kind) -> Provider {
    match kind {
        Kind::SeaweedFs => Provider::SeaweedFs,
        Kind::Garage => Provider::Garage,
    }
}

/// A client through the loopback port of a proxy, path style, no retries, 5 MiB parts.
fn via(ctx: &Ctx, port: u16, profile: Profile) -> Client {
    let mut settings = ctx.settings.clone();
    settings.endpoint = format!("http://127.0.0.1:{port}");
    settings.force_path_style = true;
    S3Client::new(&settings, NativeTransport::new())
        .unwrap()
        .with_retry(RetryPolicy::none())
        .with_profile(profile)
        .with_upload_config(UploadConfig {
            part_size: edgefs::client::MIN_PART_SIZE,
            concurrency: 2,
        })
}

/// Each server is named by its answers — SeaweedFS in `Server`, on answers and error
/// answers alike; Garage, which sends no `Server`, by its uploads' 64-hex-digit version
/// ids — and the profile follows (the host `127.0.0.1` names nobody).
async fn detected_provider(ctx: Ctx) {
    let expected = own_provider(ctx.kind);
    let endpoint = ctx.client.bucket().endpoint().clone();
    observed::forget(&endpoint);
    assert_eq!(
        ctx.client.profile().provider,
        Provider::Generic,
        "the host names no provider"
    );
    ctx.client
        .put_object(
            &ctx.key("named.txt"),
            Body::from("who are you"),
            &ObjectOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(observed::answered_by(&endpoint), Some(expected));
    assert_eq!(
        Profile::detect(&endpoint, observed::answered_by(&endpoint)).provider,
        expected
    );

    if ctx.kind == Kind::SeaweedFs {
        observed::forget(&endpoint);
        let wrong = ctx.client_with(|s| s.secret = "not-the-secret".into());
        wrong.head_bucket().await.expect_err("a wrong secret is refused");
        assert_eq!(
            observed::answered_by(&endpoint),
            Some(expected),
            "an error answer names it too"
        );
    }
}

/// edgefs's own requests, shaped for `client`'s profile: a put with metadata, a
/// two-part upload, whole and ranged reads, a copy, a listing and a batch delete.
async fn exercise(client: &Client, prefix: &str) {
    let name = client.profile().provider.name();
    let key = format!("{prefix}{name}/object.bin");
    let options = ObjectOptions::default()
        .content_type("application/octet-stream")
        .metadata("profile", name);
    client.put_object(&key, Body::from("small"), &options).await.unwrap();
    let (body, digest) = chunked_stream(5 * MIB + 4096, 256 * 1024, None);
    client.upload(&key, body, &options).await.unwrap();
    let whole = client.get_object(&key, &GetObject::new()).await.unwrap();
    assert_eq!(whole.meta.metadata.get("profile").map(String::as_str), Some(name));
    assert_eq!(<[u8; 32]>::from(Sha256::digest(read_all(whole.body).await)), digest);
    let ranged = client
        .get_object(&key, &GetObject::new().range(ByteRange::Inclusive(5, 9)))
        .await
        .unwrap();
    assert_eq!(ranged.status, 206);
    assert_eq!(read_all(ranged.body).await.len(), 5);
    let copy = format!("{prefix}{name}/copy.bin");
    client.copy_object(&key, &copy, &CopyObject::default()).await.unwrap();
    let listed = client.list_all(&format!("{prefix}{name}/")).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let deleted = client.delete_objects(&[key, copy]).await.unwrap();
    assert!(deleted.errors.is_empty(), "{:?}", deleted.errors);
}

/// A PUT a caller built with the headers some provider refuses (flexible checksums,
/// tagging when `tagging`), then a GET with an empty `Range`: the profile strips what
/// its provider refuses, and the server takes the rest.
async fn caller_built_requests(client: &Client, key: &str, tagging: bool) -> Result<(), Error> {
    let content = b"built by the caller";
    let crc = base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(content).to_be_bytes());
    let mut put = S3Request::new(http::Method::PUT, Some(key))
        .header("x-amz-checksum-crc32", &crc)?
        .header("x-amz-sdk-checksum-algorithm", "CRC32")?
        .body(Body::from(content.to_vec()));
    if tagging {
        put = put.header("x-amz-tagging", "made-by=edgefs")?;
    }
    client.send(put, Target::Object).await?;
    let get = S3Request::new(http::Method::GET, Some(key)).header("range", "")?;
    let answer = client.send(get, Target::Object).await?;
    assert_eq!(
        answer.status(),
        200,
        "an empty Range is not sent: the whole object comes back"
    );
    assert_eq!(read_all(answer.into_body()).await, content);
    Ok(())
}

/// Requests made under every profile are accepted by the real server; under the
/// server's own profile, so are a caller's checksum and tagging headers, and the
/// server's tagging API answers as the profile says (Garage: 501 NotImplemented).
async fn every_profile_is_accepted(ctx: Ctx) {
    for provider in Provider::ALL {
        let client = ctx
            .client_with(|_| {})
            .with_profile(provider.profile())
            .with_upload_config(UploadConfig {
                part_size: edgefs::client::MIN_PART_SIZE,
                concurrency: 2,
            });
        exercise(&client, &ctx.prefix).await;
    }
    let own = own_provider(ctx.kind).profile();
    let client = ctx.client_with(|_| {}).with_profile(own);
    let key = ctx.key("caller-built.txt");
    caller_built_requests(&client, &key, true)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", own.provider.name()));
    let tags = client
        .send(
            S3Request::new(http::Method::GET, Some(&key)).query("tagging", ""),
            Target::Object,
        )
        .await;
    assert_eq!(tags.is_ok(), own.quirks.tagging_supported, "{tags:?}");
    if let Err(error) = tags {
        assert_eq!(error.status(), Some(501), "{error}");
    }
    client.delete_object(&key).await.unwrap();
}

/// Each hosted provider imitated by the fake proxy, in front of the real server: edgefs
/// under that provider's profile is never refused — while the same refusals do meet a
/// client that sends what the provider refuses, with the provider's own words.
async fn imitated_providers_never_refuse_edgefs(ctx: Ctx) {
    let own = own_provider(ctx.kind).profile();
    for provider in [
        Provider::Aws,
        Provider::Minio,
        Provider::DigitalOceanSpaces,
        Provider::R2,
        Provider::B2,
    ] {
        let imitation = ProviderImitation::start(provider, ctx.port).await;
        let client = via(&ctx, imitation.port, provider.profile());
        exercise(&client, &ctx.prefix).await;
        let key = ctx.key(&format!("{}/caller-built.txt", provider.name()));
        caller_built_requests(&client, &key, own.quirks.tagging_supported)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", provider.name()));
        client.delete_object(&key).await.unwrap();
        assert!(imitation.requests() > 10);
        assert_eq!(imitation.refusals(), Vec::<String>::new(), "{}", provider.name());

        // The refusals are real: a client shaped for AWS sends what this provider refuses.
        let careless = via(&ctx, imitation.port, Provider::Aws.profile());
        let refused = caller_built_requests(&careless, &key, false).await;
        match provider {
            Provider::B2 => {
                let (error, text) = error_text(refused);
                assert_eq!(error.code(), Some("InvalidArgument"), "{text}");
                assert!(
                    text.contains("Unsupported header 'x-amz-checksum-crc32' received for this API call."),
                    "{text}"
                );
            }
            Provider::R2 => {
                let (error, text) = error_text(refused);
                assert_eq!(
                    (error.code(), error.status()),
                    (Some("NotImplemented"), Some(501)),
                    "{text}"
                );
                assert!(text.contains("Header 'x-amz-checksum-crc32' with value"), "{text}");
                // Unequal parts, as a caller of the multipart primitives could send them.
                let multipart = ctx.key("r2/unequal.bin");
                let id = careless
                    .create_multipart_upload(&multipart, &ObjectOptions::default())
                    .await
                    .unwrap();
                let mut parts = Vec::new();
                for (number, size) in [(1u32, 5 * MIB + 1), (2, 5 * MIB), (3, 10)] {
                    let etag = careless
                        .upload_part(&multipart, &id, number, Body::from(vec![b'p'; size]))
                        .await
                        .unwrap();
                    parts.push(edgefs::s3::actions::CompletedPart {
                        part_number: number,
                        etag,
                    });
                }
                let (error, text) = error_text(careless.complete_multipart_upload(&multipart, &id, &parts).await);
                assert_eq!(error.code(), Some("InvalidPart"), "{text}");
                assert!(
                    text.contains("All non-trailing parts must have the same length."),
                    "{text}"
                );
                careless.abort_multipart_upload(&multipart, &id).await.unwrap();
            }
            _ => {
                refused.unwrap_or_else(|e| panic!("{}: {e}", provider.name()));
                careless.delete_object(&key).await.unwrap();
            }
        }
        let url = format!("http://127.0.0.1:{}/{}/{key}", imitation.port, BUCKET);
        if provider == Provider::Minio {
            // What PocketBase sent before v0.28.3, unsigned: refused before any signature check.
            let answer = raw_http::request("GET", &url, &[("Range", "")], b"").await;
            assert_eq!(answer.status, 416);
            assert!(String::from_utf8_lossy(&answer.body).contains("<Code>InvalidRange</Code>"));
            // And MinIO names itself: the S3 test would pick its profile.
            let endpoint = careless.bucket().endpoint().clone();
            assert_eq!(observed::answered_by(&endpoint), Some(Provider::Minio));
        }
        if matches!(provider, Provider::Aws | Provider::Minio) {
            // A DeleteObjects without Content-MD5 (edgefs always sends it).
            let delete = format!("http://127.0.0.1:{}/{}?delete", imitation.port, BUCKET);
            let answer = raw_http::request("POST", &delete, &[], b"<Delete></Delete>").await;
            assert_eq!(answer.status, 400);
            let text = String::from_utf8_lossy(&answer.body).to_ascii_lowercase();
            assert!(
                text.contains("missing required header for this request: content-md5"),
                "{text}"
            );
        }
    }
}

/// `POST /api/settings/test/s3` names the profile: in `X-Edgefs-S3-Profile` on its 204,
/// and in the header, `data.profile` and the message of a 400.
async fn s3_test_reports_the_profile(ctx: Ctx) {
    let expected = own_provider(ctx.kind).profile().summary();
    let answer = s3_test(&ctx.settings, json_body(None)).await;
    assert_eq!(answer.0, 204, "{}", answer.2);
    assert_eq!(answer.1.as_deref(), Some(expected.as_str()));

    // Refused: SeaweedFS still names itself in `Server`; Garage's refusals carry nothing
    // that names it, so an unknown server's profile applies.
    let refused_by = match ctx.kind {
        Kind::SeaweedFs => own_provider(ctx.kind),
        Kind::Garage => Provider::Generic,
    };
    let expected = refused_by.profile().summary();
    let answer = s3_test(&ctx.settings, json_body(Some("not-the-secret"))).await;
    assert_eq!(answer.0, 400, "{}", answer.2);
    assert_eq!(answer.1.as_deref(), Some(expected.as_str()));
    let body: serde_json::Value = serde_json::from_str(&answer.2).unwrap();
    assert_eq!(body["data"]["profile"]["provider"], refused_by.name());
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Failed to test the S3 filesystem. Raw error:"),
        "{message}"
    );
    assert!(message.ends_with(&format!("(S3 profile: {expected})")), "{message}");

    // A MinIO (imitated): named by its `Server` header.
    let imitation = ProviderImitation::start(Provider::Minio, ctx.port).await;
    let mut settings = ctx.settings.clone();
    settings.endpoint = format!("http://127.0.0.1:{}", imitation.port);
    let answer = s3_test(&settings, json_body(None)).await;
    assert_eq!(answer.0, 204, "{}", answer.2);
    assert_eq!(answer.1.as_deref(), Some("minio; quirks=no-empty-range,path-style"));
}

fn json_body(secret: Option<&str>) -> serde_json::Value {
    match secret {
        Some(secret) => serde_json::json!({"filesystem": "storage", "s3": {"secret": secret}}),
        None => serde_json::json!({"filesystem": "storage"}),
    }
}

/// Runs the S3 test of an in-memory app whose S3 settings are `settings`: (status,
/// `X-Edgefs-S3-Profile`, body).
/// (The API's futures are not `Send`: they run on a runtime of their own, as in
/// tests/api.rs.)
async fn s3_test(settings: &S3Settings, body: serde_json::Value) -> (u16, Option<String>, String) {
    let settings = settings.clone();
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(s3_test_in_place(&settings, body))
    })
    .await
    .unwrap()
}

async fn s3_test_in_place(settings: &S3Settings, body: serde_json::Value) -> (u16, Option<String>, String) {
    use edgefs::api::{handle, App, Env};
    let s3 = settings.clone();
    let env = Env::from_lookup(move |name| {
        let value = match name {
            "AUTH_SECRET" => "s3-servers-auth-secret-0123456789abcdef".to_owned(),
            "SUPERUSER_EMAIL" => "admin@example.test".to_owned(),
            "SUPERUSER_PASSWORD" => "correct horse battery staple".to_owned(),
            "S3_ENABLED" => "true".to_owned(),
            "S3_BUCKET" => s3.bucket.clone(),
            "S3_REGION" => s3.region.clone(),
            "S3_ENDPOINT" => s3.endpoint.clone(),
            "S3_ACCESS_KEY" => s3.access_key.clone(),
            "S3_SECRET_KEY" => s3.secret.expose().to_owned(),
            "S3_FORCE_PATH_STYLE" => s3.force_path_style.to_string(),
            _ => return None,
        };
        Some(value)
    });
    let app = App::in_memory(env);
    let request = |method: &str, uri: &str, token: Option<&str>, body: serde_json::Value| {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json");
        if let Some(token) = token {
            builder = builder.header("authorization", token);
        }
        builder.body(Body::from(body.to_string())).unwrap()
    };
    let sign_in = request(
        "POST",
        "/api/collections/_superusers/auth-with-password",
        None,
        serde_json::json!({"identity": "admin@example.test", "password": "correct horse battery staple"}),
    );
    let answer = handle(&app, sign_in).await;
    let signed_in: serde_json::Value =
        serde_json::from_slice(&answer.into_body().collect(1 << 20).await.unwrap()).unwrap();
    let token = signed_in["token"].as_str().expect("a superuser token").to_owned();
    let answer = handle(&app, request("POST", "/api/settings/test/s3", Some(&token), body)).await;
    let status = answer.status().as_u16();
    let profile = answer
        .headers()
        .get("x-edgefs-s3-profile")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = String::from_utf8_lossy(&answer.into_body().collect(1 << 20).await.unwrap()).into_owned();
    (status, profile, text)
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
        let mut runner = Runner::from_args("s3_servers");
        let (seaweed, garage) = start_both(BUCKET).await;

        let every_style = cases![
            special_keys_round_trip,
            empty_object,
            multipart_upload_from_a_stream,
            uploads_keep_their_type,
            failed_multipart_upload_is_aborted,
            multipart_primitives,
            range_reads,
            conditional_get,
            conditional_put,
            presigned_get_and_put,
            copy_keys_with_special_characters,
            listing_past_1000_keys_and_batch_delete,
            head_bucket,
        ];
        let mistakes = cases![
            wrong_secret,
            unknown_access_key,
            missing_bucket,
            expired_presigned_url,
            endpoint_without_scheme,
            unreachable_endpoint,
            retries_overload_and_internal_errors,
            malformed_and_truncated_answers,
            detected_provider,
            every_profile_is_accepted,
            imitated_providers_never_refuse_edgefs,
            s3_test_reports_the_profile,
        ];
        for server in [&seaweed, &garage] {
            for path_style in [true, false] {
                let style = if path_style { "path" } else { "virtual" };
                for (name, case) in every_style.iter() {
                    let ctx = context(server, path_style, &format!("{style}/{name}/"));
                    runner
                        .run(&format!("{}/{style}/{name}", server.name()), case(ctx))
                        .await;
                }
            }
            for (name, case) in mistakes.iter() {
                let ctx = context(server, true, &format!("mistakes/{name}/"));
                runner.run(&format!("{}/{name}", server.name()), case(ctx)).await;
            }
        }
        // Only Garage checks the region of a signature.
        runner
            .run("garage/wrong_region", wrong_region(context(&garage, true, "region/")))
            .await;
        runner.finish()
    })
}

fn context(server: &Server, path_style: bool, prefix: &str) -> Ctx {
    Ctx {
        kind: server.kind,
        client: Arc::new(server.client(path_style)),
        settings: server.settings(path_style),
        prefix: prefix.to_owned(),
        port: server.port,
    }
}
