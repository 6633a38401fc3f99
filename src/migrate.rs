//! Moves every object from one backend to another, a batch at a time from a cursor:
//! each body streamed from source to destination, an object the destination already
//! holds identically skipped, every copy verified before the source may be deleted.
//!
//! What is copied: the files (`{collectionId}/{recordId}/{filename}`, PocketBase's
//! layout) and edgefs's record JSON (`.edgefs/records/…`) — not the settings (which
//! hold the S3 secret) nor the collections, which live in the config store, nor the S3
//! test's probes. A batch never fails as a whole for one object: it lists that object
//! with its reason and goes on. Run again from the start, it copies nothing already
//! there; resumed from a batch's cursor, it goes on where that one ended.

use crate::error::Error;
use crate::storage::{Attributes, GetOptions, GetOutcome, ListItem, Storage, UploadOptions};
use futures::StreamExt;
use serde::Serialize;

/// The user metadata name under which a copy keeps its source's MD5, so a copy whose
/// own ETag is not an MD5 (a multipart upload's) is still known to be identical.
pub const MD5_METADATA: &str = "edgefs-md5";

/// How a batch runs.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Objects looked at in this batch (listed from the cursor on).
    pub limit: usize,
    /// Objects copied at once.
    pub concurrency: usize,
    /// Only report what would be copied: nothing is written or deleted.
    pub dry_run: bool,
    /// Delete each source object once its copy is verified (never before).
    pub delete_source: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limit: 100,
            concurrency: 4,
            dry_run: false,
            delete_source: false,
        }
    }
}

/// An object that was not copied, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Its key.
    pub key: String,
    /// What went wrong, as the backend said it.
    pub reason: String,
}

/// What one batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Batch {
    /// Objects copied (and verified).
    pub copied: u64,
    /// Objects the destination already held identically.
    pub skipped: u64,
    /// Objects not copied.
    pub failed: Vec<Failure>,
    /// Bytes copied.
    pub bytes: u64,
    /// Source objects deleted after their copy was verified.
    pub deleted: u64,
    /// Where the next batch starts; `None` when this one reached the end.
    pub cursor: Option<String>,
    /// True when the source has nothing after this batch.
    pub done: bool,
    /// The last key this batch looked at.
    pub last: Option<String>,
}

/// What one object came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Copied (or, in a dry run, would be): this many bytes; and whether the source
    /// object was then deleted.
    Copied(u64, bool),
    /// Already at the destination, identical; and whether the source was deleted.
    Skipped(bool),
    /// Not copied: why.
    Failed(String),
}

/// True for the keys a migration moves.
pub fn migrates(key: &str) -> bool {
    !key.starts_with(".edgefs/") || key.starts_with(".edgefs/records/")
}

/// The object's MD5 in hex, when its attributes tell it: the copy's own record of its
/// source's, or an ETag that is a plain MD5 (not a multipart upload's `…-N`).
pub fn content_md5(
    etag: Option<&str>,
    metadata: Option<&std::collections::BTreeMap<String, String>>,
) -> Option<String> {
    if let Some(md5) = metadata.and_then(|m| m.get(MD5_METADATA)) {
        return Some(md5.to_ascii_lowercase());
    }
    let etag = etag?.trim_start_matches("W/").trim_matches('"');
    (etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit())).then(|| etag.to_ascii_lowercase())
}

/// True when `destination` holds the same bytes as the source: the same size and the
/// same MD5. Without an MD5 on both sides nothing is assumed: the object is copied.
pub fn identical(source_size: u64, source_md5: Option<&str>, destination: &Attributes) -> bool {
    let destination_md5 = content_md5(destination.etag.as_deref(), Some(&destination.metadata));
    destination.size == source_size && source_md5.is_some() && source_md5 == destination_md5.as_deref()
}

/// Migrates one object. `listed` is the source's listing entry for it.
pub async fn migrate_one(from: &dyn Storage, to: &dyn Storage, listed: &ListItem, options: &Options) -> Outcome {
    match copy_verified(from, to, listed, options).await {
        Ok(outcome) => outcome,
        Err(error) => Outcome::Failed(error.to_string()),
    }
}

async fn copy_verified(
    from: &dyn Storage,
    to: &dyn Storage,
    listed: &ListItem,
    options: &Options,
) -> Result<Outcome, Error> {
    let key = listed.key.as_str();
    // The listing's ETag when it is an MD5; otherwise the source's own attributes.
    let mut source_md5 = content_md5(listed.etag.as_deref(), None);
    if source_md5.is_none() {
        if let Some(attributes) = from.attributes(key).await? {
            source_md5 = content_md5(attributes.etag.as_deref(), Some(&attributes.metadata));
        }
    }
    if let Some(existing) = to.attributes(key).await? {
        if identical(listed.size, source_md5.as_deref(), &existing) {
            let delete = options.delete_source && !options.dry_run;
            if delete {
                from.delete(key).await?;
            }
            return Ok(Outcome::Skipped(delete));
        }
    }
    if options.dry_run {
        return Ok(Outcome::Copied(listed.size, false));
    }
    let object = match from.get(key, &GetOptions::default()).await? {
        GetOutcome::Found(object) => object,
        // Deleted since it was listed: nothing to move.
        _ => return Ok(Outcome::Skipped(false)),
    };
    let size = object.attributes.size;
    let mut metadata = object.attributes.metadata.clone();
    if let Some(md5) = &source_md5 {
        metadata.insert(MD5_METADATA.into(), md5.clone());
    }
    let upload = UploadOptions {
        content_type: object.attributes.content_type.clone(),
        metadata,
        condition: None,
    };
    to.upload(key, object.body, &upload).await?;
    let copy = to.attributes(key).await?;
    let verified = copy.as_ref().is_some_and(|copy| match &source_md5 {
        Some(md5) => identical(size, Some(md5), copy),
        None => copy.size == size,
    });
    if !verified {
        return Err(Error::backend(
            to.name(),
            format!(
                "the copy does not match the source: {} bytes, MD5 {} at the source; {:?} at the destination",
                size,
                source_md5.as_deref().unwrap_or("unknown"),
                copy.map(|c| (c.size, c.etag))
            ),
        ));
    }
    if options.delete_source {
        from.delete(key).await?;
    }
    Ok(Outcome::Copied(size, options.delete_source))
}

/// One batch: up to `options.limit` source objects from `cursor` on, `options.concurrency`
/// at a time. An error listing the source is the batch's error; an object's error is
/// in [`Batch::failed`].
pub async fn migrate_batch(
    from: &dyn Storage,
    to: &dyn Storage,
    cursor: Option<&str>,
    options: &Options,
) -> Result<Batch, Error> {
    let page = from.list("", cursor, options.limit.clamp(1, 1000)).await?;
    let mut batch = Batch {
        last: page.items.last().map(|item| item.key.clone()),
        ..Batch::default()
    };
    let wanted: Vec<&ListItem> = page.items.iter().filter(|item| migrates(&item.key)).collect();
    let mut outcomes = futures::stream::iter(
        wanted
            .into_iter()
            .map(|item| async move { (item, migrate_one(from, to, item, options).await) }),
    )
    .buffer_unordered(options.concurrency.max(1));
    while let Some((item, outcome)) = outcomes.next().await {
        match outcome {
            Outcome::Copied(bytes, deleted) => {
                batch.copied += 1;
                batch.bytes += bytes;
                batch.deleted += u64::from(deleted);
            }
            Outcome::Skipped(deleted) => {
                batch.skipped += 1;
                batch.deleted += u64::from(deleted);
            }
            Outcome::Failed(reason) => batch.failed.push(Failure {
                key: item.key.clone(),
                reason,
            }),
        }
    }
    batch.failed.sort_by(|a, b| a.key.cmp(&b.key));
    batch.done = page.next_cursor.is_none();
    batch.cursor = page.next_cursor;
    Ok(batch)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::storage::Memory;
    use crate::transport::Body;

    fn put(storage: &Memory, key: &str, bytes: &'static str) {
        futures::executor::block_on(storage.upload(
            key,
            Body::from(bytes),
            &UploadOptions::default().content_type("text/plain"),
        ))
        .unwrap();
    }

    fn run_all(from: &Memory, to: &Memory, options: Options) -> Batch {
        let mut total = Batch::default();
        let mut cursor = None;
        loop {
            let batch = futures::executor::block_on(migrate_batch(from, to, cursor.as_deref(), &options)).unwrap();
            total.copied += batch.copied;
            total.skipped += batch.skipped;
            total.bytes += batch.bytes;
            total.deleted += batch.deleted;
            total.failed.extend(batch.failed);
            if batch.done {
                return total;
            }
            cursor = batch.cursor;
        }
    }

    #[test]
    fn copies_files_and_records_skips_what_is_there_and_leaves_the_settings() {
        let (from, to) = (Memory::new(), Memory::new());
        put(&from, "posts/r1/a.txt", "a file");
        put(&from, "posts/r2/b.txt", "another file");
        put(&from, ".edgefs/records/posts/r1.json", "{}");
        put(&from, ".edgefs/settings.json", "{\"s3\":{\"secret\":\"x\"}}");
        put(&from, ".edgefs/probe-1/probe.txt", "probe");
        let options = Options {
            limit: 2,
            ..Options::default()
        };
        let first = run_all(&from, &to, options);
        assert_eq!((first.copied, first.skipped, first.bytes), (3, 0, 20));
        assert!(first.failed.is_empty());
        let copied = futures::executor::block_on(to.list("", None, 100)).unwrap();
        let keys: Vec<&str> = copied.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [".edgefs/records/posts/r1.json", "posts/r1/a.txt", "posts/r2/b.txt"]
        );
        let again = run_all(&from, &to, options);
        assert_eq!((again.copied, again.skipped), (0, 3), "a second run copies nothing");
        // A changed source object is copied again.
        put(&from, "posts/r1/a.txt", "a changed file");
        assert_eq!(run_all(&from, &to, options).copied, 1);
    }

    #[test]
    fn a_dry_run_writes_nothing_and_delete_source_deletes_only_what_was_verified() {
        let (from, to) = (Memory::new(), Memory::new());
        put(&from, "posts/r1/a.txt", "a file");
        let dry = run_all(
            &from,
            &to,
            Options {
                dry_run: true,
                delete_source: true,
                ..Options::default()
            },
        );
        assert_eq!((dry.copied, dry.deleted), (1, 0));
        assert!(futures::executor::block_on(to.list("", None, 10))
            .unwrap()
            .items
            .is_empty());
        let moved = run_all(
            &from,
            &to,
            Options {
                delete_source: true,
                ..Options::default()
            },
        );
        assert_eq!((moved.copied, moved.deleted), (1, 1));
        assert!(futures::executor::block_on(from.list("", None, 10))
            .unwrap()
            .items
            .is_empty());
    }

    #[test]
    fn identity_needs_an_md5_on_both_sides() {
        let attributes = |etag: &str| Attributes {
            size: 3,
            etag: Some(etag.into()),
            ..Attributes::default()
        };
        let md5 = "900150983cd24fb0d6963f7d28e17f72";
        assert!(identical(3, Some(md5), &attributes(&format!("\"{md5}\""))));
        assert!(!identical(4, Some(md5), &attributes(&format!("\"{md5}\""))));
        assert!(
            !identical(3, Some(md5), &attributes("\"0123-2\"")),
            "a multipart ETag proves nothing"
        );
        assert!(!identical(3, None, &attributes(&format!("\"{md5}\""))));
        let mut multipart = attributes("\"abc-3\"");
        multipart.metadata.insert(MD5_METADATA.into(), md5.into());
        assert!(
            identical(3, Some(md5), &multipart),
            "the copy's own record of its source's MD5"
        );
    }
}
