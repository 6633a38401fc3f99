//! What clients learnt from servers' answers: the provider an answer's headers named
//! ([`Provider::from_headers`]), by endpoint, so that the S3 test can name a self-hosted
//! server its endpoint does not.

use crate::protocol::{Endpoint, Provider};
use http::HeaderMap;
use std::sync::{Mutex, PoisonError};

/// Endpoints remembered at most; the oldest is forgotten first.
const LIMIT: usize = 32;

static SEEN: Mutex<Vec<(String, Provider)>> = Mutex::new(Vec::new());

fn key(endpoint: &Endpoint) -> String {
    format!("{}://{}{}", endpoint.scheme, endpoint.authority, endpoint.base_path)
}

/// Notes the provider an answer from `endpoint` names, if it names one.
pub(crate) fn remember(endpoint: &Endpoint, headers: &HeaderMap) {
    let Some(provider) = Provider::from_headers(headers) else {
        return;
    };
    let key = key(endpoint);
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(at) = seen.iter().position(|(k, _)| *k == key) {
        seen[at].1 = provider;
        return;
    }
    if seen.len() == LIMIT {
        seen.remove(0);
    }
    seen.push((key, provider));
}

/// The provider the last answer from `endpoint` that named one named, if any client of
/// this process (or Worker isolate) has had one.
pub fn answered_by(endpoint: &Endpoint) -> Option<Provider> {
    let key = key(endpoint);
    let seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    seen.iter().find(|(k, _)| *k == key).map(|(_, provider)| *provider)
}

/// Forgets what answers from `endpoint` said, so that the next answer decides.
pub fn forget(endpoint: &Endpoint) {
    let key = key(endpoint);
    SEEN.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .retain(|(k, _)| *k != key);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_server_by_endpoint() {
        let here = Endpoint::parse("http://127.0.0.1:1/observed-test").unwrap();
        let there = Endpoint::parse("http://127.0.0.1:2/observed-test").unwrap();
        let mut headers = HeaderMap::new();
        remember(&here, &headers);
        assert_eq!(answered_by(&here), None);
        headers.insert("server", "SeaweedFS 8000GB 4.48".parse().unwrap());
        remember(&here, &headers);
        assert_eq!(answered_by(&here), Some(Provider::SeaweedFs));
        assert_eq!(answered_by(&there), None);
        forget(&here);
        assert_eq!(answered_by(&here), None);
    }
}
