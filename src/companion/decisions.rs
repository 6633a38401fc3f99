//! PocketBase's recent "yes" answers, kept in the isolate so that a file PocketBase just
//! allowed is served again without asking, for no longer than the configured time or the
//! life of the token that was allowed.
//!
//! Only allowed requests are kept (a denial is always asked again: whoever just got
//! access must not wait), keyed by the request's whole path and query, token included,
//! so one client's decision never serves another's request.

use http::HeaderMap;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// How many decisions an isolate keeps at most.
pub const CAPACITY: usize = 2048;

struct Entry {
    /// PocketBase's answer headers (which file it serves, how).
    headers: HeaderMap,
    /// Unix seconds after which the decision is asked again.
    expires: u64,
    /// `{collection}/{record}` as the URL named them, for purging.
    record: String,
}

/// Allowed requests and PocketBase's answer headers, until each expires.
#[derive(Default)]
pub struct Decisions {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Decisions {
    /// PocketBase's headers for an allowed request still fresh at `now`.
    pub fn get(&self, request: &str, now: u64) -> Option<HeaderMap> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(request)
            .filter(|entry| entry.expires > now)
            .map(|entry| entry.headers.clone())
    }

    /// Keeps an allowed request until `expires`. When full, the expired go first, then
    /// the decisions that would expire soonest.
    pub fn insert(&self, request: String, record: String, headers: HeaderMap, expires: u64, now: u64) {
        if expires <= now {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY && !entries.contains_key(&request) {
            entries.retain(|_, entry| entry.expires > now);
            while entries.len() >= CAPACITY {
                let Some(soonest) = entries
                    .iter()
                    .min_by_key(|(_, entry)| entry.expires)
                    .map(|(key, _)| key.clone())
                else {
                    break;
                };
                entries.remove(&soonest);
            }
        }
        entries.insert(
            request,
            Entry {
                headers,
                expires,
                record,
            },
        );
    }

    /// Forgets every decision about a record, whichever of `collections` (its id, its
    /// name) the URL named it by. Answers how many were forgotten.
    pub fn purge_record(&self, collections: &[&str], record: &str) -> usize {
        let names: Vec<String> = collections.iter().map(|c| format!("{c}/{record}")).collect();
        self.purge(|entry| names.contains(&entry.record))
    }

    /// Forgets every decision about a collection's records (its rules changed).
    pub fn purge_collection(&self, collections: &[&str]) -> usize {
        self.purge(|entry| {
            let collection = entry.record.split('/').next().unwrap_or("");
            collections.contains(&collection)
        })
    }

    fn purge(&self, matches: impl Fn(&Entry) -> bool) -> usize {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let before = entries.len();
        entries.retain(|_, entry| !matches(entry));
        before - entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_decision_until_it_expires_and_purges_by_record_or_collection() {
        let decisions = Decisions::default();
        decisions.insert(
            "/api/files/c1/r1/a.png".into(),
            "c1/r1".into(),
            HeaderMap::new(),
            110,
            100,
        );
        decisions.insert(
            "/api/files/docs/r1/a.png".into(),
            "docs/r1".into(),
            HeaderMap::new(),
            110,
            100,
        );
        decisions.insert(
            "/api/files/c1/r2/b.png?token=t".into(),
            "c1/r2".into(),
            HeaderMap::new(),
            105,
            100,
        );
        decisions.insert(
            "/api/files/c1/r3/b.png".into(),
            "c1/r3".into(),
            HeaderMap::new(),
            100,
            100,
        );
        assert!(decisions.get("/api/files/c1/r1/a.png", 109).is_some());
        assert!(decisions.get("/api/files/c1/r1/a.png", 110).is_none(), "expired");
        assert!(
            decisions.get("/api/files/c1/r2/b.png", 101).is_none(),
            "another query is another request"
        );
        assert!(
            decisions.get("/api/files/c1/r3/b.png", 100).is_none(),
            "already expired: not kept"
        );
        assert_eq!(decisions.purge_record(&["c1", "docs"], "r1"), 2);
        assert!(decisions.get("/api/files/c1/r2/b.png?token=t", 101).is_some());
        assert_eq!(decisions.purge_collection(&["c1"]), 1);
        assert!(decisions.get("/api/files/c1/r2/b.png?token=t", 101).is_none());
    }

    #[test]
    fn a_full_cache_drops_the_soonest_to_expire() {
        let decisions = Decisions::default();
        for i in 0..CAPACITY as u64 {
            decisions.insert(format!("/k{i}"), "c/r".into(), HeaderMap::new(), 1000 + i, 0);
        }
        decisions.insert("/new".into(), "c/r".into(), HeaderMap::new(), 5000, 0);
        assert!(decisions.get("/k0", 1).is_none(), "the soonest went");
        assert!(decisions.get("/k1", 1).is_some() && decisions.get("/new", 1).is_some());
    }
}
