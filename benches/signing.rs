//! SigV4 signing: edgefs against aws-sigv4, side by side, one criterion group per operation.
//!
//! Every benchmark measures the work a client does per request, from the request's
//! parts (method, bucket host, object key, headers, body) to the signed headers or the
//! presigned URL:
//!
//! * `edgefs/Signer`: encode the key into the path, build the `SignableRequest`,
//!   `Signer::sign_headers` / `Signer::presign` (then format the URL). The `Signer` is
//!   long-lived, as in the client, so its signing-key cache hits after the first call.
//! * `edgefs/Signer, no key cache`: the same with a fresh `Signer` per request, so the
//!   four HMACs of the key derivation are paid every time (as aws-sigv4 always does).
//! * `edgefs/Bucket`: the client's own path, `Bucket::sign` (an `S3Request` to a signed
//!   `http::Request`) or `Bucket::presign` (to the URL).
//! * `aws-sigv4`: S3 `SigningSettings` and `SigningParams`, `SignableRequest::new`
//!   (parses the URI), `sign`. aws-sigv4 has no signing-key cache: it derives the key
//!   for every request. The identity is built once, as a client keeps its credentials.
//! * `aws-sigv4 + http::Request`: the same, then `apply_to_request_http1x` onto an
//!   `http::Request`, to compare with `Bucket::sign` / `Bucket::presign`.
//!
//! PutObject hashes a 1 KiB body with both (`Payload::Bytes` / `SignableBody::Bytes`),
//! as `Bucket::sign` does for in-memory bodies.

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign as aws_sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest as AwsRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4::SigningParams as AwsSigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use criterion::{criterion_group, criterion_main, Criterion};
use edgefs::s3::{Bucket, S3Request};
use edgefs::sigv4::{encode, Credentials, Payload, SignableRequest, SignedHeaders, Signer, URI_PATH};
use edgefs::{Body, S3Settings};
use http::Method;
use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const ENDPOINT: &str = "https://s3.us-east-1.amazonaws.com";
const BUCKET: &str = "examplebucket";
const HOST: &str = "examplebucket.s3.us-east-1.amazonaws.com";
const KEY: &str = "photos/2024/summer vacation/IMG_0001+final.jpg";
const RANGE: &str = "bytes=0-1023";
const CONTENT_TYPE: &str = "image/jpeg";
const META_AUTHOR: &str = "Jane Doe";
const META_PURPOSE: &str = "benchmark upload";
const PRESIGN_SECONDS: u64 = 3600;

fn time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

fn signer() -> Signer {
    Signer::s3(Credentials::new(ACCESS_KEY, SECRET_KEY), REGION)
}

fn bucket() -> Bucket {
    Bucket::new(&S3Settings::new(BUCKET, REGION, ENDPOINT, ACCESS_KEY, SECRET_KEY)).expect("valid settings")
}

fn identity() -> Identity {
    AwsCredentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench").into()
}

/// The path as edgefs's `Bucket::location` builds it (virtual-hosted style).
fn object_path(key: &str) -> String {
    let mut path = String::with_capacity(key.len() + 16);
    path.push('/');
    encode(key, URI_PATH, &mut path);
    path
}

fn aws_settings(location: SignatureLocation, expires: Option<u64>) -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = match location {
        SignatureLocation::Headers => PayloadChecksumKind::XAmzSha256,
        _ => PayloadChecksumKind::NoHeader,
    };
    settings.signature_location = location;
    settings.expires_in = expires.map(Duration::from_secs);
    settings
}

/// aws-sigv4 from request parts to its signing instructions.
fn aws_signing_instructions(
    identity: &Identity,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: SignableBody<'_>,
    location: SignatureLocation,
    expires: Option<u64>,
) -> aws_sigv4::http_request::SigningInstructions {
    let params = AwsSigningParams::builder()
        .identity(identity)
        .region(REGION)
        .name("s3")
        .time(time())
        .settings(aws_settings(location, expires))
        .build()
        .expect("complete params")
        .into();
    let request = AwsRequest::new(method, uri, headers.iter().copied(), body).expect("valid request");
    aws_sign(request, &params).expect("signed").into_parts().0
}

/// edgefs's per-request work for a header-signed GetObject with a Range.
fn edgefs_get(signer: &Signer) -> SignedHeaders {
    let path = object_path(black_box(KEY));
    let request = SignableRequest {
        method: "GET",
        path: &path,
        query: "",
        headers: vec![("host", HOST), ("range", black_box(RANGE))],
        payload: Payload::Bytes(b""),
    };
    signer.sign_headers(&request, time())
}

/// edgefs's per-request work for a header-signed PutObject with a hashed body.
fn edgefs_put(signer: &Signer, body: &[u8]) -> SignedHeaders {
    let path = object_path(black_box(KEY));
    let request = SignableRequest {
        method: "PUT",
        path: &path,
        query: "",
        headers: vec![
            ("host", HOST),
            ("content-type", CONTENT_TYPE),
            ("x-amz-meta-author", META_AUTHOR),
            ("x-amz-meta-purpose", META_PURPOSE),
        ],
        payload: Payload::Bytes(black_box(body)),
    };
    signer.sign_headers(&request, time())
}

/// edgefs's per-request work for a presigned GET URL.
fn edgefs_presign(signer: &Signer) -> String {
    let path = object_path(black_box(KEY));
    let request = SignableRequest {
        method: "GET",
        path: &path,
        query: "",
        headers: vec![("host", HOST)],
        payload: Payload::Unsigned,
    };
    let presigned = signer.presign(&request, time(), PRESIGN_SECONDS);
    format!("https://{HOST}{path}?{}", presigned.query)
}

/// A signer made for one request: no signing-key cache to hit.
fn fresh_signer() -> Signer {
    black_box(Signer::s3(Credentials::new(ACCESS_KEY, SECRET_KEY), REGION))
}

/// aws-sigv4's per-request work for the GetObject: (URI, signing instructions).
fn aws_get(identity: &Identity) -> (String, aws_sigv4::http_request::SigningInstructions) {
    let uri = format!("https://{HOST}{}", object_path(black_box(KEY)));
    let instructions = aws_signing_instructions(
        identity,
        "GET",
        &uri,
        &[("range", black_box(RANGE))],
        SignableBody::Bytes(b""),
        SignatureLocation::Headers,
        None,
    );
    (uri, instructions)
}

/// aws-sigv4's per-request work for the PutObject: (URI, signing instructions).
fn aws_put(identity: &Identity, body: &[u8]) -> (String, aws_sigv4::http_request::SigningInstructions) {
    let uri = format!("https://{HOST}{}", object_path(black_box(KEY)));
    let instructions = aws_signing_instructions(
        identity,
        "PUT",
        &uri,
        &[
            ("content-type", CONTENT_TYPE),
            ("x-amz-meta-author", META_AUTHOR),
            ("x-amz-meta-purpose", META_PURPOSE),
        ],
        SignableBody::Bytes(black_box(body)),
        SignatureLocation::Headers,
        None,
    );
    (uri, instructions)
}

fn get_object(c: &mut Criterion) {
    let mut group = c.benchmark_group("get_object (header-signed, Range)");
    let signer = signer();
    let bucket = bucket();
    let identity = identity();

    group.bench_function("edgefs/Signer", |b| b.iter(|| black_box(edgefs_get(&signer))));
    group.bench_function("edgefs/Signer, no key cache", |b| {
        b.iter(|| black_box(edgefs_get(&fresh_signer())))
    });
    group.bench_function("aws-sigv4", |b| b.iter(|| black_box(aws_get(&identity).1)));
    group.bench_function("edgefs/Bucket::sign", |b| {
        b.iter(|| {
            let request = S3Request::new(Method::GET, Some(black_box(KEY)))
                .header("range", black_box(RANGE))
                .expect("valid header");
            black_box(bucket.sign(request, time()).expect("signed"))
        })
    });
    group.bench_function("aws-sigv4 + http::Request", |b| {
        b.iter(|| {
            let (uri, instructions) = aws_get(&identity);
            let mut request = http::Request::builder()
                .method(Method::GET)
                .uri(&uri)
                .header("range", RANGE)
                .body(())
                .expect("valid request");
            instructions.apply_to_request_http1x(&mut request);
            black_box(request)
        })
    });
    group.finish();
}

fn put_object(c: &mut Criterion) {
    let mut group = c.benchmark_group("put_object (header-signed, 1 KiB body hashed)");
    let signer = signer();
    let bucket = bucket();
    let identity = identity();
    let body: Vec<u8> = (0..1024u32).map(|i| (i * 31 % 251) as u8).collect();
    let body_bytes = bytes::Bytes::from(body.clone());

    group.bench_function("edgefs/Signer", |b| b.iter(|| black_box(edgefs_put(&signer, &body))));
    group.bench_function("edgefs/Signer, no key cache", |b| {
        b.iter(|| black_box(edgefs_put(&fresh_signer(), &body)))
    });
    group.bench_function("aws-sigv4", |b| b.iter(|| black_box(aws_put(&identity, &body).1)));
    group.bench_function("edgefs/Bucket::sign", |b| {
        b.iter(|| {
            let request = S3Request::new(Method::PUT, Some(black_box(KEY)))
                .header("content-type", CONTENT_TYPE)
                .and_then(|r| r.header("x-amz-meta-author", META_AUTHOR))
                .and_then(|r| r.header("x-amz-meta-purpose", META_PURPOSE))
                .expect("valid headers")
                .body(Body::from_bytes(body_bytes.clone()));
            black_box(bucket.sign(request, time()).expect("signed"))
        })
    });
    group.bench_function("aws-sigv4 + http::Request", |b| {
        b.iter(|| {
            let (uri, instructions) = aws_put(&identity, &body);
            let mut request = http::Request::builder()
                .method(Method::PUT)
                .uri(&uri)
                .header("content-type", CONTENT_TYPE)
                .header("x-amz-meta-author", META_AUTHOR)
                .header("x-amz-meta-purpose", META_PURPOSE)
                .body(body_bytes.clone())
                .expect("valid request");
            instructions.apply_to_request_http1x(&mut request);
            black_box(request)
        })
    });
    group.finish();
}

fn presign_get(c: &mut Criterion) {
    let mut group = c.benchmark_group("presign_get (3600 s URL)");
    let signer = signer();
    let bucket = bucket();
    let identity = identity();

    group.bench_function("edgefs/Signer", |b| b.iter(|| black_box(edgefs_presign(&signer))));
    group.bench_function("edgefs/Signer, no key cache", |b| {
        b.iter(|| black_box(edgefs_presign(&fresh_signer())))
    });
    // aws-sigv4 returns parameters, not a URL: applying them to an `http::Request` is
    // how the SDK makes the URL, so both aws rows include it.
    let aws_presign = |identity: &Identity| {
        let uri = format!("https://{HOST}{}", object_path(black_box(KEY)));
        let instructions = aws_signing_instructions(
            identity,
            "GET",
            &uri,
            &[],
            SignableBody::UnsignedPayload,
            SignatureLocation::QueryParams,
            Some(PRESIGN_SECONDS),
        );
        let mut request = http::Request::builder()
            .method(Method::GET)
            .uri(&uri)
            .body(())
            .expect("valid request");
        instructions.apply_to_request_http1x(&mut request);
        request.uri().to_string()
    };
    group.bench_function("aws-sigv4", |b| b.iter(|| black_box(aws_presign(&identity))));
    group.bench_function("edgefs/Bucket::presign", |b| {
        b.iter(|| {
            black_box(
                bucket
                    .presign(
                        Method::GET,
                        black_box(KEY),
                        Duration::from_secs(PRESIGN_SECONDS),
                        time(),
                    )
                    .expect("presigned"),
            )
        })
    });
    group.finish();
}

/// Both produce the same signatures here (the differential test checks this broadly).
fn sanity_check() {
    let path = object_path(KEY);
    let request = SignableRequest {
        method: "GET",
        path: &path,
        query: "",
        headers: vec![("host", HOST)],
        payload: Payload::Unsigned,
    };
    let ours = format!(
        "https://{HOST}{path}?{}",
        signer().presign(&request, time(), PRESIGN_SECONDS).query
    );
    let via_bucket = bucket()
        .presign(Method::GET, KEY, Duration::from_secs(PRESIGN_SECONDS), time())
        .unwrap();
    assert_eq!(ours, via_bucket);
    let uri = format!("https://{HOST}{path}");
    let instructions = aws_signing_instructions(
        &identity(),
        "GET",
        &uri,
        &[],
        SignableBody::UnsignedPayload,
        SignatureLocation::QueryParams,
        Some(PRESIGN_SECONDS),
    );
    let signature = instructions
        .params()
        .iter()
        .find(|(n, _)| *n == "X-Amz-Signature")
        .map(|(_, v)| v.to_string())
        .unwrap();
    assert!(ours.ends_with(&format!("X-Amz-Signature={signature}")), "{ours}");
}

fn benches(c: &mut Criterion) {
    sanity_check();
    get_object(c);
    put_object(c);
    presign_get(c);
}

criterion_group! {
    name = signing;
    config = Criterion::default().warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(signing);
