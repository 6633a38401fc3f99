//! The in-memory backend: PocketBase's local disk, standing in for it where there is
//! no disk (a Worker without bindings, the component, tests). Clones share one store.

use super::*;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use md5::{Digest, Md5};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
struct Entry {
    bytes: Bytes,
    attributes: Attributes,
}

/// An in-memory backend. Clones share one store; it lives as long as they do.
#[derive(Clone, Default)]
pub struct Memory {
    objects: Arc<Mutex<BTreeMap<String, Entry>>>,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Memory({} objects)",
            self.objects.lock().map(|o| o.len()).unwrap_or(0)
        )
    }
}

impl Memory {
    /// An empty store.
    pub fn new() -> Self {
        Memory::default()
    }

    fn objects(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.objects.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn entry(&self, key: &str) -> Option<Entry> {
        self.objects().get(key).cloned()
    }
}

fn check_key(key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::InvalidInput("an object key must not be empty".into()));
    }
    Ok(())
}

fn not_found(key: &str) -> Error {
    Error::NotFound {
        backend: "memory",
        key: key.to_owned(),
    }
}

impl Storage for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn conditional_writes(&self) -> bool {
        true
    }

    fn attributes<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Attributes>, Error>> {
        Box::pin(async move { Ok(self.entry(key).map(|e| e.attributes)) })
    }

    fn get<'a>(&'a self, key: &'a str, options: &'a GetOptions) -> BoxFuture<'a, Result<GetOutcome, Error>> {
        Box::pin(async move {
            let Some(entry) = self.entry(key) else {
                return Ok(GetOutcome::NotFound);
            };
            if not_modified(&entry.attributes, options) {
                return Ok(GetOutcome::NotModified(entry.attributes));
            }
            let size = entry.attributes.size;
            let (body, range) = match options.range {
                None => (entry.bytes, None),
                Some(range) => match resolve_range(range, size) {
                    Some((first, last)) => (
                        entry.bytes.slice(first as usize..=last as usize),
                        Some(ContentRange {
                            first,
                            last,
                            total: Some(size),
                        }),
                    ),
                    None => {
                        return Ok(GetOutcome::RangeNotSatisfiable {
                            size,
                            content_type: entry.attributes.content_type.clone(),
                        })
                    }
                },
            };
            Ok(GetOutcome::Found(Object {
                attributes: entry.attributes,
                range,
                body: Body::from_bytes(body),
            }))
        })
    }

    fn upload<'a>(&'a self, key: &'a str, body: Body, options: &'a UploadOptions) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            check_key(key)?;
            // Read the whole body first: a failed stream leaves the old object in place.
            let bytes = match body.into_bytes() {
                Ok(bytes) => bytes,
                Err(body) => {
                    let mut buffer = BytesMut::new();
                    let mut stream = body.into_stream();
                    while let Some(chunk) = stream.next().await {
                        buffer.extend_from_slice(&chunk?);
                    }
                    buffer.freeze()
                }
            };
            let attributes = Attributes {
                size: bytes.len() as u64,
                content_type: options.content_type.clone(),
                etag: Some(format!("\"{}\"", hex::encode(Md5::digest(&bytes)))),
                modified: Some(crate::clock::now()),
                metadata: options.metadata.clone(),
            };
            let mut objects = self.objects();
            // Checked and written under one lock: a compare-and-swap.
            let holds = match &options.condition {
                None => true,
                Some(WriteCondition::Absent) => !objects.contains_key(key),
                Some(WriteCondition::Matches(etag)) => objects
                    .get(key)
                    .is_some_and(|entry| entry.attributes.etag.as_deref() == Some(etag.as_str())),
            };
            if !holds {
                return Err(Error::Conflict {
                    backend: "memory",
                    key: key.to_owned(),
                });
            }
            objects.insert(key.to_owned(), Entry { bytes, attributes });
            Ok(())
        })
    }

    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            check_key(to)?;
            let mut objects = self.objects();
            let mut entry = objects.get(from).cloned().ok_or_else(|| not_found(from))?;
            entry.attributes.modified = Some(crate::clock::now());
            objects.insert(to.to_owned(), entry);
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.objects().remove(key);
            Ok(())
        })
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            check_prefix(prefix)?;
            let mut objects = self.objects();
            let before = objects.len();
            objects.retain(|key, _| !key.starts_with(prefix));
            Ok((before - objects.len()) as u64)
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ListPage, Error>> {
        Box::pin(async move {
            let limit = limit.max(1);
            let objects = self.objects();
            let start = cursor.unwrap_or(prefix);
            let mut items: Vec<ListItem> = objects
                .range::<str, _>((std::ops::Bound::Included(start), std::ops::Bound::Unbounded))
                .filter(|(key, _)| cursor != Some(key.as_str()))
                .take_while(|(key, _)| key.starts_with(prefix))
                .take(limit + 1)
                .map(|(key, entry)| ListItem {
                    key: key.clone(),
                    size: entry.attributes.size,
                    etag: entry.attributes.etag.clone(),
                    modified: entry.attributes.modified,
                })
                .collect();
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|item| item.key.clone())
            } else {
                None
            };
            Ok(ListPage { items, next_cursor })
        })
    }
}
