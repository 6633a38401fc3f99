//! SigV4 signing keys: derived with four HMACs, then cached.
//!
//! The derived key only changes when the secret, the date, the region or the service
//! does, so it is cached under exactly that tuple. What is cached is the HMAC state
//! already keyed with the signing key, which also saves the key-padding work on every
//! signature.

use crate::secret::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Mutex;

pub type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA256 keyed with `key`.
pub fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length, so this never fails. (Not `expect`: it would
    // link the error's `Debug` into the Worker.)
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"))
}

pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = keyed(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn derive_signing_key(secret: &Secret, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut seed = Vec::with_capacity(4 + secret.expose().len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.expose().as_bytes());
    let k_date = hmac(&seed, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

struct Entry {
    secret: Secret,
    date: String,
    region: String,
    service: String,
    mac: HmacSha256,
}

/// A one-entry cache: a signer signs for one secret, region and service, and the date
/// changes once a day.
#[derive(Default)]
pub struct KeyCache {
    entry: Mutex<Option<Entry>>,
}

impl KeyCache {
    /// An HMAC keyed with the signing key for this tuple.
    pub fn keyed_mac(&self, secret: &Secret, date: &str, region: &str, service: &str) -> HmacSha256 {
        let mut entry = self.entry.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(e) = entry.as_ref() {
            if e.date == date && e.region == region && e.service == service && e.secret == *secret {
                return e.mac.clone();
            }
        }
        let key = derive_signing_key(secret, date, region, service);
        let mac = keyed(&key);
        *entry = Some(Entry {
            secret: secret.clone(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            mac: mac.clone(),
        });
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_documented_key() {
        // From AWS's "Examples of how to derive a signing key for Signature Version 4".
        let key = derive_signing_key(
            &Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }
}
