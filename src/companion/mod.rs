//! Companion mode: a running PocketBase's files served from its own bucket at the edge,
//! each access decided by PocketBase itself with one `HEAD` of the same URL.
//!
//! PocketBase keeps every file in its bucket at `{collectionId}/{recordId}/{filename}`
//! and each thumbnail at `{collectionId}/{recordId}/thumbs_{filename}/{thumb}_{filename}`.
//! For `GET`/`HEAD /api/files/{collection}/{record}/{filename}` the Worker asks
//! PocketBase first: any answer but a 2xx means "not for this request", and the
//! client's request goes to PocketBase as it came, so every denial is PocketBase's own.
//! A 2xx names, in its `Content-Disposition`, the file PocketBase would serve (a
//! thumbnail it just made, or the original it fell back to); the Worker reads that
//! object from the bucket and answers with PocketBase's headers and its own Range and
//! 304 handling. When the object is not where PocketBase's layout puts it (the URL named
//! the collection by name, a view collection, a bucket copy behind), or its size is not
//! the size PocketBase announced, the request goes to PocketBase, which serves it.
//! Every other request is proxied to PocketBase untouched.
//!
//! PocketBase's "yes" is kept for a while ([`decisions`]), and a public answer (no token)
//! is kept whole in the edge cache; PocketBase's hook tells the Worker when a record
//! changes ([`purge`]), so neither outlives the change.

pub mod decisions;
pub mod purge;

use crate::auth::jwt::{constant_time_eq, unverified_expiry};
use crate::files::{self, ServeOptions};
use crate::secret::Secret;
use crate::storage::Storage;
use crate::transport::{Body, Transport};
use decisions::Decisions;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use std::sync::Arc;
use std::time::Duration;

/// How long PocketBase may take to decide, unless `PB_TIMEOUT_SECONDS` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a decision and a public answer are kept, unless `PB_CACHE_SECONDS` says
/// otherwise: without the hook, how long a deleted file may still be served.
pub const DEFAULT_CACHE_TIME: Duration = Duration::from_secs(60);
/// The largest purge request read.
const PURGE_BODY_LIMIT: usize = 64 * 1024;

/// The header that tells how a companion answer was made (`bucket`, or `pocketbase`
/// and why), for whoever debugs a deployment.
pub const SOURCE_HEADER: &str = "x-edgefs-source";

/// The companion's configuration, from the Worker's variables.
#[derive(Clone, Debug)]
pub struct CompanionConfig {
    /// `PB_ORIGIN`: PocketBase's URL (`https://pb.example.com`), without a trailing slash.
    pub origin: String,
    /// `PB_TIMEOUT_SECONDS`: how long PocketBase may take to answer the decision.
    pub timeout: Duration,
    /// `PB_CACHE_SECONDS`: how long a decision and a public answer are kept (0: never).
    pub cache_time: Duration,
    /// `EDGEFS_PURGE_SECRET`: what PocketBase's hook proves itself with. Without it the
    /// purge route is off.
    pub purge_secret: Option<Secret>,
}

impl CompanionConfig {
    /// The configuration when `PB_ORIGIN` is set (companion mode is on), `None` when it
    /// is not; an origin that is not an `http(s)` URL, or a bad timeout, is an error.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Option<Result<CompanionConfig, String>> {
        let origin = lookup("PB_ORIGIN").map(|o| o.trim().trim_end_matches('/').to_owned())?;
        if origin.is_empty() {
            return None;
        }
        let purge_secret = lookup("EDGEFS_PURGE_SECRET").filter(|s| !s.trim().is_empty());
        let config = Self::parse(origin, lookup("PB_TIMEOUT_SECONDS"), lookup("PB_CACHE_SECONDS"));
        Some(config.map(|config| CompanionConfig {
            purge_secret: purge_secret.map(Secret::new),
            ..config
        }))
    }

    fn parse(origin: String, timeout: Option<String>, cache_time: Option<String>) -> Result<CompanionConfig, String> {
        let uri: http::Uri = origin
            .parse()
            .map_err(|e| format!("PB_ORIGIN {origin:?} is not a URL: {e}"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(format!(
                "PB_ORIGIN {origin:?} must be PocketBase's http:// or https:// URL"
            ));
        }
        if uri.query().is_some() {
            return Err(format!("PB_ORIGIN {origin:?} must not have a query"));
        }
        let timeout = match timeout.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_TIMEOUT,
            Some(text) => match text.parse::<f64>() {
                Ok(seconds) if seconds > 0.0 && seconds <= 300.0 => Duration::from_secs_f64(seconds),
                _ => {
                    return Err(format!(
                        "PB_TIMEOUT_SECONDS {text:?} must be a number of seconds from 0 to 300"
                    ))
                }
            },
        };
        let cache_time = match cache_time.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_CACHE_TIME,
            Some(text) => match text.parse::<u64>() {
                Ok(seconds) if seconds <= 86_400 => Duration::from_secs(seconds),
                _ => {
                    return Err(format!(
                        "PB_CACHE_SECONDS {text:?} must be a whole number of seconds from 0 (no caching) to 86400"
                    ))
                }
            },
        };
        Ok(CompanionConfig {
            origin,
            timeout,
            cache_time,
            purge_secret: None,
        })
    }
}

/// What to do with a request.
pub enum Answer {
    /// Answer with this.
    Respond(Response<Body>),
    /// Answer with this, and keep a copy in the edge cache under `key` for `time`.
    RespondAndCache {
        /// The answer.
        response: Response<Body>,
        /// Its edge-cache key ([`purge::body_key`]).
        key: String,
        /// How long the edge keeps it.
        time: Duration,
    },
    /// Drop these keys from the edge cache, then answer with this.
    Purge {
        /// The edge-cache keys to drop.
        keys: Vec<String>,
        /// The answer to the hook (204).
        response: Response<Body>,
    },
    /// Send the client's request to PocketBase as it came and answer with PocketBase's
    /// answer (the host streams both bodies), saying why in [`SOURCE_HEADER`].
    Proxy(ProxyReason),
}

/// Why a request went to PocketBase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyReason {
    /// Not a file download: the rest of PocketBase's API and its admin UI.
    NotAFile,
    /// PocketBase did not allow it (its 404, 400…).
    Denied,
    /// PocketBase allowed it without naming the file it serves.
    NoFileNamed,
    /// The object is not at PocketBase's key (a collection named by name, a view
    /// collection, a bucket copy behind).
    NotInBucket,
    /// The bucket failed to answer.
    BucketFailed,
    /// The bucket's object has another size than the one PocketBase serves.
    CopyDiffers,
}

impl ProxyReason {
    /// The reason as [`SOURCE_HEADER`] gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyReason::NotAFile => "not a file download",
            ProxyReason::Denied => "pocketbase denied",
            ProxyReason::NoFileNamed => "pocketbase named no file",
            ProxyReason::NotInBucket => "not in the bucket",
            ProxyReason::BucketFailed => "the bucket failed",
            ProxyReason::CopyDiffers => "the bucket's copy differs",
        }
    }

    /// Whether PocketBase's answer is about a file (served, or denied): then it keeps its
    /// length, unencoded, like the Worker's own file answers.
    pub fn about_a_file(self) -> bool {
        self != ProxyReason::NotAFile
    }
}

/// A file URL: `/api/files/{collection}/{record}/{filename}`, each segment decoded.
struct FileUrl {
    collection: String,
    record: String,
    filename: String,
    thumb: Option<String>,
    download: bool,
    /// The `token` query parameter, when not empty.
    token: Option<String>,
}

impl FileUrl {
    /// A token may open a protected file: its answer is for this client only.
    fn protected(&self) -> bool {
        self.token.is_some()
    }
}

fn file_url(request: &Request<Body>) -> Option<FileUrl> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return None;
    }
    let rest = request.uri().path().strip_prefix("/api/files/")?;
    let mut segments = rest.split('/');
    let mut next = || {
        let segment = segments.next()?;
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
        (!decoded.is_empty() && !decoded.contains('/')).then(|| decoded.into_owned())
    };
    let (collection, record, filename) = (next()?, next()?, next()?);
    if segments.next().is_some() {
        return None;
    }
    let query = |name: &str| {
        url_query(request.uri().query().unwrap_or(""))
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    };
    Some(FileUrl {
        collection,
        record,
        filename,
        thumb: query("thumb").filter(|t| !t.is_empty()),
        download: query("download").is_some_and(|v| crate::api::edge_cache::is_go_true(&v)),
        token: query("token").filter(|t| !t.is_empty()),
    })
}

fn url_query(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|pair| !pair.is_empty()).map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        (decode(key), decode(value))
    })
}

/// Request headers that describe this request's body, connection or representation:
/// PocketBase decides who may see a file without them, and its answer must describe the
/// whole file.
const NOT_FOR_THE_DECISION: [HeaderName; 11] = [
    header::HOST,
    header::RANGE,
    header::IF_RANGE,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_UNMODIFIED_SINCE,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::CONNECTION,
    header::ACCEPT_ENCODING,
];

/// Cloudflare's header for the client's address. A Worker's own request to PocketBase
/// carries Cloudflare's address there instead, so the Worker hands the client's on as
/// `X-Forwarded-For` (replacing any the client sent): PocketBase, told to trust that
/// header, logs and rate-limits the user, not the edge.
const CLIENT_IP_HEADER: &str = "cf-connecting-ip";
const FORWARDED_FOR_HEADER: &str = "x-forwarded-for";

/// PocketBase's answer headers that describe its own body and connection: the Worker's
/// answer has its own.
const PER_ANSWER: [HeaderName; 9] = [
    header::CONTENT_LENGTH,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::ETAG,
    header::LAST_MODIFIED,
    header::DATE,
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::CONTENT_ENCODING,
];

/// The name in PocketBase's `Content-Disposition: inline; filename=NAME` (it writes the
/// served name unquoted: a thumbnail's is `{thumb}_{filename}`).
fn served_name(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
    let at = value.find("filename=")?;
    let name = value[at + "filename=".len()..]
        .split(';')
        .next()?
        .trim()
        .trim_matches('"');
    (!name.is_empty()).then(|| name.to_owned())
}

/// The object's whole size as an answer states it (`Content-Range` total of a 206, the
/// `Content-Length` of a 200); `None` when it does not say.
fn stated_size(response: &Response<Body>) -> Option<u64> {
    let text = |name| response.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    match response.status() {
        StatusCode::OK => text(header::CONTENT_LENGTH)?.parse().ok(),
        StatusCode::PARTIAL_CONTENT => text(header::CONTENT_RANGE)?.rsplit('/').next()?.parse().ok(),
        _ => None,
    }
}

/// `scheme://host` of a request's URL (the host clients use).
fn request_origin(uri: &http::Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("https"),
        uri.authority().map(|a| a.as_str()).unwrap_or("localhost")
    )
}

fn unix_now() -> u64 {
    crate::clock::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Serves a PocketBase's files from its bucket.
pub struct Companion {
    config: CompanionConfig,
    bucket: Arc<dyn Storage>,
    transport: Arc<dyn Transport>,
    decisions: Decisions,
}

impl Companion {
    /// `bucket` is the bucket PocketBase stores its files in; `transport` reaches
    /// PocketBase.
    pub fn new(config: CompanionConfig, bucket: Arc<dyn Storage>, transport: Arc<dyn Transport>) -> Companion {
        Companion {
            config,
            bucket,
            transport,
            decisions: Decisions::default(),
        }
    }

    /// How long PocketBase may take to answer.
    pub fn timeout(&self) -> Duration {
        self.config.timeout
    }

    /// PocketBase's URL for this request's path and query.
    pub fn origin_url(&self, uri: &http::Uri) -> String {
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        format!("{}{path}", self.config.origin)
    }

    /// The edge-cache key to look a request up under: a public (token-less) `GET` of a
    /// whole file, while caching is on. A range or a conditional request is answered
    /// from the bucket, as PocketBase answers it (the cache's own range and 304 answers
    /// differ from Go's).
    pub fn edge_cache_key(&self, request: &Request<Body>) -> Option<String> {
        let file = file_url(request)?;
        let partial = [
            header::RANGE,
            header::IF_RANGE,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
        ]
        .iter()
        .any(|name| request.headers().contains_key(name));
        if request.method() != Method::GET || partial || file.protected() || self.config.cache_time.is_zero() {
            return None;
        }
        Some(purge::body_key(
            &request_origin(request.uri()),
            &file.collection,
            &file.record,
            &file.filename,
            file.thumb.as_deref(),
            file.download,
        ))
    }

    /// Until when PocketBase's "yes" to this request may be reused: the configured
    /// time, and never past the token's own expiry.
    fn keep_until(&self, file: &FileUrl, now: u64) -> Option<u64> {
        if self.config.cache_time.is_zero() {
            return None;
        }
        let until = now + self.config.cache_time.as_secs();
        match &file.token {
            None => Some(until),
            Some(token) => unverified_expiry(token).map(|expiry| expiry.min(until)),
        }
    }

    /// Decides how to answer `request`: a file PocketBase allows is served from the
    /// bucket; everything else goes to PocketBase.
    pub async fn handle(&self, request: Request<Body>) -> Answer {
        if request.method() == Method::POST && request.uri().path() == purge::PATH {
            return self.purge(request).await;
        }
        let Some(file) = file_url(&request) else {
            return Answer::Proxy(ProxyReason::NotAFile);
        };
        let now = unix_now();
        let asked = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("")
            .to_owned();
        let decision = match self.decisions.get(&asked, now) {
            Some(headers) => headers,
            None => {
                let decision = match self.ask_pocketbase(&request).await {
                    Ok(decision) => decision,
                    Err(answer) => return Answer::Respond(answer),
                };
                if !decision.status().is_success() {
                    // PocketBase's own answer (and body) to the request: the client's GET.
                    return Answer::Proxy(ProxyReason::Denied);
                }
                let headers = decision.into_parts().0.headers;
                if let Some(until) = self.keep_until(&file, now) {
                    let record = format!("{}/{}", file.collection, file.record);
                    self.decisions.insert(asked, record, headers.clone(), until, now);
                }
                headers
            }
        };
        let Some(served) = served_name(&decision) else {
            return Answer::Proxy(ProxyReason::NoFileNamed);
        };
        let base = format!("{}/{}", file.collection, file.record);
        let key = if served == file.filename {
            format!("{base}/{}", file.filename)
        } else {
            format!("{base}/thumbs_{}/{served}", file.filename)
        };
        let options = ServeOptions {
            filename: &served,
            download: file.download,
            protected: file.protected(),
            head: request.method() == Method::HEAD,
        };
        let mut response = match files::respond(self.bucket.as_ref(), &key, request.headers(), &options).await {
            Ok(Some(response)) => response,
            Ok(None) => return Answer::Proxy(ProxyReason::NotInBucket),
            Err(_) => return Answer::Proxy(ProxyReason::BucketFailed),
        };
        let announced = decision
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let (Some(announced), Some(stored)) = (announced, stated_size(&response)) {
            if announced != stored {
                return Answer::Proxy(ProxyReason::CopyDiffers);
            }
        }
        // Go's ServeContent drops the caching headers from an error (a 416) it answers.
        let error = response.status() == StatusCode::RANGE_NOT_SATISFIABLE;
        let ours_only = error
            || response
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"multipart/byteranges"));
        let headers = response.headers_mut();
        for name in decision.keys() {
            if PER_ANSWER.contains(name)
                || (ours_only && name == header::CONTENT_TYPE)
                || ((file.protected() || error) && name == header::CACHE_CONTROL)
            {
                continue;
            }
            headers.remove(name);
            for value in decision.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        headers.insert(
            HeaderName::from_static(SOURCE_HEADER),
            HeaderValue::from_static("bucket"),
        );
        // A whole public answer about the file or thumbnail asked for is kept at the edge
        // (a thumbnail size PocketBase does not make, answered with the original, is not:
        // its key could not be purged).
        let whole = response.status() == StatusCode::OK;
        let as_asked = match &file.thumb {
            None => served == file.filename,
            Some(thumb) => served == format!("{thumb}_{}", file.filename),
        };
        match self.edge_cache_key(&request) {
            Some(key) if whole && as_asked => Answer::RespondAndCache {
                response,
                key,
                time: self.config.cache_time,
            },
            _ => Answer::Respond(response),
        }
    }

    /// `POST /api/files/edgefs/purge` from PocketBase's hook: forgets the decisions about
    /// the record (or the collection) and names the edge-cache keys to drop.
    async fn purge(&self, request: Request<Body>) -> Answer {
        let Some(secret) = &self.config.purge_secret else {
            // Off: the path is PocketBase's, which answers its 404.
            return Answer::Proxy(ProxyReason::NotAFile);
        };
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(given.trim().as_bytes(), secret.expose().trim().as_bytes()) {
            return Answer::Respond(crate::api::error(
                StatusCode::UNAUTHORIZED,
                "The purge request must carry EDGEFS_PURGE_SECRET as a Bearer token.",
            ));
        }
        let origin = request_origin(request.uri());
        let body = match request.into_body().collect(PURGE_BODY_LIMIT).await {
            Ok(body) => body,
            Err(e) => {
                return Answer::Respond(crate::api::error(
                    StatusCode::BAD_REQUEST,
                    &format!("unreadable purge request: {e}"),
                ))
            }
        };
        let change = match purge::Change::parse(&body) {
            Ok(change) => change,
            Err(message) => return Answer::Respond(crate::api::error(StatusCode::BAD_REQUEST, &message)),
        };
        let names = [change.collection.id.as_str(), change.collection.name.as_str()];
        match &change.record {
            Some(record) => self.decisions.purge_record(&names, record),
            None => self.decisions.purge_collection(&names),
        };
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        Answer::Purge {
            keys: change.body_keys(&origin),
            response,
        }
    }

    /// PocketBase's answer to a `HEAD` of the request's URL, or the 502/504 the client
    /// gets when it does not answer in time.
    async fn ask_pocketbase(&self, request: &Request<Body>) -> Result<Response<Body>, Response<Body>> {
        let mut head = Request::builder()
            .method(Method::HEAD)
            .uri(self.origin_url(request.uri()));
        let client_ip = request.headers().get(CLIENT_IP_HEADER);
        for (name, value) in request.headers() {
            let replaced = client_ip.is_some() && name == FORWARDED_FOR_HEADER;
            if !NOT_FOR_THE_DECISION.contains(name) && !replaced {
                head = head.header(name, value);
            }
        }
        if let Some(ip) = client_ip {
            head = head.header(FORWARDED_FOR_HEADER, ip);
        }
        let head = head
            .body(Body::empty())
            .map_err(|e| crate::api::error(StatusCode::BAD_GATEWAY, &format!("invalid request for PocketBase: {e}")))?;
        let send = self.transport.send(head);
        let timeout = self.transport.sleep(self.config.timeout);
        match futures::future::select(send, timeout).await {
            futures::future::Either::Left((Ok(answer), _)) => Ok(answer),
            futures::future::Either::Left((Err(error), _)) => Err(crate::api::error(
                StatusCode::BAD_GATEWAY,
                &format!("PocketBase at {} did not answer: {error}", self.config.origin),
            )),
            futures::future::Either::Right(_) => Err(crate::api::error(
                StatusCode::GATEWAY_TIMEOUT,
                &format!(
                    "PocketBase at {} did not answer within {} s",
                    self.config.origin,
                    self.config.timeout.as_secs_f64()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request<Body> {
        Request::builder().uri(uri).body(Body::empty()).unwrap()
    }

    #[test]
    fn reads_file_urls_and_nothing_else() {
        let file = file_url(&get(
            "/api/files/pbc_1/rec1/a_b%2Bc.png?thumb=100x100&token=abc&download=1",
        ))
        .unwrap();
        assert_eq!(
            (file.collection.as_str(), file.record.as_str(), file.filename.as_str()),
            ("pbc_1", "rec1", "a_b+c.png")
        );
        assert!(file.download && file.protected());
        assert_eq!(file.thumb.as_deref(), Some("100x100"));
        let file = file_url(&get("/api/files/docs/rec1/a.txt?download=0&token=")).unwrap();
        assert!(!file.download && !file.protected());
        for other in [
            "/api/files/token",
            "/api/files/docs/rec1",
            "/api/files/docs/rec1/a.txt/more",
            "/api/files/docs//a.txt",
            "/api/files/docs/rec1/a%2Fb.txt",
            "/api/collections/docs/records",
        ] {
            assert!(file_url(&get(other)).is_none(), "{other}");
        }
        let post = Request::builder()
            .method(Method::POST)
            .uri("/api/files/docs/rec1/a.txt")
            .body(Body::empty())
            .unwrap();
        assert!(file_url(&post).is_none());
    }

    #[test]
    fn finds_the_served_name_in_pocketbases_disposition() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_DISPOSITION,
            "inline; filename=100x100_photo_abc.png".parse().unwrap(),
        );
        assert_eq!(served_name(&headers).as_deref(), Some("100x100_photo_abc.png"));
        headers.insert(header::CONTENT_DISPOSITION, "attachment".parse().unwrap());
        assert_eq!(served_name(&headers), None);
    }

    #[test]
    fn config_needs_an_http_origin_and_a_sane_timeout() {
        let config = |origin: &str, timeout: Option<&str>| {
            let vars = [
                ("PB_ORIGIN", origin.to_owned()),
                ("PB_TIMEOUT_SECONDS", timeout.unwrap_or("").to_owned()),
                (
                    "PB_CACHE_SECONDS",
                    if origin.ends_with("nocache") { "-1" } else { "" }.to_owned(),
                ),
            ];
            CompanionConfig::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()))
        };
        assert!(config("", None).is_none(), "off without PB_ORIGIN");
        let on = config("https://pb.example.com/", None).unwrap().unwrap();
        assert_eq!(
            (on.origin.as_str(), on.timeout),
            ("https://pb.example.com", DEFAULT_TIMEOUT)
        );
        assert_eq!(
            config("http://127.0.0.1:8090", Some("2.5")).unwrap().unwrap().timeout,
            Duration::from_millis(2500)
        );
        for (origin, timeout, says) in [
            ("pb.example.com", None, "http:// or https://"),
            ("ftp://pb.example.com", None, "http:// or https://"),
            ("https://pb.example.com?x=1", None, "query"),
            ("https://pb.example.com", Some("0"), "PB_TIMEOUT_SECONDS"),
            ("https://pb.example.com", Some("soon"), "PB_TIMEOUT_SECONDS"),
            ("https://pb.example.com/nocache", None, "PB_CACHE_SECONDS"),
        ] {
            let error = config(origin, timeout).unwrap().unwrap_err();
            assert!(error.contains(says), "{origin} {timeout:?}: {error}");
        }
    }
}
