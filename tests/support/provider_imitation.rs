//! A FAKE, named as such: a loopback TCP proxy in front of a real S3 server that
//! imitates one hosted provider's known refusals — answering them itself, with the
//! status, code and words the provider was seen to use — and forwards everything else
//! to the real server unchanged, so signatures are still verified there. None of these
//! providers can run here; each refusal below names where its text comes from (the same
//! sources as `crates/s3/src/protocol/profile.rs`).

use edgefs::s3::Provider;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Part sizes seen per upload id, as the provider would have stored them.
type Parts = Arc<Mutex<HashMap<String, HashMap<u32, usize>>>>;

pub struct ProviderImitation {
    pub port: u16,
    pub provider: Provider,
    refusals: Arc<Mutex<Vec<String>>>,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ProviderImitation {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ProviderImitation {
    /// Imitates `provider` (AWS, MinIO, Spaces, R2 or B2) in front of the server on
    /// `upstream_port`.
    pub async fn start(provider: Provider, upstream_port: u16) -> ProviderImitation {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let refusals: Arc<Mutex<Vec<String>>> = Arc::default();
        let requests: Arc<AtomicUsize> = Arc::default();
        let parts: Parts = Arc::default();
        let (refused, counted) = (refusals.clone(), requests.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (refused, counted, parts) = (refused.clone(), counted.clone(), parts.clone());
                tokio::spawn(async move {
                    let _ = serve(client, provider, upstream_port, refused, counted, parts).await;
                });
            }
        });
        ProviderImitation {
            port,
            provider,
            refusals,
            requests,
            task,
        }
    }

    /// The refusals answered so far, as `{code}: {message}`.
    pub fn refusals(&self) -> Vec<String> {
        self.refusals.lock().unwrap().clone()
    }

    /// Requests seen so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A request as the proxy reads it.
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body_start: usize,
    raw: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn query(&self, name: &str) -> Option<&str> {
        let query = self.target.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (n == name).then_some(v)
        })
    }

    fn body(&self) -> &[u8] {
        &self.raw[self.body_start.min(self.raw.len())..]
    }
}

/// What `provider` refuses in this request: (status line, code, message), in the
/// provider's own words.
fn refusal(provider: Provider, request: &Seen, parts: &Parts) -> Option<(&'static str, &'static str, String)> {
    let checksum = request
        .headers
        .iter()
        .find(|(name, _)| name.starts_with("x-amz-checksum-") || name.starts_with("x-amz-sdk-checksum-"));
    match provider {
        Provider::B2 => {
            // stonith404/pingvin-share#798, home-assistant/core#143995: 400 InvalidArgument.
            if let Some((name, _)) = checksum {
                return Some((
                    "400 Bad Request",
                    "InvalidArgument",
                    format!("Unsupported header '{name}' received for this API call."),
                ));
            }
            // B2 "explicitly rejects" x-amz-tagging on PutObject and CopyObject
            // (backblaze.com/apidocs/s3-copy-object); the words are its unsupported-header
            // answer's.
            if request.method == "PUT" && request.header("x-amz-tagging").is_some() {
                return Some((
                    "400 Bad Request",
                    "InvalidArgument",
                    "Unsupported header 'x-amz-tagging' received for this API call.".into(),
                ));
            }
            None
        }
        Provider::R2 => {
            // cloudflare/cloudflare-docs#19236: 501 NotImplemented.
            if let Some((name, value)) = checksum {
                return Some((
                    "501 Not Implemented",
                    "NotImplemented",
                    format!("Header '{name}' with value '{value}' not implemented"),
                ));
            }
            r2_unequal_parts(request, parts).then(|| {
                (
                    "400 Bad Request",
                    "InvalidPart",
                    "All non-trailing parts must have the same length.".into(),
                )
            })
        }
        Provider::Minio => {
            // PocketBase PR #6914: an empty Range answered 416 InvalidRange.
            let empty_range = request.header("range").is_some_and(|v| v.trim().is_empty());
            if empty_range {
                return Some((
                    "416 Requested Range Not Satisfiable",
                    "InvalidRange",
                    "The requested range cannot be satisfied.".into(),
                ));
            }
            // aws/aws-sdk-php#3068 (a MinIO on :9000): DeleteObjects without Content-MD5.
            missing_content_md5(request, checksum.is_some()).then(|| {
                (
                    "400 Bad Request",
                    "MissingContentMD5",
                    "Missing required header for this request: Content-Md5.".into(),
                )
            })
        }
        Provider::Aws => {
            // "the Content-MD5 header is required for all Multi-Object Delete requests"
            // (AWS's DeleteObjects reference); the answer, aws/aws-cli#400 and
            // aws/aws-sdk-cpp#91.
            missing_content_md5(request, checksum.is_some()).then(|| {
                (
                    "400 Bad Request",
                    "InvalidRequest",
                    "Missing required header for this request: Content-MD5".into(),
                )
            })
        }
        // Spaces refuses nothing edgefs could send; it only keeps no part checksums, which
        // `serve` imitates on the answers.
        _ => None,
    }
}

/// A DeleteObjects (`POST ?delete`) with neither `Content-MD5` nor a checksum header.
fn missing_content_md5(request: &Seen, has_checksum: bool) -> bool {
    request.method == "POST"
        && request.query("delete").is_some()
        && request.header("content-md5").is_none()
        && !has_checksum
}

/// Records an UploadPart's size; for a CompleteMultipartUpload, true when the parts it
/// lists break R2's rule (every part but the last of one size, the last no larger).
fn r2_unequal_parts(request: &Seen, parts: &Parts) -> bool {
    let Some(upload_id) = request.query("uploadId") else {
        return false;
    };
    let mut parts = parts.lock().unwrap();
    if request.method == "PUT" {
        if let Some(number) = request.query("partNumber").and_then(|n| n.parse::<u32>().ok()) {
            let size = request.body().len();
            parts.entry(upload_id.to_owned()).or_default().insert(number, size);
        }
        return false;
    }
    if request.method != "POST" {
        return false;
    }
    let body = String::from_utf8_lossy(request.body());
    let listed: Vec<u32> = body
        .split("<PartNumber>")
        .skip(1)
        .filter_map(|rest| rest.split('<').next()?.trim().parse().ok())
        .collect();
    let known = parts.get(upload_id).cloned().unwrap_or_default();
    let sizes: Vec<usize> = listed.iter().filter_map(|n| known.get(n).copied()).collect();
    let Some((&first, rest)) = sizes.split_first() else {
        return false;
    };
    match rest.split_last() {
        None => false,
        Some((&last, middle)) => middle.iter().any(|&size| size != first) || last > first,
    }
}

fn error_answer(status: &str, code: &str, message: &str) -> Vec<u8> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>imitation-{code}</RequestId></Error>"
    );
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One request per connection: read it, refuse it as the provider would or forward it,
/// answer, close.
async fn serve(
    mut client: TcpStream,
    provider: Provider,
    upstream_port: u16,
    refusals: Arc<Mutex<Vec<String>>>,
    requests: Arc<AtomicUsize>,
    parts: Parts,
) -> std::io::Result<()> {
    let request = read_request(&mut client).await?;
    requests.fetch_add(1, Ordering::SeqCst);
    let answer = match refusal(provider, &request, &parts) {
        Some((status, code, message)) => {
            refusals.lock().unwrap().push(format!("{code}: {message}"));
            error_answer(status, code, &message)
        }
        None => {
            let answer = forward(&request, upstream_port).await?;
            dress(provider, answer)
        }
    };
    client.write_all(&answer).await?;
    client.shutdown().await
}

/// The real answer as the provider would send it: MinIO names itself in `Server`, as
/// AWS does (`AmazonS3`); Spaces keeps no part checksums, so returns none.
fn dress(provider: Provider, answer: Vec<u8>) -> Vec<u8> {
    let head_end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(answer.len());
    let head = String::from_utf8_lossy(&answer[..head_end]).into_owned();
    let server = match provider {
        Provider::Minio => Some("MinIO"),
        Provider::Aws => Some("AmazonS3"),
        _ => None,
    };
    let mut out: Vec<u8> = Vec::new();
    for line in head.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if server.is_some() && lower.starts_with("server:") {
            continue;
        }
        if provider == Provider::DigitalOceanSpaces && lower.starts_with("x-amz-checksum-") {
            continue;
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(server) = server {
        out.extend_from_slice(format!("Server: {server}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&answer[(head_end + 4).min(answer.len())..]);
    out
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Seen> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 64 * 1024];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let mut lines = head.split("\r\n");
            let mut first = lines.next().unwrap_or_default().split(' ');
            let method = first.next().unwrap_or_default().to_owned();
            let target = first.next().unwrap_or_default().to_owned();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Ok(Seen {
                    method,
                    target,
                    headers,
                    body_start: end + 4,
                    raw: data,
                });
            }
        }
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "request cut short",
            ));
        }
        data.extend_from_slice(&buffer[..n]);
    }
}

/// Sends the request to the real server and returns its whole answer, marked
/// `Connection: close` (this proxy serves one request per connection).
async fn forward(request: &Seen, upstream_port: u16) -> std::io::Result<Vec<u8>> {
    let head = String::from_utf8_lossy(&request.raw[..request.body_start.saturating_sub(4)]);
    let mut rewritten: String = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    rewritten.push_str("Connection: close\r\n\r\n");
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port)).await?;
    upstream.write_all(rewritten.as_bytes()).await?;
    upstream.write_all(request.body()).await?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer).await?;
    let answer_head_end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(answer.len());
    let answer_head = String::from_utf8_lossy(&answer[..answer_head_end]);
    let mut out: Vec<u8> = answer_head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .flat_map(|l| format!("{l}\r\n").into_bytes())
        .collect();
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&answer[(answer_head_end + 4).min(answer.len())..]);
    Ok(out)
}
