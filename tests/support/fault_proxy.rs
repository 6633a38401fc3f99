//! A FAKE, named as such: a loopback TCP proxy in front of a real S3 server that
//! answers chosen requests itself with faults a real server will not produce on demand
//! (503 SlowDown, 500 InternalError, a connection reset, a truncated or slow body, a
//! 200 carrying an error, malformed XML). Every other request goes to the real server
//! unchanged, so signatures are still verified there.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Faults = Arc<Mutex<VecDeque<(Match, Fault)>>>;

#[derive(Clone, Debug)]
pub enum Fault {
    /// 503 with S3's `SlowDown` error document.
    SlowDown,
    /// 500 with S3's `InternalError` error document.
    InternalError,
    /// The real answer, cut after half its body, then the connection closes.
    TruncatedBody,
    /// 200 with a body that is not well-formed XML.
    MalformedXml,
    /// The request is read, then the connection is reset without an answer (the
    /// request never reaches the server).
    ResetBeforeAnswer,
    /// The real answer's head and half its body, then a reset (RST, not a clean close).
    ResetMidBody,
    /// The real answer, 8 KiB at a time with a pause of this many milliseconds between.
    SlowBody(u64),
    /// `200 OK` whose body is an S3 error document with this code, as CopyObject and
    /// CompleteMultipartUpload may answer once the server has sent its headers. The
    /// request never reaches the server.
    OkWithError(&'static str),
}

/// Which requests a fault is for: every field given must match.
#[derive(Clone, Copy, Debug, Default)]
pub struct Match {
    /// The method, e.g. `"PUT"`.
    pub method: Option<&'static str>,
    /// A text the request line's query must contain, e.g. `"partNumber=2"` or `"uploads"`.
    pub query: Option<&'static str>,
    /// A text the request line's query must not contain (PutObject vs UploadPart).
    pub query_without: Option<&'static str>,
}

impl Match {
    fn matches(&self, request_line: &str) -> bool {
        let mut words = request_line.split(' ');
        let method = words.next().unwrap_or("");
        let query = words.next().unwrap_or("").split_once('?').map_or("", |(_, q)| q);
        self.method.is_none_or(|m| m == method)
            && self.query.is_none_or(|q| query.contains(q))
            && self.query_without.is_none_or(|q| !query.contains(q))
    }
}

pub struct FaultProxy {
    pub port: u16,
    faults: Faults,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    pub async fn start(upstream_port: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let faults: Faults = Arc::default();
        let requests: Arc<AtomicUsize> = Arc::default();
        let (f, r) = (faults.clone(), requests.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (f, r) = (f.clone(), r.clone());
                tokio::spawn(async move {
                    let _ = serve(client, upstream_port, f, r).await;
                });
            }
        });
        FaultProxy {
            port,
            faults,
            requests,
            task,
        }
    }

    /// The next request gets this fault (faults queue up in order).
    pub fn inject(&self, fault: Fault) {
        self.inject_on(Match::default(), fault);
    }

    /// The next request that matches gets this fault; each fault is used once, the
    /// first queued that matches first.
    pub fn inject_on(&self, on: Match, fault: Fault) {
        self.faults.lock().unwrap().push_back((on, fault));
    }

    /// Faults queued and not used yet.
    pub fn pending(&self) -> usize {
        self.faults.lock().unwrap().len()
    }

    /// Requests seen so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn error_document(status: &str, code: &str) -> Vec<u8> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected by the test's fault proxy</Message><RequestId>fake-{code}</RequestId></Error>"
    );
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One request per connection: read it, answer, close.
async fn serve(
    mut client: TcpStream,
    upstream_port: u16,
    faults: Faults,
    requests: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let request = read_request(&mut client).await?;
    requests.fetch_add(1, Ordering::SeqCst);
    let request_line =
        String::from_utf8_lossy(&request[..request.iter().position(|&b| b == b'\r').unwrap_or(0)]).into_owned();
    let fault = {
        let mut faults = faults.lock().unwrap();
        let at = faults.iter().position(|(on, _)| on.matches(&request_line));
        at.and_then(|at| faults.remove(at)).map(|(_, fault)| fault)
    };
    let answer = match fault {
        Some(Fault::SlowDown) => error_document("503 Slow Down", "SlowDown"),
        Some(Fault::InternalError) => error_document("500 Internal Server Error", "InternalError"),
        Some(Fault::OkWithError(code)) => error_document("200 OK", code),
        Some(Fault::MalformedXml) => {
            let body = "<?xml version=\"1.0\"?><ListBucketResult><Contents><Key>half-a-key";
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        }
        Some(Fault::TruncatedBody) => {
            let full = forward(&request, upstream_port).await?;
            full[..head_end(&full) + (full.len() - head_end(&full)) / 2].to_vec()
        }
        Some(Fault::ResetBeforeAnswer) => return reset(client),
        Some(Fault::ResetMidBody) => {
            let full = forward(&request, upstream_port).await?;
            let cut = head_end(&full) + (full.len() - head_end(&full)) / 2;
            client.write_all(&full[..cut]).await?;
            client.flush().await?;
            return reset(client);
        }
        Some(Fault::SlowBody(pause)) => {
            let full = forward(&request, upstream_port).await?;
            for chunk in full.chunks(8 * 1024) {
                client.write_all(chunk).await?;
                client.flush().await?;
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            return client.shutdown().await;
        }
        None => forward(&request, upstream_port).await?,
    };
    client.write_all(&answer).await?;
    client.shutdown().await
}

/// Where an answer's body starts.
fn head_end(answer: &[u8]) -> usize {
    answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(answer.len())
}

/// Closes with a TCP reset: a zero linger makes the close send RST.
// Deprecated because a linger blocks the thread on drop; a zero one sends RST at once.
#[allow(deprecated)]
fn reset(client: TcpStream) -> std::io::Result<()> {
    client.set_linger(Some(std::time::Duration::ZERO))?;
    drop(client);
    Ok(())
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Ok(data);
            }
        }
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(data);
        }
        data.extend_from_slice(&buffer[..n]);
    }
}

/// Sends the request to the real server and returns its whole answer, marked
/// `Connection: close` (this proxy serves one request per connection).
async fn forward(request: &[u8], upstream_port: u16) -> std::io::Result<Vec<u8>> {
    let head_end = request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(request.len());
    let head = String::from_utf8_lossy(&request[..head_end]);
    let mut rewritten: String = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    rewritten.push_str("Connection: close\r\n\r\n");
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port)).await?;
    upstream.write_all(rewritten.as_bytes()).await?;
    upstream
        .write_all(&request[(head_end + 4).min(request.len())..])
        .await?;
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
