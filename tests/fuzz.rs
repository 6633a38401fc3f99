//! Hostile bytes (issue 10 §3): every parser that reads outside input, fed random bytes
//! and random mutations of valid seeds, must answer (an error is fine) and never panic.
//! Random, not coverage-guided: libFuzzer (`cargo fuzz`) needs a nightly toolchain that
//! this project does not install; proptest runs on stable and shrinks what it finds.
//!
//! `EDGEFS_FUZZ_CASES` sets the executions per target (default 1000, what the test
//! command runs); `bash scripts/fuzz.sh` runs a longer budget and prints the figures
//! RELIABILITY.md records. Every crash found becomes a seed below and a fixed bug.
#![cfg(not(target_arch = "wasm32"))]

use edgefs::api::{handle, App, Env};
use edgefs::auth::JwtSigner;
use edgefs::collections::Collections;
use edgefs::files::ranges;
use edgefs::records::ListQuery;
use edgefs::rules::Rule;
use edgefs::s3::actions::{
    CompleteMultipartUpload, ContentRange, CopyObject, CreateMultipartUpload, DeleteObjects, ListMultipartUploads,
    ListObjectsV2, ListParts,
};
use edgefs::s3::{Endpoint, S3Error, S3Settings, Target};
use edgefs::{Body, Secret};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("EDGEFS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// Random bytes, or a seed with random insertions, deletions and replacements.
fn input(seeds: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<u8>> {
    let mutated = (
        0..seeds.len(),
        prop::collection::vec((any::<u16>(), 0u8..3, any::<u8>()), 0..12),
    )
        .prop_map(move |(seed, edits)| {
            let mut bytes = seeds[seed].to_vec();
            for (at, op, byte) in edits {
                let at = if bytes.is_empty() {
                    0
                } else {
                    at as usize % (bytes.len() + 1)
                };
                match op {
                    0 => bytes.insert(at, byte),
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ if at < bytes.len() => bytes[at] = byte,
                    _ => bytes.push(byte),
                }
            }
            bytes
        });
    prop_oneof![1 => prop::collection::vec(any::<u8>(), 0..512), 3 => mutated]
}

/// Runs `check` on `cases()` inputs; a panic fails with the (shrunk) input.
fn fuzz(name: &str, seeds: &'static [&'static [u8]], check: impl Fn(&[u8])) {
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let started = std::time::Instant::now();
    let result = runner.run(&input(seeds), |bytes| {
        check(&bytes);
        Ok(())
    });
    if let Err(error) = result {
        panic!("fuzz {name}: {error}");
    }
    println!(
        "fuzz {name}: {} executions in {:.2}s, 0 crashes",
        cases(),
        started.elapsed().as_secs_f64()
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const RULES: &[&[u8]] = &[
    b"@request.auth.id != '' && (owner = @request.auth.id || public = true)",
    b"title ~ 'a%b' || n >= -1.5e3 && @request.body.x != null",
    b"((((a = 1))))",
    b"a = \"q\\\"uote\" && b !~ 'x'",
];

#[test]
fn rules_and_filters() {
    fuzz("rules", RULES, |bytes| {
        if let Ok(rule) = Rule::parse(&text(bytes)) {
            // What parses prints to something that parses to the same rule.
            let printed = rule.to_string();
            let again = Rule::parse(&printed).unwrap_or_else(|e| panic!("{printed:?} does not parse again: {e}"));
            assert_eq!(again.to_string(), printed);
        }
    });
}

#[test]
fn list_parameters() {
    const SEEDS: &[&[u8]] = &[
        b"page=2&perPage=50&sort=-created,title&filter=title~'x'&skipTotal=1",
        b"perPage=4294967296&page=-1",
    ];
    fuzz("list parameters", SEEDS, |bytes| {
        let query = text(bytes);
        let pairs: Vec<(String, String)> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (pair.to_owned(), String::new()),
            })
            .collect();
        let _ = ListQuery::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    });
}

#[test]
fn jwts() {
    const SEEDS: &[&[u8]] = &[
        b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6ImEiLCJ0eXBlIjoiYXV0aCIsImV4cCI6OTk5OTk5OTk5OX0.sig",
        b"eyJhbGciOiJub25lIn0.e30.",
        b"a.b.c",
    ];
    let signer = JwtSigner::new(Secret::new("fuzz-secret-0123456789-0123456789"));
    fuzz("jwt", SEEDS, |bytes| {
        let _ = signer.verify(&text(bytes), 1_700_000_000);
    });
}

#[test]
fn ranges_and_content_ranges() {
    const SEEDS: &[&[u8]] = &[
        b"bytes=0-9",
        b"bytes=-5",
        b"bytes=10-",
        b"bytes 0-9/100",
        b"bytes */100",
        b"bytes=0-1,4-5",
    ];
    fuzz("range", SEEDS, |bytes| {
        let value = text(bytes);
        if let ranges::RangeRequest::Many(many) = ranges::parse(Some(&value)) {
            if let ranges::Resolved::Many(positions) = ranges::resolve(&many, 1000) {
                let _ = ranges::multipart_length("b", "text/plain", 1000, &positions);
            }
        }
        let _ = ContentRange::parse(&value);
    });
}

const LISTING: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken><Contents><Key>a&lt;b</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified><ETag>"e"</ETag><Size>12</Size></Contents><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>"#;
const ERROR: &[u8] = br#"<?xml version="1.0"?><Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region><RequestId>r1</RequestId></Error>"#;
const PARTS: &[u8] = br#"<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber><ETag>"e"</ETag><Size>5242880</Size></Part></ListPartsResult>"#;
const UPLOADS: &[u8] = br#"<ListMultipartUploadsResult><Bucket>b</Bucket><IsTruncated>false</IsTruncated><Upload><Key>k</Key><UploadId>u</UploadId><Initiated>2024-05-01T10:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>"#;
const DELETED: &[u8] = br#"<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>"#;
const MISC: &[u8] = br#"<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult><CopyObjectResult><ETag>"e"</ETag><LastModified>2024-05-01T10:00:00Z</LastModified></CopyObjectResult><CompleteMultipartUploadResult><ETag>"e-2"</ETag></CompleteMultipartUploadResult>"#;

#[test]
fn s3_xml_answers() {
    const SEEDS: &[&[u8]] = &[LISTING, ERROR, PARTS, UPLOADS, DELETED, MISC];
    let headers = http::HeaderMap::new();
    let keys = vec!["a".to_owned(), "b".to_owned()];
    fuzz("s3 xml", SEEDS, |bytes| {
        let _ = ListObjectsV2::parse(bytes);
        let _ = ListParts::parse(bytes);
        let _ = ListMultipartUploads::parse(bytes);
        let _ = DeleteObjects::parse(&keys, bytes);
        let _ = CreateMultipartUpload::parse(bytes);
        let _ = CopyObject::parse(bytes);
        let _ = CompleteMultipartUpload::parse(bytes);
        for status in [400, 403, 404, 200] {
            let error = S3Error::from_response(status, &headers, bytes, "us-east-1", Target::Object);
            let _ = (error.to_string(), error.hint());
        }
    });
}

#[test]
fn settings_and_endpoints() {
    const SEEDS: &[&[u8]] = &[
        br#"{"enabled":true,"bucket":"b","region":"auto","endpoint":"https://acc.r2.cloudflarestorage.com","accessKey":"k","secret":"s","forcePathStyle":false}"#,
        b"http://[::1]:9000/path?x#y",
        b"https://s3.us-east-1.amazonaws.com",
    ];
    fuzz("settings", SEEDS, |bytes| {
        let value = text(bytes);
        let _ = S3Settings::from_json(&value);
        let _ = Endpoint::parse(&value);
    });
}

#[test]
fn collection_imports() {
    const SEEDS: &[&[u8]] = &[
        include_bytes!("../src/collections/default.json"),
        br#"[{"id":"ok_1","name":"n","listRule":"a = 1","fields":[{"name":"a","type":"number","min":1e308},{"name":"f","type":"file","maxSelect":4294967296}]}]"#,
    ];
    fuzz("collections", SEEDS, |bytes| {
        let _ = Collections::from_json(&text(bytes));
    });
}

#[test]
fn multipart_forms() {
    const SEEDS: &[&[u8]] = &[
        b"--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--B\r\nContent-Disposition: form-data; name=\"cover\"; filename=\"a b.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--B--\r\n",
        b"--B\r\nContent-Disposition: form-data; name=\"x+\"\r\n\r\n\r\n--B--",
    ];
    fuzz("multipart", SEEDS, |bytes| {
        let body = Body::from(bytes.to_vec());
        let _ = futures::executor::block_on(edgefs::api::form::read_form_native(
            body,
            "multipart/form-data; boundary=B",
            1 << 20,
        ));
    });
}

#[test]
fn the_whole_api_with_random_requests() {
    const SEEDS: &[&[u8]] = &[
        b"GET /api/collections/posts/records?filter=title~'x'&sort=-created&perPage=2&fields=id\n",
        b"POST /api/collections/posts/records\n{\"title\":\"t\",\"author\":\"a\"}",
        b"GET /api/files/posts/abcdefghijklmno/a_1234567890.png?token=a.b.c&download=1\n",
        b"PATCH /api/settings\n{\"s3\":{\"enabled\":true,\"endpoint\":\"http://127.0.0.1:1\"}}",
        b"POST /api/collections/_superusers/auth-with-password\n{\"identity\":\"a@b.c\",\"password\":\"p\"}",
        b"PUT /api/collections/import\n{\"collections\":[{\"name\":\"x\"}],\"deleteMissing\":true}",
    ];
    let app = App::in_memory(Env::from_lookup(|name| match name {
        "AUTH_SECRET" => Some("fuzz-secret-0123456789-0123456789".into()),
        "SUPERUSER_EMAIL" => Some("a@b.c".into()),
        "SUPERUSER_PASSWORD" => Some("p".into()),
        _ => None,
    }));
    fuzz("api", SEEDS, |bytes| {
        let text = text(bytes);
        let (line, body) = text.split_once('\n').unwrap_or((&text, ""));
        let (method, target) = line.split_once(' ').unwrap_or(("GET", line));
        let (Ok(method), Ok(uri)) = (http::Method::from_bytes(method.as_bytes()), target.parse::<http::Uri>()) else {
            return;
        };
        let Ok(request) = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
        else {
            return;
        };
        let response = futures::executor::block_on(handle(&app, request));
        assert!(
            response.status().as_u16() < 500 || response.status() == 503,
            "{line}: {}",
            response.status()
        );
    });
}
