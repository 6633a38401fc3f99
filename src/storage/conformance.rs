//! One conformance suite for every storage backend.
//!
//! It lives in the library rather than in `tests/` so the same checks run natively
//! (Memory, S3 against SeaweedFS and Garage) and inside workerd (KV, R2), where a test
//! Worker calls [`run`]. Each check works under its own key prefix.

use super::*;
use crate::s3::actions::ByteRange;
use bytes::Bytes;
use futures::TryStreamExt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One check's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The check's name (`upload_and_read_back`).
    pub name: &'static str,
    /// `Err` with what went wrong, when the check failed.
    pub result: Result<(), String>,
}

type Check = for<'a> fn(&'a dyn Storage, String) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), (|storage, prefix| Box::pin($name(storage, prefix))) as Check)),*]
    };
}

const CHECKS: &[(&str, Check)] = checks![
    upload_and_read_back,
    upload_from_a_stream_of_unknown_length,
    missing_keys,
    empty_object,
    ranges,
    conditional_reads,
    replace,
    conditional_writes,
    copy,
    delete,
    list_in_pages,
    delete_prefix,
    special_keys,
];

/// The names of the checks, in order.
pub fn names() -> Vec<&'static str> {
    CHECKS.iter().map(|(name, _)| *name).collect()
}

/// Runs every check (or those whose name contains `filter`) against `storage`, under
/// keys starting with `prefix`.
pub async fn run(storage: &dyn Storage, prefix: &str, filter: Option<&str>) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for (name, check) in CHECKS {
        if filter.is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let result = check(storage, format!("{prefix}{name}/")).await;
        outcomes.push(Outcome { name, result });
    }
    outcomes
}

async fn read(body: Body) -> Result<Vec<u8>, String> {
    body.into_stream()
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
        .map_err(|e| format!("reading the body failed: {e}"))
}

async fn found(storage: &dyn Storage, key: &str, options: &GetOptions) -> Result<Object, String> {
    match storage
        .get(key, options)
        .await
        .map_err(|e| format!("get {key:?}: {e}"))?
    {
        GetOutcome::Found(object) => Ok(object),
        other => Err(format!(
            "get {key:?} with {options:?}: expected the object, got {other:?}"
        )),
    }
}

fn failed(what: &str) -> impl Fn(Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

async fn upload_and_read_back(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    let key = format!("{prefix}photo.png");
    let options = UploadOptions::default()
        .content_type("image/png")
        .metadata("original", "cat.png");
    let data = Bytes::from_static(b"\x89PNG\r\n\x1a\n not really a png");
    storage
        .upload(&key, Body::from(data.clone()), &options)
        .await
        .map_err(failed("upload"))?;
    let attributes = storage
        .attributes(&key)
        .await
        .map_err(failed("attributes"))?
        .ok_or("attributes: missing after upload")?;
    ensure!(
        attributes.size == data.len() as u64,
        "size {} != {}",
        attributes.size,
        data.len()
    );
    ensure!(
        attributes.content_type.as_deref() == Some("image/png"),
        "content type {:?}",
        attributes.content_type
    );
    ensure!(
        attributes.metadata.get("original").map(String::as_str) == Some("cat.png"),
        "metadata {:?}",
        attributes.metadata
    );
    ensure!(
        attributes
            .etag
            .as_deref()
            .is_some_and(|e| e.starts_with('"') && e.ends_with('"')),
        "etag {:?}",
        attributes.etag
    );
    let modified = attributes.modified.ok_or("no modification time")?;
    let age = crate::clock::now().duration_since(modified).unwrap_or_default();
    ensure!(age < Duration::from_secs(600), "modification time {age:?} ago");
    ensure!(
        super::exists(storage, &key).await.map_err(failed("exists"))?,
        "exists() is false after upload"
    );
    let object = found(storage, &key, &GetOptions::default()).await?;
    ensure!(object.range.is_none(), "a full read has no range");
    ensure!(
        object.attributes.size == data.len() as u64,
        "get's size {}",
        object.attributes.size
    );
    ensure!(read(object.body).await? == data, "the bytes read back differ");
    Ok(())
}

async fn upload_from_a_stream_of_unknown_length(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    let key = format!("{prefix}streamed.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let chunks: Vec<Result<Bytes, edgefs_s3::Error>> =
        data.chunks(65_536).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let body = Body::from_stream(Box::pin(futures::stream::iter(chunks)), None);
    storage
        .upload(&key, body, &UploadOptions::default())
        .await
        .map_err(failed("upload"))?;
    let object = found(storage, &key, &GetOptions::default()).await?;
    ensure!(
        object.attributes.size == data.len() as u64,
        "size {}",
        object.attributes.size
    );
    ensure!(read(object.body).await? == data, "the bytes read back differ");
    Ok(())
}

async fn missing_keys(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    let key = format!("{prefix}never-written");
    ensure!(
        storage.attributes(&key).await.map_err(failed("attributes"))?.is_none(),
        "attributes of a missing key"
    );
    ensure!(
        !super::exists(storage, &key).await.map_err(failed("exists"))?,
        "a missing key exists"
    );
    let outcome = storage.get(&key, &GetOptions::default()).await.map_err(failed("get"))?;
    ensure!(
        matches!(outcome, GetOutcome::NotFound),
        "get of a missing key: {outcome:?}"
    );
    let copied = storage.copy(&key, &format!("{prefix}copy")).await;
    ensure!(
        copied.as_ref().is_err_and(|e| e.is_not_found()),
        "copy of a missing key: {copied:?}"
    );
    Ok(())
}

async fn empty_object(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    let key = format!("{prefix}empty");
    storage
        .upload(&key, Body::empty(), &UploadOptions::default())
        .await
        .map_err(failed("upload"))?;
    let object = found(storage, &key, &GetOptions::default()).await?;
    ensure!(object.attributes.size == 0, "size {}", object.attributes.size);
    ensure!(read(object.body).await?.is_empty(), "an empty object read back bytes");
    Ok(())
}

async fn ranges(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    let key = format!("{prefix}range.bin");
    let data: Vec<u8> = (0..100u8).collect();
    storage
        .upload(&key, Body::from(data.clone()), &UploadOptions::default())
        .await
        .map_err(failed("upload"))?;
    for (range, first, last) in [
        (ByteRange::Inclusive(10, 19), 10, 19),
        (ByteRange::Suffix(5), 95, 99),
        (ByteRange::From(90), 90, 99),
        (ByteRange::Inclusive(95, 500), 95, 99),
    ] {
        let object = found(
            storage,
            &key,
            &GetOptions {
                range: Some(range),
                ..Default::default()
            },
        )
        .await?;
        let got = object
            .range
            .ok_or_else(|| format!("{range:?}: no range in the answer"))?;
        ensure!(
            (got.first, got.last, got.total) == (first, last, Some(100)),
            "{range:?}: range {got:?}"
        );
        ensure!(
            object.attributes.size == 100,
            "{range:?}: the object's size is {}",
            object.attributes.size
        );
        let bytes = read(object.body).await?;
        ensure!(
            bytes == data[first as usize..=last as usize],
            "{range:?}: wrong bytes {bytes:?}"
        );
    }
    let outcome = storage
        .get(
            &key,
            &GetOptions {
                range: Some(ByteRange::Inclusive(100, 200)),
                ..Default::default()
            },
        )
        .await
        .map_err(failed("get"))?;
    ensure!(
        matches!(outcome, GetOutcome::RangeNotSatisfiable { size: 100, .. }),
        "a range past the end: {outcome:?}"
    );
    Ok(())
}

async fn conditional_reads(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    let key = format!("{prefix}conditional.txt");
    storage
        .upload(&key, Body::from("v1"), &UploadOptions::default())
        .await
        .map_err(failed("upload"))?;
    let attributes = storage
        .attributes(&key)
        .await
        .map_err(failed("attributes"))?
        .ok_or("missing")?;
    let etag = attributes.etag.clone().ok_or("no etag")?;
    let modified = attributes.modified.ok_or("no modification time")?;
    let outcome = storage
        .get(
            &key,
            &GetOptions {
                if_none_match: Some(etag.clone()),
                ..Default::default()
            },
        )
        .await;
    ensure!(
        matches!(outcome, Ok(GetOutcome::NotModified(_))),
        "If-None-Match with the ETag: {outcome:?}"
    );
    let other = GetOptions {
        if_none_match: Some("\"something-else\"".into()),
        ..Default::default()
    };
    ensure!(
        read(found(storage, &key, &other).await?.body).await? == b"v1",
        "If-None-Match with another tag"
    );
    let later = GetOptions {
        if_modified_since: Some(modified + Duration::from_secs(2)),
        ..Default::default()
    };
    let outcome = storage.get(&key, &later).await;
    ensure!(
        matches!(outcome, Ok(GetOutcome::NotModified(_))),
        "If-Modified-Since after the change: {outcome:?}"
    );
    let earlier = GetOptions {
        if_modified_since: Some(modified - Duration::from_secs(60)),
        ..Default::default()
    };
    found(storage, &key, &earlier).await?;
    Ok(())
}

async fn replace(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    let key = format!("{prefix}replaced.txt");
    storage
        .upload(
            &key,
            Body::from("first"),
            &UploadOptions::default().content_type("text/plain"),
        )
        .await
        .map_err(failed("upload"))?;
    storage
        .upload(
            &key,
            Body::from("second!"),
            &UploadOptions::default().content_type("text/markdown"),
        )
        .await
        .map_err(failed("upload"))?;
    let object = found(storage, &key, &GetOptions::default()).await?;
    ensure!(
        object.attributes.content_type.as_deref() == Some("text/markdown"),
        "content type {:?}",
        object.attributes.content_type
    );
    ensure!(read(object.body).await? == b"second!", "the replaced bytes differ");
    Ok(())
}

/// Where the backend says it checks write conditions, they hold: a new key only while
/// absent, a replacement only over the version read; a failed one stores nothing.
async fn conditional_writes(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    if !storage.conditional_writes() {
        return Ok(());
    }
    let key = format!("{prefix}versioned.json");
    let absent = UploadOptions::default().condition(WriteCondition::Absent);
    storage
        .upload(&key, Body::from("v1"), &absent)
        .await
        .map_err(failed("upload if absent"))?;
    let again = storage.upload(&key, Body::from("v1 again"), &absent).await;
    ensure!(
        again.as_ref().is_err_and(Error::is_conflict),
        "a second upload if absent: {again:?}"
    );
    let first = found(storage, &key, &GetOptions::default()).await?.attributes.etag;
    let first = first.ok_or("no ETag to compare")?;
    let matching = UploadOptions::default().condition(WriteCondition::Matches(first.clone()));
    storage
        .upload(&key, Body::from("v2"), &matching)
        .await
        .map_err(failed("upload over the version read"))?;
    let stale = storage.upload(&key, Body::from("v3"), &matching).await;
    ensure!(
        stale.as_ref().is_err_and(Error::is_conflict),
        "an upload over a stale version: {stale:?}"
    );
    let object = found(storage, &key, &GetOptions::default()).await?;
    ensure!(read(object.body).await? == b"v2", "a refused write changed the object");
    let missing = UploadOptions::default().condition(WriteCondition::Matches(first));
    let gone = storage
        .upload(&format!("{prefix}never.json"), Body::from("x"), &missing)
        .await;
    ensure!(
        gone.as_ref().is_err_and(Error::is_conflict),
        "an upload over a version of a missing key: {gone:?}"
    );
    Ok(())
}

async fn copy(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    let (from, to) = (
        format!("{prefix}original.json"),
        format!("{prefix}copies/copy of original.json"),
    );
    storage
        .upload(
            &from,
            Body::from("{\"a\":1}"),
            &UploadOptions::default().content_type("application/json"),
        )
        .await
        .map_err(failed("upload"))?;
    storage.copy(&from, &to).await.map_err(failed("copy"))?;
    let original = found(storage, &from, &GetOptions::default()).await?;
    let copied = found(storage, &to, &GetOptions::default()).await?;
    ensure!(
        copied.attributes.content_type.as_deref() == Some("application/json"),
        "the copy's content type {:?}",
        copied.attributes.content_type
    );
    ensure!(
        read(original.body).await? == read(copied.body).await?,
        "the copy's bytes differ"
    );
    Ok(())
}

async fn delete(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    let key = format!("{prefix}doomed.txt");
    storage
        .upload(&key, Body::from("bye"), &UploadOptions::default())
        .await
        .map_err(failed("upload"))?;
    storage.delete(&key).await.map_err(failed("delete"))?;
    ensure!(
        storage.attributes(&key).await.map_err(failed("attributes"))?.is_none(),
        "still there after delete"
    );
    storage.delete(&key).await.map_err(failed("deleting a missing key"))?;
    Ok(())
}

async fn list_in_pages(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    let names = ["a.txt", "b.txt", "c.txt", "dir/d.txt", "dir/e.txt"];
    for (i, name) in names.iter().enumerate() {
        storage
            .upload(
                &format!("{prefix}{name}"),
                Body::from(vec![b'x'; i + 1]),
                &UploadOptions::default(),
            )
            .await
            .map_err(failed("upload"))?;
    }
    // A sibling whose key shares the prefix without its slash must not be listed.
    let outside = format!("{}-outside", prefix.trim_end_matches('/'));
    storage
        .upload(&outside, Body::from("x"), &UploadOptions::default())
        .await
        .map_err(failed("upload"))?;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = storage
            .list(&prefix, cursor.as_deref(), 2)
            .await
            .map_err(failed("list"))?;
        ensure!(
            page.items.len() <= 2,
            "a page of {} items with limit 2",
            page.items.len()
        );
        seen.extend(page.items.into_iter().map(|item| (item.key, item.size)));
        pages += 1;
        ensure!(pages <= 10, "listing does not end");
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let expected: Vec<(String, u64)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("{prefix}{n}"), i as u64 + 1))
        .collect();
    ensure!(seen == expected, "listed {seen:?}, expected {expected:?}");
    ensure!(pages >= 3, "5 objects with 2 per page took {pages} pages");
    Ok(())
}

async fn delete_prefix(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    for name in ["keep.txt", "dir/a.txt", "dir/b.txt", "dir/sub/c.txt"] {
        storage
            .upload(&format!("{prefix}{name}"), Body::from("x"), &UploadOptions::default())
            .await
            .map_err(failed("upload"))?;
    }
    let deleted = storage
        .delete_prefix(&format!("{prefix}dir/"))
        .await
        .map_err(failed("delete_prefix"))?;
    ensure!(deleted == 3, "deleted {deleted}, expected 3");
    let left: Vec<String> = storage
        .list(&prefix, None, 100)
        .await
        .map_err(failed("list"))?
        .items
        .into_iter()
        .map(|i| i.key)
        .collect();
    ensure!(left == [format!("{prefix}keep.txt")], "left {left:?}");
    ensure!(
        storage.delete_prefix("").await.is_err(),
        "an empty prefix must be refused"
    );
    Ok(())
}

async fn special_keys(storage: &dyn Storage, prefix: String) -> Result<(), String> {
    for name in ["with space.txt", "plus+sign", "percent%2F.txt", "ünïcödé/日本.txt"] {
        let key = format!("{prefix}{name}");
        storage
            .upload(&key, Body::from(name.to_owned()), &UploadOptions::default())
            .await
            .map_err(failed(&key))?;
        let object = found(storage, &key, &GetOptions::default()).await?;
        ensure!(
            read(object.body).await? == name.as_bytes(),
            "{key:?} read back other bytes"
        );
    }
    let listed = storage
        .list(&prefix, None, 100)
        .await
        .map_err(failed("list"))?
        .items
        .len();
    ensure!(listed == 4, "listed {listed} of 4 special keys");
    Ok(())
}
