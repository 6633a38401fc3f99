//! What PocketBase's hook (`pb_hooks/edgefs.pb.js`) says changed, and the edge-cache keys
//! of every answer that change makes stale.
//!
//! Public answers are kept in the edge cache under a canonical key per file, thumbnail
//! and `download` flag ([`body_key`]), so the answers about a record's files are a short
//! list the hook can name: each file, with no thumbnail and with each of its field's
//! thumbnail sizes, as an attachment and not.

use serde::Deserialize;

/// The path PocketBase's hook posts to. PocketBase has no route there, and it is under
/// `/api/files/`, which the Worker is mounted on.
pub const PATH: &str = "/api/files/edgefs/purge";

/// The thumbnail size PocketBase makes for every image field, listed or not.
const DEFAULT_THUMB: &str = "100x100";

/// The collection a change is about.
#[derive(Debug, Deserialize)]
pub struct Collection {
    /// Its id (`pbc_…`), as the bucket's keys and the SDK's URLs name it.
    pub id: String,
    /// Its name, as a URL may name it.
    pub name: String,
}

/// One change, as the hook posts it.
#[derive(Debug, Deserialize)]
pub struct Change {
    /// The collection of the change.
    pub collection: Collection,
    /// The record that changed or went; none when the collection itself changed (its
    /// rules, its fields).
    #[serde(default)]
    pub record: Option<String>,
    /// The record's file names before the change.
    #[serde(default)]
    pub files: Vec<String>,
    /// The thumbnail sizes of the record's file fields.
    #[serde(default)]
    pub thumbs: Vec<String>,
}

impl Change {
    /// Reads the hook's JSON; a body that is not one is an error naming the problem.
    pub fn parse(body: &[u8]) -> Result<Change, String> {
        let change: Change =
            serde_json::from_slice(body).map_err(|e| format!("the purge request is not a change: {e}"))?;
        let plain = |s: &str| !s.is_empty() && !s.contains(['/', '?', '#']);
        if !plain(&change.collection.id) || !plain(&change.collection.name) {
            return Err("the purge request names no collection".into());
        }
        if change.record.as_deref().is_some_and(|r| !plain(r)) || change.files.iter().any(|f| !plain(f)) {
            return Err("the purge request names a record or file that is not a plain name".into());
        }
        Ok(change)
    }

    /// The edge-cache keys of every public answer about the record's files, under
    /// `origin` (the scheme and host clients use).
    pub fn body_keys(&self, origin: &str) -> Vec<String> {
        let Some(record) = &self.record else {
            return Vec::new();
        };
        let mut thumbs: Vec<Option<&str>> = vec![None, Some(DEFAULT_THUMB)];
        for thumb in &self.thumbs {
            if !thumbs.contains(&Some(thumb.as_str())) {
                thumbs.push(Some(thumb));
            }
        }
        let mut keys = Vec::new();
        for file in &self.files {
            for thumb in &thumbs {
                for download in [false, true] {
                    keys.push(body_key(origin, &self.collection.id, record, file, *thumb, download));
                }
            }
        }
        keys
    }
}

/// The edge-cache key of a public answer: the file's URL by collection id with only
/// the query that changes the answer, in one order.
pub fn body_key(
    origin: &str,
    collection: &str,
    record: &str,
    filename: &str,
    thumb: Option<&str>,
    download: bool,
) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let segment = |s: &str| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string();
    let mut key = format!(
        "{origin}/api/files/{}/{}/{}",
        segment(collection),
        segment(record),
        segment(filename)
    );
    let mut separator = '?';
    if let Some(thumb) = thumb {
        key.push_str(&format!("?thumb={}", segment(thumb)));
        separator = '&';
    }
    if download {
        key.push(separator);
        key.push_str("download=1");
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_names_every_answer_about_the_records_files() {
        let change = Change::parse(
            br#"{"collection":{"id":"pbc_1","name":"docs"},"record":"r1","files":["a.png","b.txt"],"thumbs":["0x50","100x100"]}"#,
        )
        .unwrap();
        let keys = change.body_keys("https://example.com");
        assert_eq!(keys.len(), 2 * 3 * 2, "{keys:#?}");
        assert!(keys.contains(&"https://example.com/api/files/pbc_1/r1/a.png".to_owned()));
        assert!(keys.contains(&"https://example.com/api/files/pbc_1/r1/a.png?thumb=0x50&download=1".to_owned()));
        assert!(keys.contains(&"https://example.com/api/files/pbc_1/r1/b.txt?download=1".to_owned()));
        let collection = Change::parse(br#"{"collection":{"id":"pbc_1","name":"docs"}}"#).unwrap();
        assert!(collection.record.is_none() && collection.body_keys("https://x").is_empty());
    }

    #[test]
    fn a_malformed_change_is_refused_with_its_reason() {
        for (body, says) in [
            (&b"not json"[..], "not a change"),
            (br#"{"collection":{"id":"","name":"docs"}}"#, "names no collection"),
            (
                br#"{"collection":{"id":"a","name":"b"},"record":"../x"}"#,
                "not a plain name",
            ),
            (
                br#"{"collection":{"id":"a","name":"b"},"record":"r","files":["x?y"]}"#,
                "not a plain name",
            ),
        ] {
            let error = Change::parse(body).unwrap_err();
            assert!(error.contains(says), "{error}");
        }
    }
}
