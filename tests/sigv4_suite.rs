//! Runs every case folder of a SigV4 test-vector suite through edgefs's public signer.
//!
//! The suite directory is `$SIGV4_SUITE_DIR`, by default `tests/vectors/sigv4` (24 cases
//! of AWS's suite, kept in the repository so a plain clone runs them). Its
//! format (see that folder's README): `context.json`, `request.txt`, and for each
//! signing mode (`header`, `query`) optional `*-canonical-request.txt`,
//! `*-string-to-sign.txt` and `*-signature.txt`. Every expected file present is
//! compared; a failing case prints the first line that differs. The last line is
//! `N passed, M failed`, counting cases, and the process fails when M > 0.
// Native only: wasm-pack builds every test target for wasm32, where this one is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use edgefs::clock::parse_iso8601;
use edgefs::sigv4::{Credentials, Payload, SignableRequest, Signer, SigningRules};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Deserialize)]
struct Context {
    credentials: ContextCredentials,
    region: String,
    service: String,
    timestamp: String,
    #[serde(default = "default_true")]
    normalize: bool,
    #[serde(default)]
    sign_body: bool,
    #[serde(default = "default_expiration")]
    expiration_in_seconds: u64,
    #[serde(default)]
    omit_session_token: bool,
}

#[derive(Deserialize)]
struct ContextCredentials {
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_expiration() -> u64 {
    3600
}

/// A request as written in `request.txt`.
struct RawRequest {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parse_request(bytes: &[u8]) -> Result<RawRequest, String> {
    // The head is text; the body is whatever follows the first blank line.
    let (head, body) = split_head(bytes);
    let head = String::from_utf8(head.to_vec()).map_err(|e| format!("request head is not UTF-8: {e}"))?;
    let mut lines = head.lines().map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().ok_or("request.txt is empty")?;
    let (method, rest) = request_line.split_once(' ').ok_or("request line has no target")?;
    // The target may itself contain spaces (`/example space/`): the version is the last word.
    let target = match rest.rfind(" HTTP/") {
        Some(at) => &rest[..at],
        None => rest,
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().ok_or("continuation line before any header")?;
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.to_owned(), value.to_owned()));
        } else if !line.is_empty() {
            return Err(format!("header line without a colon: {line:?}"));
        }
    }
    Ok(RawRequest {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body: body.to_vec(),
    })
}

fn split_head(bytes: &[u8]) -> (&[u8], &[u8]) {
    for (i, window) in bytes.windows(2).enumerate() {
        if window == b"\n\n" {
            return (&bytes[..i], &bytes[i + 2..]);
        }
        if bytes[i..].starts_with(b"\r\n\r\n") {
            return (&bytes[..i], &bytes[i + 4..]);
        }
    }
    (bytes, &[])
}

fn read(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name)).ok()
}

/// The first line where `actual` differs from `expected`.
fn first_difference(expected: &str, actual: &str) -> Option<String> {
    let expected = expected.trim_end_matches(['\n', '\r']);
    let actual = actual.trim_end_matches(['\n', '\r']);
    if expected == actual {
        return None;
    }
    let mut e = expected.lines();
    let mut a = actual.lines();
    let mut number = 1;
    loop {
        match (e.next(), a.next()) {
            (Some(x), Some(y)) if x == y => number += 1,
            (x, y) => {
                return Some(format!(
                    "line {number}: expected {:?}, got {:?}",
                    x.unwrap_or("<end>"),
                    y.unwrap_or("<end>")
                ))
            }
        }
    }
}

fn run_case(dir: &Path) -> Result<Vec<String>, String> {
    let context: Context = serde_json::from_str(&read(dir, "context.json").ok_or("no context.json")?)
        .map_err(|e| format!("context.json: {e}"))?;
    let raw = std::fs::read(dir.join("request.txt")).map_err(|e| format!("request.txt: {e}"))?;
    let request = parse_request(&raw)?;
    let time = parse_iso8601(&context.timestamp).ok_or_else(|| format!("bad timestamp {:?}", context.timestamp))?;

    let mut credentials = Credentials::new(
        &context.credentials.access_key_id,
        context.credentials.secret_access_key.as_str(),
    );
    if let Some(token) = &context.credentials.token {
        credentials = credentials.with_session_token(token.as_str());
    }
    let mut rules = if context.service == "s3" {
        SigningRules::S3
    } else {
        SigningRules {
            normalize_path: context.normalize,
            ..SigningRules::GENERIC
        }
    };
    rules.content_sha256_header = context.sign_body;
    let signer = Signer::new(credentials, &context.region, &context.service, rules)
        .sign_session_token(!context.omit_session_token);

    let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
    let signable = SignableRequest {
        method: &request.method,
        path,
        query,
        headers: request.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect(),
        payload: Payload::Bytes(&request.body),
    };

    let mut failures = Vec::new();
    let mut compare = |mode: &str, what: &str, actual: &str| {
        if let Some(expected) = read(dir, &format!("{mode}-{what}.txt")) {
            if let Some(diff) = first_difference(&expected, actual) {
                failures.push(format!("{mode} {what}: {diff}"));
            }
        }
    };
    let has = |mode: &str| {
        ["canonical-request", "string-to-sign", "signature"]
            .iter()
            .any(|w| dir.join(format!("{mode}-{w}.txt")).exists())
    };
    if has("header") {
        let signed = signer.sign_headers(&signable, time);
        compare("header", "canonical-request", &signed.canonical_request);
        compare("header", "string-to-sign", &signed.string_to_sign);
        compare("header", "signature", &signed.signature);
    }
    if has("query") {
        let presigned = signer.presign(&signable, time, context.expiration_in_seconds);
        compare("query", "canonical-request", &presigned.canonical_request);
        compare("query", "string-to-sign", &presigned.string_to_sign);
        compare("query", "signature", &presigned.signature);
    }
    Ok(failures)
}

fn suite_dir() -> PathBuf {
    match std::env::var_os("SIGV4_SUITE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/sigv4"),
    }
}

fn main() -> ExitCode {
    let dir = suite_dir();
    let mut cases: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("context.json").is_file() && p.join("request.txt").is_file())
            .collect(),
        Err(e) => {
            println!("cannot read the SigV4 suite at {}: {e}", dir.display());
            println!("0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
    };
    cases.sort();
    let (mut passed, mut failed) = (0, 0);
    for case in &cases {
        let name = case.file_name().unwrap_or_default().to_string_lossy();
        match run_case(case) {
            Ok(failures) if failures.is_empty() => passed += 1,
            Ok(failures) => {
                failed += 1;
                println!("FAIL {name}");
                for failure in failures {
                    println!("    {failure}");
                }
            }
            Err(error) => {
                failed += 1;
                println!("FAIL {name}: {error}");
            }
        }
    }
    println!("sigv4 suite ({}): {passed} passed, {failed} failed", dir.display());
    if cases.is_empty() {
        println!("no case folders found in {}", dir.display());
        return ExitCode::FAILURE;
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
