//! AWS Signature Version 4, without IO.
//!
//! A [`Signer`] holds the credentials, region, service and [`SigningRules`], and turns a
//! [`SignableRequest`] into either the headers of a header-signed request
//! ([`Signer::sign_headers`]) or the query of a presigned URL ([`Signer::presign`]).
//! Both return the canonical request and string to sign next to the signature: they
//! are what a server compares when it answers `SignatureDoesNotMatch`, so they are
//! worth having at hand when debugging.
//!
//! Beside the signer, the two small things every edgefs layer above shares and that
//! signing needs first: [`Secret`], a string that never shows itself, and [`time`], the
//! UTC date formats. [`sorting`] is the one sort the edgefs crates instantiate.

mod canonical;
mod key;
pub mod secret;
pub mod sorting;
pub mod time;

pub use canonical::{encode, normalize_path, URI_COMPONENT, URI_PATH};
pub use key::derive_signing_key;
/// HMAC-SHA256 keyed with `key`, ready for `update` (for other HMAC users, e.g. JWTs).
pub use key::keyed as hmac_sha256;
pub use secret::Secret;

use hmac::Mac;
use key::KeyCache;
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::SystemTime;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The payload hash that tells S3 the body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// SHA-256 of the empty string.
pub const EMPTY_PAYLOAD_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Headers never signed: `authorization` is the signature itself; the others are
/// set or changed by HTTP stacks and proxies on the way (Workers' `fetch` rewrites
/// `accept-encoding`, browsers own `user-agent` and `connection`).
const UNSIGNED_HEADERS: &[&str] = &[
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "expect",
    "transfer-encoding",
    "connection",
    "accept-encoding",
];

/// How a service wants its requests canonicalized. S3 differs from every other AWS
/// service, and the difference is chosen here explicitly rather than by looking at the
/// service name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigningRules {
    /// Remove `.`/`..` segments and collapse `//` before signing (generic services).
    pub normalize_path: bool,
    /// Encode the path as sent once more (generic services); S3 encodes its octets once.
    pub double_encode_path: bool,
    /// Send and sign `x-amz-content-sha256` with header signing (S3 requires it).
    pub content_sha256_header: bool,
    /// Presigned URLs carry `UNSIGNED-PAYLOAD` instead of the body's hash (S3).
    pub unsigned_presigned_payload: bool,
}

impl SigningRules {
    /// Amazon S3 and every S3-compatible store.
    pub const S3: SigningRules = SigningRules {
        normalize_path: false,
        double_encode_path: false,
        content_sha256_header: true,
        unsigned_presigned_payload: true,
    };
    /// Every other AWS service.
    pub const GENERIC: SigningRules = SigningRules {
        normalize_path: true,
        double_encode_path: true,
        content_sha256_header: false,
        unsigned_presigned_payload: false,
    };
}

/// An access key, its secret and an optional session token (temporary credentials).
#[derive(Clone)]
pub struct Credentials {
    /// The access key id; it is sent in the clear, in every signature's credential scope.
    pub access_key_id: String,
    /// The secret access key; it keys the signature and is never sent.
    pub secret_access_key: Secret,
    /// The session token of temporary credentials (STS), sent as `x-amz-security-token`;
    /// `None` for long-term keys.
    pub session_token: Option<Secret>,
}

impl Credentials {
    /// Long-term credentials: an access key and its secret, without a session token.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<Secret>) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }

    /// Adds the session token that temporary credentials come with.
    pub fn with_session_token(mut self, token: impl Into<Secret>) -> Self {
        self.session_token = Some(token.into());
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// What the signature covers of the body.
#[derive(Clone, Copy, Debug)]
pub enum Payload<'a> {
    /// The whole body, hashed here.
    Bytes(&'a [u8]),
    /// A hex SHA-256 computed elsewhere (or `UNSIGNED-PAYLOAD`).
    Precomputed(&'a str),
    /// `UNSIGNED-PAYLOAD`: the body is not signed (streams of unknown content).
    Unsigned,
}

/// The parts of an HTTP request that SigV4 signs.
#[derive(Clone, Debug)]
pub struct SignableRequest<'a> {
    /// The HTTP method exactly as sent (`GET`, `PUT`…).
    pub method: &'a str,
    /// The path as it is sent. `%XX` sequences stand for the octets they encode.
    pub path: &'a str,
    /// The raw query string, without `?` (may be empty).
    pub query: &'a str,
    /// Header names and values, in request order; must include `host`.
    pub headers: Vec<(&'a str, &'a str)>,
    /// What of the body the signature covers. An `x-amz-content-sha256` header in
    /// `headers` takes precedence.
    pub payload: Payload<'a>,
}

/// The result of header signing.
#[derive(Clone, Debug)]
pub struct SignedHeaders {
    /// Headers to add to the request (`x-amz-date`, `x-amz-content-sha256`,
    /// `x-amz-security-token`, `authorization`), lower-case names.
    pub headers: Vec<(&'static str, String)>,
    /// The canonical request that was signed: compare it with the one a server returns
    /// with `SignatureDoesNotMatch`.
    pub canonical_request: String,
    /// The string to sign derived from the canonical request (also in `SignatureDoesNotMatch`).
    pub string_to_sign: String,
    /// The signature, 64 hex digits, also at the end of the `authorization` header.
    pub signature: String,
}

/// The result of query signing: the query string of a presigned URL.
#[derive(Clone, Debug)]
pub struct PresignedQuery {
    /// The complete query string to send (the request's own parameters included),
    /// without `?`.
    pub query: String,
    /// The canonical request that was signed: compare it with the one a server returns
    /// with `SignatureDoesNotMatch`.
    pub canonical_request: String,
    /// The string to sign derived from the canonical request (also in `SignatureDoesNotMatch`).
    pub string_to_sign: String,
    /// The signature, 64 hex digits, also the value of `X-Amz-Signature` in `query`.
    pub signature: String,
}

/// Signs requests for one set of credentials, region and service.
///
/// The signing key changes once a day and is cached, so keeping one signer is cheaper
/// than making one per request.
///
/// # Example
///
/// ```
/// use edgefs_sigv4::{Credentials, Payload, SignableRequest, Signer};
///
/// let signer = Signer::s3(Credentials::new("AKID", "SECRET"), "us-east-1");
/// let time = edgefs_sigv4::time::parse_iso8601("2015-08-30T12:36:00Z").unwrap();
/// let request = SignableRequest {
///     method: "GET",
///     path: "/photos/cat.jpg",
///     query: "",
///     headers: vec![("host", "s3.us-east-1.amazonaws.com")],
///     payload: Payload::Bytes(b""),
/// };
///
/// // Header signing: add these headers to the request as it is sent.
/// let signed = signer.sign_headers(&request, time);
/// let (_, authorization) = signed.headers.iter().find(|(name, _)| *name == "authorization").unwrap();
/// assert!(authorization.starts_with(
///     "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request, \
///      SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
/// ));
///
/// // A presigned URL, valid for an hour: anyone holding it may GET the object.
/// let presigned = signer.presign(&request, time, 3600);
/// let url = format!("https://s3.us-east-1.amazonaws.com/photos/cat.jpg?{}", presigned.query);
/// assert!(url.contains("X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request"));
/// assert!(url.contains("X-Amz-Expires=3600"));
/// assert!(url.ends_with(&format!("X-Amz-Signature={}", presigned.signature)));
/// ```
pub struct Signer {
    credentials: Credentials,
    region: String,
    service: String,
    rules: SigningRules,
    sign_session_token: bool,
    keys: KeyCache,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("rules", &self.rules)
            .finish()
    }
}

impl Signer {
    /// A signer for any service, with `rules` chosen for it ([`SigningRules::GENERIC`] for
    /// all but S3). A session token, if any, is signed.
    pub fn new(
        credentials: Credentials,
        region: impl Into<String>,
        service: impl Into<String>,
        rules: SigningRules,
    ) -> Self {
        Signer {
            credentials,
            region: region.into(),
            service: service.into(),
            rules,
            sign_session_token: true,
            keys: KeyCache::default(),
        }
    }

    /// A signer for S3 (service `s3`, [`SigningRules::S3`]).
    pub fn s3(credentials: Credentials, region: impl Into<String>) -> Self {
        Signer::new(credentials, region, "s3", SigningRules::S3)
    }

    /// Some services want the session token added after signing, unsigned.
    pub fn sign_session_token(mut self, sign: bool) -> Self {
        self.sign_session_token = sign;
        self
    }

    /// The region signatures are scoped to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The credentials it signs with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The canonicalization rules it signs with.
    pub fn rules(&self) -> SigningRules {
        self.rules
    }

    /// Signs with an `Authorization` header. `x-amz-date` and `x-amz-content-sha256`
    /// already among the request's headers are signed as given; otherwise they come from
    /// `time` and the payload, and are among the headers returned.
    pub fn sign_headers(&self, request: &SignableRequest<'_>, time: SystemTime) -> SignedHeaders {
        let given_date = header(request, "x-amz-date");
        let amz_date = given_date
            .map(str::to_owned)
            .unwrap_or_else(|| crate::time::amz_date(time));
        let given_sha = header(request, "x-amz-content-sha256");
        let payload_hash = match given_sha {
            Some(hash) => hash.to_owned(),
            None => payload_hash(request.payload),
        };
        let token = self.credentials.session_token.as_ref().map(Secret::expose);

        let mut added: Vec<(&'static str, String)> = Vec::with_capacity(4);
        if given_date.is_none() {
            added.push(("x-amz-date", amz_date.clone()));
        }
        if self.rules.content_sha256_header && given_sha.is_none() {
            added.push(("x-amz-content-sha256", payload_hash.clone()));
        }
        if let Some(token) = token {
            if self.sign_session_token && header(request, "x-amz-security-token").is_none() {
                added.push(("x-amz-security-token", token.to_owned()));
            }
        }

        let extra: Vec<(&str, &str)> = added.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (canonical_headers, signed_headers) = canonical_headers(&request.headers, &extra);

        let mut canonical_request = String::with_capacity(256 + canonical_headers.len());
        self.write_request_line(request, &mut canonical_request);
        canonical::write_query(&mut canonical::query_pairs(request.query), &mut canonical_request);
        finish_canonical_request(
            &mut canonical_request,
            &canonical_headers,
            &signed_headers,
            &payload_hash,
        );

        let scope = self.scope(&amz_date);
        let (string_to_sign, signature) = self.signature(&canonical_request, &amz_date, &scope);
        let mut authorization = String::with_capacity(
            96 + self.credentials.access_key_id.len() + scope.len() + signed_headers.len() + signature.len(),
        );
        authorization.push_str(ALGORITHM);
        authorization.push_str(" Credential=");
        authorization.push_str(&self.credentials.access_key_id);
        authorization.push('/');
        authorization.push_str(&scope);
        authorization.push_str(", SignedHeaders=");
        authorization.push_str(&signed_headers);
        authorization.push_str(", Signature=");
        authorization.push_str(&signature);
        added.push(("authorization", authorization));
        if let Some(token) = token {
            if !self.sign_session_token {
                added.push(("x-amz-security-token", token.to_owned()));
            }
        }
        SignedHeaders {
            headers: added,
            canonical_request,
            string_to_sign,
            signature,
        }
    }

    /// Signs in the query string: the query of a presigned URL valid for `expires_in_seconds`.
    /// The request's headers (at least `host`) are signed, so whoever uses the URL must
    /// send them unchanged.
    pub fn presign(&self, request: &SignableRequest<'_>, time: SystemTime, expires_in_seconds: u64) -> PresignedQuery {
        let amz_date = crate::time::amz_date(time);
        let scope = self.scope(&amz_date);
        let (_, signed_headers) = canonical_headers(&request.headers, &[]);
        let mut pairs = canonical::query_pairs(request.query);
        let encoded = |value: &str| {
            let mut out = String::with_capacity(value.len() + 16);
            encode(value, URI_COMPONENT, &mut out);
            out
        };
        pairs.push(("X-Amz-Algorithm".into(), ALGORITHM.into()));
        pairs.push((
            "X-Amz-Credential".into(),
            encoded(&format!("{}/{scope}", self.credentials.access_key_id)),
        ));
        pairs.push(("X-Amz-Date".into(), amz_date.clone()));
        pairs.push(("X-Amz-Expires".into(), expires_in_seconds.to_string()));
        pairs.push(("X-Amz-SignedHeaders".into(), encoded(&signed_headers)));
        let token = self.credentials.session_token.as_ref().map(Secret::expose);
        if let (Some(token), true) = (token, self.sign_session_token) {
            pairs.push(("X-Amz-Security-Token".into(), encoded(token)));
        }
        let mut query = String::with_capacity(512);
        canonical::write_query(&mut pairs, &mut query);

        let payload_hash = match header(request, "x-amz-content-sha256") {
            Some(hash) => hash.to_owned(),
            None if self.rules.unsigned_presigned_payload => UNSIGNED_PAYLOAD.to_owned(),
            None => payload_hash(request.payload),
        };
        let (canonical_headers, signed_headers) = canonical_headers(&request.headers, &[]);
        let mut canonical_request = String::with_capacity(512 + canonical_headers.len());
        self.write_request_line(request, &mut canonical_request);
        canonical_request.push_str(&query);
        finish_canonical_request(
            &mut canonical_request,
            &canonical_headers,
            &signed_headers,
            &payload_hash,
        );

        let (string_to_sign, signature) = self.signature(&canonical_request, &amz_date, &scope);
        query.push_str("&X-Amz-Signature=");
        query.push_str(&signature);
        if let (Some(token), false) = (token, self.sign_session_token) {
            query.push_str("&X-Amz-Security-Token=");
            query.push_str(&encoded(token));
        }
        PresignedQuery {
            query,
            canonical_request,
            string_to_sign,
            signature,
        }
    }

    fn write_request_line(&self, request: &SignableRequest<'_>, out: &mut String) {
        out.push_str(request.method);
        out.push('\n');
        canonical::canonical_uri(
            request.path,
            self.rules.normalize_path,
            self.rules.double_encode_path,
            out,
        );
        out.push('\n');
    }

    fn scope(&self, amz_date: &str) -> String {
        let date = amz_date.get(..8).unwrap_or(amz_date);
        let mut out = String::with_capacity(date.len() + self.region.len() + self.service.len() + 16);
        out.push_str(date);
        out.push('/');
        out.push_str(&self.region);
        out.push('/');
        out.push_str(&self.service);
        out.push_str("/aws4_request");
        out
    }

    fn signature(&self, canonical_request: &str, amz_date: &str, scope: &str) -> (String, String) {
        let mut string_to_sign = String::with_capacity(ALGORITHM.len() + amz_date.len() + scope.len() + 67);
        string_to_sign.push_str(ALGORITHM);
        string_to_sign.push('\n');
        string_to_sign.push_str(amz_date);
        string_to_sign.push('\n');
        string_to_sign.push_str(scope);
        string_to_sign.push('\n');
        string_to_sign.push_str(&hex::encode(Sha256::digest(canonical_request.as_bytes())));
        let date = amz_date.get(..8).unwrap_or(amz_date);
        let mut mac = self
            .keys
            .keyed_mac(&self.credentials.secret_access_key, date, &self.region, &self.service);
        mac.update(string_to_sign.as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        (string_to_sign, signature)
    }
}

fn header<'a>(request: &SignableRequest<'a>, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

fn payload_hash(payload: Payload<'_>) -> String {
    match payload {
        Payload::Bytes([]) => EMPTY_PAYLOAD_SHA256.to_owned(),
        Payload::Bytes(bytes) => hex::encode(Sha256::digest(bytes)),
        Payload::Precomputed(hash) => hash.to_owned(),
        Payload::Unsigned => UNSIGNED_PAYLOAD.to_owned(),
    }
}

/// Returns (`name:value\n` lines, `name;name…`): names lower-cased and sorted, values
/// trimmed and collapsed, repeated headers joined with commas in request order.
fn canonical_headers(headers: &[(&str, &str)], extra: &[(&str, &str)]) -> (String, String) {
    let mut entries: Vec<(std::borrow::Cow<'_, str>, &str)> = headers
        .iter()
        .chain(extra.iter())
        .map(|(name, value)| {
            let name = name.trim();
            let name: std::borrow::Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
                name.to_ascii_lowercase().into()
            } else {
                name.into()
            };
            (name, *value)
        })
        .filter(|(name, _)| !UNSIGNED_HEADERS.contains(&name.as_ref()))
        .collect();
    // A stable sort keeps repeated headers in request order.
    crate::sorting::sort_by(&mut entries, |a, b| a.0.cmp(&b.0));
    let mut lines = String::with_capacity(entries.len() * 48);
    let mut names = String::with_capacity(entries.len() * 16);
    let mut previous: Option<&str> = None;
    for (name, value) in &entries {
        if previous == Some(name.as_ref()) {
            lines.pop(); // the newline: the value continues this header's line
            lines.push(',');
        } else {
            if previous.is_some() {
                names.push(';');
            }
            names.push_str(name);
            lines.push_str(name);
            lines.push(':');
        }
        canonical::push_header_value(value, &mut lines);
        lines.push('\n');
        previous = Some(name.as_ref());
    }
    (lines, names)
}

fn finish_canonical_request(out: &mut String, headers: &str, signed_headers: &str, payload_hash: &str) {
    out.push('\n');
    out.push_str(headers);
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    out.push_str(payload_hash);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vanilla() -> Signer {
        Signer::new(
            Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            "us-east-1",
            "service",
            SigningRules::GENERIC,
        )
    }

    #[test]
    fn signs_the_vanilla_request() {
        let time = crate::time::parse_iso8601("2015-08-30T12:36:00Z").unwrap();
        let request = SignableRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: vec![("Host", "example.amazonaws.com")],
            payload: Payload::Bytes(b""),
        };
        let signed = vanilla().sign_headers(&request, time);
        assert_eq!(
            signed.signature,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        let presigned = vanilla().presign(&request, time, 3600);
        assert_eq!(
            presigned.signature,
            "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"
        );
        assert!(presigned
            .query
            .ends_with("&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let signer = vanilla();
        let printed = format!("{signer:?}");
        assert!(printed.contains("AKIDEXAMPLE"));
        assert!(!printed.contains("wJalrXUtnFEMI"));
    }
}
