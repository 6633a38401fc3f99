//! The storage façade: PocketBase's `filesystem.System` operations over interchangeable
//! backends.
//!
//! | backend | where |
//! | --- | --- |
//! | [`Memory`] | in-process: the embedded default for the library, tests and the component |
//! | [`S3Storage`] | any S3-compatible bucket, through the [`S3Client`](crate::S3Client) |
//! | `Kv`, `R2` | Workers bindings (wasm32 with the `js` feature); [`choose_backends`] picks |
//!
//! Every backend answers the same [`Storage`] trait and passes the same conformance
//! suite ([`conformance`]); a backend of your own can run it too.

pub mod conformance;
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
mod dir;
#[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
mod js;
#[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
mod kv;
mod memory;
#[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
mod r2;
mod s3;
mod select;

#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub use dir::Dir;
#[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
pub use kv::{Kv, KV_VALUE_LIMIT};
pub use memory::Memory;
#[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
pub use r2::R2;
pub use s3::S3Storage;
pub use select::{choose_backends, Backends, KV_BINDING, R2_BINDING};

use crate::error::Error;
use crate::s3::actions::{ByteRange, ContentRange};
use crate::transport::{Body, BoxFuture, MaybeSendSync};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// What a backend knows about a stored object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// The object's size in bytes.
    pub size: u64,
    /// The content type it was stored with; `None` when none was given.
    pub content_type: Option<String>,
    /// A quoted entity tag (`"…"`), as HTTP sends it.
    pub etag: Option<String>,
    /// When it was last written; `None` when the backend does not say.
    pub modified: Option<SystemTime>,
    /// User metadata, as stored with it.
    pub metadata: BTreeMap<String, String>,
}

/// What to store with an upload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadOptions {
    /// The content type to store with the object; `None` stores none.
    pub content_type: Option<String>,
    /// User metadata to store with the object.
    pub metadata: BTreeMap<String, String>,
    /// Store only if this holds, atomically ([`Storage::conditional_writes`]); when it
    /// does not, nothing is stored and the upload fails with [`Error::Conflict`].
    pub condition: Option<WriteCondition>,
}

/// A compare-and-swap on an object: what must be at the key for a write to happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteCondition {
    /// The object whose quoted ETag is this one (it was not changed since it was read).
    Matches(String),
    /// No object (the key is new).
    Absent,
}

impl UploadOptions {
    /// Sets the content type.
    pub fn content_type(mut self, value: impl Into<String>) -> Self {
        self.content_type = Some(value.into());
        self
    }

    /// Adds user metadata.
    pub fn metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(name.into(), value.into());
        self
    }

    /// Stores only if `condition` holds.
    pub fn condition(mut self, condition: WriteCondition) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// A read: an optional byte range and HTTP's cache conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// Only these bytes; `None` for the whole object.
    pub range: Option<ByteRange>,
    /// Answer [`GetOutcome::NotModified`] when the object's ETag is one of these
    /// (`If-None-Match`; `*` matches any).
    pub if_none_match: Option<String>,
    /// Answer [`GetOutcome::NotModified`] when the object has not changed since
    /// (`If-Modified-Since`; ignored when `if_none_match` is given, as HTTP says).
    pub if_modified_since: Option<SystemTime>,
}

/// An object's bytes and attributes.
#[derive(Debug)]
pub struct Object {
    /// What the backend knows about the whole object.
    pub attributes: Attributes,
    /// For a ranged read, the range the body holds.
    pub range: Option<ContentRange>,
    /// The bytes, as a stream: the whole object, or the range asked for.
    pub body: Body,
}

/// What a read found.
#[derive(Debug)]
pub enum GetOutcome {
    /// The object, or the range of it asked for.
    Found(Object),
    /// A condition says the caller's copy is current.
    NotModified(Attributes),
    /// The range starts past the end of an object of this size.
    RangeNotSatisfiable {
        /// The object's size in bytes.
        size: u64,
        /// The object's content type, when the backend knows it (the answer names the
        /// file as a full answer would).
        content_type: Option<String>,
    },
    /// No object at the key.
    NotFound,
}

/// One listed object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListItem {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its quoted entity tag, when the backend gives one.
    pub etag: Option<String>,
    /// When it was last written, when the backend says.
    pub modified: Option<SystemTime>,
}

/// One page of a listing; `next_cursor` continues it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPage {
    /// The objects of this page, in key order.
    pub items: Vec<ListItem>,
    /// Pass this back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The operations of PocketBase's file system, for one backend.
///
/// # Example
///
/// ```
/// use edgefs::storage::{GetOptions, GetOutcome, Memory, Storage, UploadOptions};
/// use edgefs::Body;
///
/// futures::executor::block_on(async {
///     let storage = Memory::new();
///     let options = UploadOptions::default().content_type("text/plain");
///     storage.upload("notes/hello.txt", Body::from("hello"), &options).await?;
///
///     let GetOutcome::Found(object) = storage.get("notes/hello.txt", &GetOptions::default()).await? else {
///         panic!("the object was just stored");
///     };
///     assert_eq!(object.attributes.size, 5);
///     assert_eq!(object.attributes.content_type.as_deref(), Some("text/plain"));
///     // The body streams; `collect` reads it whole, here up to 1 KiB.
///     assert_eq!(object.body.collect(1024).await?, "hello");
///
///     storage.delete("notes/hello.txt").await?;
///     assert!(storage.attributes("notes/hello.txt").await?.is_none());
///     Ok::<(), edgefs::Error>(())
/// })?;
/// # Ok::<(), edgefs::Error>(())
/// ```
pub trait Storage: MaybeSendSync {
    /// The backend's name, for messages (`memory`, `s3`, `kv`, `r2`).
    fn name(&self) -> &'static str;

    /// An object's attributes; `None` when there is no object at `key`.
    fn attributes<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Attributes>, Error>>;

    /// Reads an object, or part of it, unless a condition says not to.
    fn get<'a>(&'a self, key: &'a str, options: &'a GetOptions) -> BoxFuture<'a, Result<GetOutcome, Error>>;

    /// True when [`UploadOptions::condition`] is checked atomically with the write. A
    /// backend without (KV, an S3 server that ignores `If-Match`) stores every write:
    /// concurrent writers of one record then end with the last one's, and a file one of
    /// them replaced can stay behind.
    fn conditional_writes(&self) -> bool {
        false
    }

    /// Stores `body` at `key`, replacing what was there. The body streams; on failure
    /// nothing is left at `key` that was not there before.
    fn upload<'a>(&'a self, key: &'a str, body: Body, options: &'a UploadOptions) -> BoxFuture<'a, Result<(), Error>>;

    /// Copies an object; a missing source is an error whose `is_not_found()` is true.
    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// Deletes an object; deleting a missing key succeeds.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// Deletes every object whose key starts with `prefix`; returns how many.
    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<u64, Error>>;

    /// Objects whose keys start with `prefix`, in key order, at most `limit` a page.
    fn list<'a>(
        &'a self,
        prefix: &'a str,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ListPage, Error>>;
}

/// `exists`, built on `attributes`.
pub async fn exists(storage: &dyn Storage, key: &str) -> Result<bool, Error> {
    Ok(storage.attributes(key).await?.is_some())
}

/// An empty prefix would delete everything: refused.
pub(crate) fn check_prefix(prefix: &str) -> Result<(), Error> {
    if prefix.is_empty() {
        return Err(Error::InvalidInput("delete_prefix needs a non-empty prefix".into()));
    }
    Ok(())
}

/// Resolves a range against an object's size: the inclusive (first, last), or `None`
/// when it cannot be satisfied.
pub fn resolve_range(range: ByteRange, size: u64) -> Option<(u64, u64)> {
    match range {
        ByteRange::Inclusive(first, last) if first < size && first <= last => Some((first, last.min(size - 1))),
        ByteRange::From(first) if first < size => Some((first, size - 1)),
        ByteRange::Suffix(n) if n > 0 && size > 0 => Some((size.saturating_sub(n), size - 1)),
        _ => None,
    }
}

/// HTTP's rules for a conditional read: true when the caller's copy is current.
pub fn not_modified(attributes: &Attributes, options: &GetOptions) -> bool {
    if let Some(tags) = &options.if_none_match {
        let Some(etag) = attributes.etag.as_deref() else {
            return false;
        };
        return tags
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || weak_eq(tag, etag));
    }
    match (options.if_modified_since, attributes.modified) {
        // HTTP dates have whole seconds.
        (Some(since), Some(modified)) => crate::clock::unix_seconds(modified) <= crate::clock::unix_seconds(since),
        _ => false,
    }
}

fn weak_eq(a: &str, b: &str) -> bool {
    a.trim_start_matches("W/") == b.trim_start_matches("W/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_like_http() {
        assert_eq!(resolve_range(ByteRange::Inclusive(0, 9), 100), Some((0, 9)));
        assert_eq!(resolve_range(ByteRange::Inclusive(90, 200), 100), Some((90, 99)));
        assert_eq!(resolve_range(ByteRange::Inclusive(100, 200), 100), None);
        assert_eq!(resolve_range(ByteRange::Suffix(5), 100), Some((95, 99)));
        assert_eq!(resolve_range(ByteRange::Suffix(500), 100), Some((0, 99)));
        assert_eq!(resolve_range(ByteRange::Suffix(0), 100), None);
        assert_eq!(resolve_range(ByteRange::From(0), 0), None);
    }

    #[test]
    fn conditions_follow_http() {
        let modified = crate::clock::parse_iso8601("2024-01-01T00:00:00.500Z");
        let attributes = Attributes {
            etag: Some("\"abc\"".into()),
            modified,
            ..Default::default()
        };
        let none_match = |tag: &str| GetOptions {
            if_none_match: Some(tag.into()),
            ..Default::default()
        };
        assert!(not_modified(&attributes, &none_match("\"abc\"")));
        assert!(not_modified(&attributes, &none_match("\"x\", W/\"abc\"")));
        assert!(not_modified(&attributes, &none_match("*")));
        assert!(!not_modified(&attributes, &none_match("\"other\"")));
        let since = |t: &str| GetOptions {
            if_modified_since: crate::clock::parse_iso8601(t),
            ..Default::default()
        };
        assert!(not_modified(&attributes, &since("2024-01-01T00:00:00Z")));
        assert!(!not_modified(&attributes, &since("2023-12-31T23:59:59Z")));
    }
}
