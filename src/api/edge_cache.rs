//! The edge cache of public files: which file answers the Worker may keep in its data
//! center's cache (the Workers Cache API), under which key, and which keys a change of
//! records makes stale.
//!
//! The core decides; the platform keeps. A response carries an [`EdgeCache`] in its
//! extensions — keep this answer under a key for some seconds, or drop these keys — and
//! the Worker's glue does it with `caches.default`. Before handling a request the glue
//! asks [`lookup_key`] where a hit would be, and answers a hit (with the cache's own
//! Range and 304 answers) without reading the record or the object.
//!
//! Only public files enter: a file of a field that is not protected, in a collection
//! without `enforceViewRuleOnFiles` — the answers PocketBase gives anyone, whatever
//! their token. The key names the collection by id and carries a fingerprint of the
//! collection's file access (every field's `protected`, the view-rule flag): making a
//! field protected changes every key of the collection, in every data center at once,
//! so no cached copy of a file that has become protected is ever looked up again.
//! Deleting a record or removing a file from it drops its keys here; other data
//! centers' copies expire after `EDGE_CACHE_SECONDS` ([`Env::edge_cache_time`](super::app::Env::edge_cache_time)).

use super::app::App;
use crate::collections::{Collection, FieldKind};
use crate::files::ranges::{self, RangeRequest};
use crate::records::Record;
use crate::transport::Body;
use http::{Method, Request};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The origin of cache keys: not a host anything is fetched from.
const KEY_ORIGIN: &str = "https://edge-cache.edgefs.invalid";

/// What a key's path segments keep as they are (RFC 3986's unreserved characters).
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The most seconds `EDGE_CACHE_SECONDS` may ask for.
pub const MAX_EDGE_CACHE_SECONDS: u64 = 86_400;

/// How long a public file stays in the edge cache unless `EDGE_CACHE_SECONDS` says.
pub const DEFAULT_EDGE_CACHE_TIME: Duration = Duration::from_secs(60);

/// What the platform is asked to do with its edge cache, as a response extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdgeCache {
    /// Keep this (whole, `200`) answer under `key` for `time`.
    Keep {
        /// The cache key ([`lookup_key`] finds it again).
        key: String,
        /// How long the copy may be served.
        time: Duration,
    },
    /// Drop these keys: the files they name are gone.
    Drop(Vec<String>),
}

/// Reads `EDGE_CACHE_SECONDS`: unset or empty is the default, `0` turns caching off.
pub fn parse_time(value: Option<&str>) -> Result<Duration, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(DEFAULT_EDGE_CACHE_TIME),
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) if seconds <= MAX_EDGE_CACHE_SECONDS => Ok(Duration::from_secs(seconds)),
            _ => Err(format!(
                "EDGE_CACHE_SECONDS {text:?} must be a whole number of seconds from 0 (no edge cache) to {MAX_EDGE_CACHE_SECONDS}"
            )),
        },
    }
}

/// A short digest of what decides whether the collection's files are public.
fn fingerprint(collection: &Collection) -> String {
    let mut hash = Sha256::new();
    hash.update([u8::from(collection.enforce_view_rule_on_files)]);
    for field in collection.file_fields() {
        let protected = matches!(field.kind, FieldKind::File { protected: true, .. });
        hash.update(field.name.as_bytes());
        hash.update([0, u8::from(protected)]);
    }
    hash.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of one file's answer (`download`: with `Content-Disposition: attachment`).
pub(crate) fn key(collection: &Collection, record_id: &str, filename: &str, download: bool) -> String {
    let encode = |part: &str| percent_encoding::utf8_percent_encode(part, UNRESERVED).to_string();
    format!(
        "{KEY_ORIGIN}/{}/{}/{}/{}?download={}",
        encode(&collection.id),
        fingerprint(collection),
        encode(record_id),
        encode(filename),
        u8::from(download)
    )
}

/// Every key a record's files may be kept under.
pub(crate) fn record_keys(collection: &Collection, record: &Record) -> Vec<String> {
    let id = record.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut names = Vec::new();
    for field in collection.file_fields() {
        match record.get(&field.name) {
            Some(Value::String(name)) if !name.is_empty() => names.push(name.clone()),
            Some(Value::Array(items)) => names.extend(items.iter().filter_map(Value::as_str).map(str::to_owned)),
            _ => {}
        }
    }
    file_keys(collection, id, &names)
}

/// The keys of these files of one record (both dispositions).
pub(crate) fn file_keys(collection: &Collection, record_id: &str, names: &[String]) -> Vec<String> {
    names
        .iter()
        .flat_map(|name| [false, true].map(|download| key(collection, record_id, name, download)))
        .collect()
}

/// Whether `?download=` asks for an attachment: Go's `strconv.ParseBool` true, as
/// PocketBase reads it.
pub(crate) fn wants_download(uri: &http::Uri) -> bool {
    super::query_param(uri, "download").is_some_and(|v| is_go_true(&v))
}

/// Go's `strconv.ParseBool` spellings of true.
pub(crate) fn is_go_true(value: &str) -> bool {
    matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

/// Where a cached answer to `request` would be: a `GET` of a file of a collection whose
/// files may be public, while the edge cache is on. `None` when the request can only be
/// answered by the API (then the answer says whether to keep it).
pub async fn lookup_key(app: &App, request: &Request<Body>) -> Option<String> {
    if request.method() != Method::GET || app.edge_cache_time().is_zero() || !the_cache_answers_as_pocketbase(request) {
        return None;
    }
    // The same reading of the path as the files route's.
    let Some(super::Route::File(collection, record, filename)) = super::route(request.method(), request.uri().path())
    else {
        return None;
    };
    let loaded = app.loaded().await.ok()?;
    let collection = loaded.collections.get(&collection)?;
    if collection.enforce_view_rule_on_files {
        return None;
    }
    Some(key(collection, &record, &filename, wants_download(request.uri())))
}

/// Whether the cache's own answer to the request's `Range` and conditional headers is
/// PocketBase's: a whole file, one range (the glue takes the cache's answer only when it
/// is a 206), `If-None-Match` and `If-Modified-Since` (its 304, headers as PocketBase's).
/// Several ranges, a header Go refuses and `If-Range` are answered by the API, as Go's
/// `ServeContent` answers them for PocketBase; the cache's answers to those differ.
fn the_cache_answers_as_pocketbase(request: &Request<Body>) -> bool {
    let headers = request.headers();
    if headers.contains_key(http::header::IF_RANGE) {
        return false;
    }
    match headers.get(http::header::RANGE).map(|value| value.to_str()) {
        None => true,
        Some(Ok(value)) => matches!(ranges::parse(Some(value)), RangeRequest::Whole | RangeRequest::One(_)),
        Some(Err(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collections::Collections;
    use serde_json::json;

    fn collection(protected: bool, enforce: bool) -> Collection {
        Collections::from_values(vec![json!({
            "id": "pbc_photos00001", "name": "photos", "type": "base",
            "enforceViewRuleOnFiles": enforce,
            "fields": [{"name": "image", "type": "file", "maxSelect": 2, "protected": protected}]
        })])
        .unwrap()
        .get("photos")
        .unwrap()
        .clone()
    }

    #[test]
    fn making_a_field_protected_or_enforcing_the_view_rule_changes_every_key() {
        let public = key(&collection(false, false), "r1", "a.png", false);
        assert_ne!(public, key(&collection(true, false), "r1", "a.png", false));
        assert_ne!(public, key(&collection(false, true), "r1", "a.png", false));
        assert_eq!(public, key(&collection(false, false), "r1", "a.png", false));
        assert_ne!(public, key(&collection(false, false), "r1", "a.png", true));
    }

    #[test]
    fn a_records_keys_cover_each_file_in_both_dispositions() {
        let photos = collection(false, false);
        let record: Record = json!({"id": "r1", "image": ["a.png", "b c.png"]})
            .as_object()
            .cloned()
            .unwrap();
        let keys = record_keys(&photos, &record);
        assert_eq!(keys.len(), 4);
        assert!(keys.contains(&key(&photos, "r1", "b c.png", true)));
        assert!(keys[0].starts_with("https://edge-cache.edgefs.invalid/pbc_photos00001/"));
    }

    #[test]
    fn edge_cache_seconds_is_read_or_refused_by_name() {
        assert_eq!(parse_time(None), Ok(DEFAULT_EDGE_CACHE_TIME));
        assert_eq!(parse_time(Some(" 0 ")), Ok(Duration::ZERO));
        assert_eq!(parse_time(Some("3600")), Ok(Duration::from_secs(3600)));
        for bad in ["-1", "1.5", "a day", "86401"] {
            let error = parse_time(Some(bad)).unwrap_err();
            assert!(error.contains("EDGE_CACHE_SECONDS") && error.contains(bad), "{error}");
        }
    }
}
