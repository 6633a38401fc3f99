//! HS256 JSON Web Tokens: signing and strict verification.
//!
//! Verification accepts exactly `{"alg":"HS256"}` headers: `alg: none`, any other
//! algorithm, a bad signature (compared in constant time), a malformed token and an
//! expired one are all refused, each with its own error so logs can tell them apart.

use crate::error::Quoted;
use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;
use std::fmt;

/// Why a token was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    Malformed(&'static str),
    /// `alg` is not HS256 (`none` included).
    Algorithm(String),
    /// The signature does not match: another secret signed the token, or it was changed.
    BadSignature,
    /// `exp` has passed.
    Expired,
    /// No `exp` claim: tokens must expire.
    NoExpiry,
    /// `nbf` (not before) is still in the future.
    NotYetValid,
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtError::Malformed(what) => write!(f, "malformed token: {what}"),
            JwtError::Algorithm(alg) => write!(
                f,
                "token algorithm {alg} is not accepted (only HS256)",
                alg = Quoted(alg)
            ),
            JwtError::BadSignature => f.write_str("token signature does not match"),
            JwtError::Expired => f.write_str("token has expired"),
            JwtError::NoExpiry => f.write_str("token has no exp claim"),
            JwtError::NotYetValid => f.write_str("token is not valid yet (nbf)"),
        }
    }
}

impl std::error::Error for JwtError {}

/// Signs and verifies with one secret.
#[derive(Clone)]
pub struct Signer {
    secret: Secret,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSigner([redacted])")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl Signer {
    /// A signer keyed with `secret`.
    pub fn new(secret: Secret) -> Self {
        Signer { secret }
    }

    fn mac(&self) -> HmacSha256 {
        crate::sigv4::hmac_sha256(self.secret.expose().as_bytes())
    }

    /// A token with these claims (the caller sets `exp`).
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
        let mut mac = self.mac();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{header}.{payload}.{signature}")
    }

    /// The claims of a valid token at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<Map<String, Value>, JwtError> {
        let mut parts = token.trim().split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed("not three dot-separated parts"));
        };
        let header_json: Value = decode_json(header).ok_or(JwtError::Malformed("the header is not base64url JSON"))?;
        match header_json.get("alg").and_then(Value::as_str) {
            Some("HS256") => {}
            Some(other) => return Err(JwtError::Algorithm(other.to_owned())),
            None => return Err(JwtError::Algorithm(String::new())),
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| JwtError::Malformed("the signature is not base64url"))?;
        let mut mac = self.mac();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).map_err(|_| JwtError::BadSignature)?;
        let claims = match decode_json(payload) {
            Some(Value::Object(claims)) => claims,
            _ => return Err(JwtError::Malformed("the payload is not a JSON object")),
        };
        let exp = claims.get("exp").and_then(Value::as_f64).ok_or(JwtError::NoExpiry)?;
        if exp <= now as f64 {
            return Err(JwtError::Expired);
        }
        if claims
            .get("nbf")
            .and_then(Value::as_f64)
            .is_some_and(|nbf| nbf > now as f64)
        {
            return Err(JwtError::NotYetValid);
        }
        Ok(claims)
    }
}

/// When a token says it expires (its `exp`, Unix seconds), read without checking its
/// signature: for bounding how long something learned with the token is kept, never
/// for deciding whether the token is good.
pub fn unverified_expiry(token: &str) -> Option<u64> {
    let payload = token.trim().split('.').nth(1)?;
    let exp = decode_json(payload)?.get("exp")?.as_f64()?;
    (exp.is_finite() && exp >= 0.0).then_some(exp as u64)
}

fn decode_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Compares two secrets without revealing where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = (a.len() ^ b.len()) as u8;
    for i in 0..a.len().max(b.len()) {
        difference |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff);
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(exp: u64) -> Map<String, Value> {
        json!({"id": "u1", "type": "auth", "collectionId": "users", "exp": exp})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn round_trips_and_checks_expiry() {
        let signer = Signer::new(Secret::new("s3cret"));
        let token = signer.sign(&claims(1000));
        assert_eq!(signer.verify(&token, 999).unwrap()["id"], "u1");
        assert_eq!(signer.verify(&token, 1000), Err(JwtError::Expired));
        assert_eq!(
            Signer::new(Secret::new("other")).verify(&token, 0),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn refuses_a_token_before_its_nbf() {
        let signer = Signer::new(Secret::new("s3cret"));
        let mut early = claims(5000);
        early.insert("nbf".into(), json!(2000));
        let token = signer.sign(&early);
        assert_eq!(signer.verify(&token, 1999), Err(JwtError::NotYetValid));
        assert_eq!(signer.verify(&token, 2000).unwrap()["id"], "u1");
    }

    #[test]
    fn refuses_alg_none_and_other_algorithms() {
        let signer = Signer::new(Secret::new("s3cret"));
        let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims(u64::MAX)).to_string());
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{"typ":"JWT"}"#,
        ] {
            let token = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(header));
            assert!(
                matches!(signer.verify(&token, 0), Err(JwtError::Algorithm(_))),
                "{header}"
            );
        }
        assert!(matches!(signer.verify("a.b", 0), Err(JwtError::Malformed(_))));
        assert!(matches!(
            signer.verify("not a token at all", 0),
            Err(JwtError::Malformed(_))
        ));
    }

    #[test]
    fn tampered_claims_fail() {
        let signer = Signer::new(Secret::new("s3cret"));
        let token = signer.sign(&claims(5000));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"id": "admin", "exp": 5000}).to_string());
        parts[1] = &forged;
        assert_eq!(signer.verify(&parts.join("."), 0), Err(JwtError::BadSignature));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
