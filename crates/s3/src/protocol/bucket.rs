//! A bucket at an endpoint: URLs in either style, and signing.

use super::settings::{Endpoint, S3Settings};
use crate::error::Quoted;
use crate::error::{Error, SettingsError};
use crate::transport::Body;
use edgefs_sigv4::{encode, Credentials, Payload, SignableRequest, Signer, URI_COMPONENT, URI_PATH};
use http::{HeaderMap, HeaderValue, Method};
use std::fmt::Write;
use std::time::{Duration, SystemTime};

/// The longest validity S3 allows a presigned URL: seven days.
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// One S3 request before signing: what an action builder produces.
#[derive(Debug)]
pub struct S3Request {
    /// The HTTP method.
    pub method: Method,
    /// The object key; `None` for requests on the bucket itself.
    pub key: Option<String>,
    /// Query parameters, not yet encoded.
    pub query: Vec<(&'static str, String)>,
    /// Headers to send and sign.
    pub headers: HeaderMap,
    /// The body. A body in memory is signed; a stream is sent as `UNSIGNED-PAYLOAD`.
    pub body: Body,
}

impl S3Request {
    /// A request on `key`, or on the bucket itself for `None`, with no query, headers or body.
    pub fn new(method: Method, key: Option<&str>) -> Self {
        S3Request {
            method,
            key: key.map(str::to_owned),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::empty(),
        }
    }

    /// Adds a query parameter; an empty value sends the name alone (`?uploads`).
    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Adds a header; a value that is not a valid header value is an input error.
    pub fn header(mut self, name: &'static str, value: &str) -> Result<Self, Error> {
        let value = HeaderValue::from_str(value).map_err(|_| {
            Error::InvalidInput(format!(
                "{name} is not a valid header value: {value}",
                value = Quoted(value)
            ))
        })?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// A copy to send again, when the body can be sent twice.
    pub fn try_clone(&self) -> Option<S3Request> {
        Some(S3Request {
            method: self.method.clone(),
            key: self.key.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: self.body.try_clone()?,
        })
    }
}

/// A validated bucket: endpoint, URL style and signer.
#[derive(Debug)]
pub struct Bucket {
    endpoint: Endpoint,
    name: String,
    path_style: bool,
    signer: Signer,
}

impl Bucket {
    /// Validates the settings (see [`S3Settings::validate`]) and picks the URL style: path
    /// style when forced, or when the bucket cannot be a host name under the endpoint (an IP
    /// address, a name DNS forbids, dots over https).
    pub fn new(settings: &S3Settings) -> Result<Bucket, SettingsError> {
        let endpoint = settings.validate()?;
        let name = settings.bucket.trim().to_owned();
        let path_style = settings.force_path_style || !virtual_host_possible(&name, &endpoint);
        let credentials = Credentials::new(settings.access_key.trim(), settings.secret.clone());
        Ok(Bucket {
            endpoint,
            name,
            path_style,
            signer: Signer::s3(credentials, settings.region.trim()),
        })
    }

    /// With temporary credentials (`x-amz-security-token`).
    pub fn with_session_token(mut self, token: impl Into<crate::Secret>) -> Self {
        let credentials = self.signer.credentials().clone().with_session_token(token);
        self.signer = Signer::s3(credentials, self.signer.region());
        self
    }

    /// The endpoint: where requests go, and whose host names the provider
    /// ([`Profile::for_endpoint`](super::Profile::for_endpoint)).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        self.signer.region()
    }

    /// True when URLs name the bucket in the path (`endpoint/bucket/key`), false for
    /// virtual-hosted style (`bucket.endpoint/key`).
    pub fn is_path_style(&self) -> bool {
        self.path_style
    }

    /// (authority, encoded path) of the bucket or of one of its objects.
    pub fn location(&self, key: Option<&str>) -> (String, String) {
        let mut path = self.endpoint.base_path.clone();
        let authority = if self.path_style {
            path.push('/');
            path.push_str(&self.name);
            self.endpoint.authority.clone()
        } else {
            format!("{}.{}", self.name, self.endpoint.authority)
        };
        match key {
            Some(key) => {
                path.push('/');
                encode(key, URI_PATH, &mut path);
            }
            None if path.is_empty() => path.push('/'),
            None => {}
        }
        (authority, path)
    }

    /// The object's URL (unsigned).
    pub fn object_url(&self, key: &str) -> String {
        let (authority, path) = self.location(Some(key));
        format!("{}://{authority}{path}", self.endpoint.scheme)
    }

    /// Turns an action's request into a signed `http::Request`.
    pub fn sign(&self, request: S3Request, time: SystemTime) -> Result<http::Request<Body>, Error> {
        if let Some(key) = &request.key {
            validate_key(key)?;
        }
        let (authority, path) = self.location(request.key.as_deref());
        let query = encode_query(&request.query);
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(request.headers.len() + 1);
        headers.push(("host", &authority));
        for (name, value) in &request.headers {
            let value = value
                .to_str()
                .map_err(|_| Error::InvalidInput(format!("header {name} is not ASCII")))?;
            headers.push((name.as_str(), value));
        }
        let payload = match request.body.as_bytes() {
            Some(bytes) => Payload::Bytes(bytes),
            None => Payload::Unsigned,
        };
        let signable = SignableRequest {
            method: request.method.as_str(),
            path: &path,
            query: &query,
            headers,
            payload,
        };
        let signed = self.signer.sign_headers(&signable, time);

        let uri = if query.is_empty() {
            format!("{}://{authority}{path}", self.endpoint.scheme)
        } else {
            format!("{}://{authority}{path}?{query}", self.endpoint.scheme)
        };
        let mut builder = http::Request::builder().method(request.method).uri(uri);
        let out_headers = builder.headers_mut().expect("a fresh builder has headers");
        *out_headers = request.headers;
        for (name, value) in signed.headers {
            let value = HeaderValue::from_str(&value)
                .map_err(|_| Error::InvalidInput(format!("{name} is not a valid header value")))?;
            out_headers.insert(name, value);
        }
        // Compressed answers would change lengths and ranges; S3 objects are sent as stored.
        out_headers.insert(http::header::ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        builder
            .body(request.body)
            .map_err(|e| Error::InvalidInput(format!("cannot build the request: {e}")))
    }

    /// A presigned URL for `method` (GET to download, PUT to upload) on `key`, valid
    /// for `expires_in` (1 second to 7 days).
    pub fn presign(&self, method: Method, key: &str, expires_in: Duration, time: SystemTime) -> Result<String, Error> {
        validate_key(key)?;
        if expires_in.as_secs() == 0 || expires_in > MAX_PRESIGN_EXPIRY {
            return Err(Error::InvalidInput(format!(
                "a presigned URL must expire in 1 second to 7 days, not {} seconds",
                expires_in.as_secs()
            )));
        }
        let (authority, path) = self.location(Some(key));
        let signable = SignableRequest {
            method: method.as_str(),
            path: &path,
            query: "",
            headers: vec![("host", &authority)],
            payload: Payload::Unsigned,
        };
        let presigned = self.signer.presign(&signable, time, expires_in.as_secs());
        Ok(format!(
            "{}://{authority}{path}?{}",
            self.endpoint.scheme, presigned.query
        ))
    }
}

fn encode_query(query: &[(&'static str, String)]) -> String {
    let mut out = String::new();
    for (name, value) in query {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        if !value.is_empty() {
            out.push('=');
            encode(value, URI_COMPONENT, &mut out);
        }
    }
    out
}

/// Keys are sent inside the URL path, so a `.` or `..` segment would be resolved away
/// by every HTTP client on the way; such keys are refused rather than silently changed.
pub fn validate_key(key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::InvalidInput("an object key must not be empty".into()));
    }
    if key.len() > 1024 {
        return Err(Error::InvalidInput(format!(
            "an object key must be at most 1024 bytes, not {}",
            key.len()
        )));
    }
    if key.split('/').any(|segment| segment == "." || segment == "..") {
        let mut shown = String::new();
        let _ = write!(shown, "{key}", key = Quoted(key));
        return Err(Error::InvalidInput(format!(
            "an object key must not contain \".\" or \"..\" segments: {shown}"
        )));
    }
    Ok(())
}

/// Virtual-hosted style needs the bucket as a DNS label under the endpoint's host:
/// not on an IP address, not with characters DNS forbids, and over https not with
/// dots (the certificate's wildcard would not match).
fn virtual_host_possible(bucket: &str, endpoint: &Endpoint) -> bool {
    // An IPv6 host is bracketed; an IPv4 host is digits and dots, which no DNS name is
    // (top-level domains are not numeric). Checked by hand: `IpAddr`'s parser would
    // add 3 KiB to the Worker for this one test.
    let host_is_ip = endpoint.authority.starts_with('[')
        || (!endpoint.host.is_empty() && endpoint.host.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    let dns_label = bucket.len() >= 3
        && bucket.len() <= 63
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !bucket.starts_with(['-', '.'])
        && !bucket.ends_with(['-', '.']);
    let dotted_over_tls = bucket.contains('.') && endpoint.scheme == "https";
    !host_is_ip && dns_label && !dotted_over_tls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(endpoint: &str, name: &str, path_style: bool) -> Bucket {
        Bucket::new(&S3Settings::new(name, "us-east-1", endpoint, "AK", "SK").force_path_style(path_style)).unwrap()
    }

    #[test]
    fn builds_both_url_styles() {
        let b = bucket("https://s3.us-east-1.amazonaws.com", "my-bucket", false);
        assert_eq!(
            b.object_url("a b/c+d"),
            "https://my-bucket.s3.us-east-1.amazonaws.com/a%20b/c%2Bd"
        );
        let b = bucket("http://127.0.0.1:9000", "my-bucket", true);
        assert_eq!(b.object_url("x//y"), "http://127.0.0.1:9000/my-bucket/x//y");
    }

    #[test]
    fn falls_back_to_path_style_where_virtual_hosts_cannot_work() {
        assert!(bucket("https://s3.amazonaws.com", "my.dotted.bucket", false).is_path_style());
        assert!(bucket("http://127.0.0.1:9000", "bucket", false).is_path_style());
        assert!(!bucket("http://localhost:9000", "bucket", false).is_path_style());
    }

    #[test]
    fn refuses_keys_that_urls_would_rewrite() {
        assert!(validate_key("a/../b").is_err());
        assert!(validate_key("").is_err());
        assert!(validate_key("a/..b/.c").is_ok());
    }

    #[test]
    fn presigned_urls_have_bounded_expiry() {
        let b = bucket("http://127.0.0.1:9000", "b", true);
        let url = b
            .presign(Method::GET, "k", Duration::from_secs(60), SystemTime::UNIX_EPOCH)
            .unwrap();
        assert!(
            url.starts_with("http://127.0.0.1:9000/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Expires=60&") && url.contains("X-Amz-Signature="));
        assert!(b
            .presign(Method::GET, "k", Duration::from_secs(8 * 86400), SystemTime::UNIX_EPOCH)
            .is_err());
    }
}
