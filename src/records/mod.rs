//! Records: PocketBase's record JSON kept as one object per record in the active
//! storage backend (the Worker keeps no state of its own), read by id with one request.
//!
//! Records live at `.edgefs/records/{collectionId}/{recordId}.json`, apart from the files
//! at `{collectionId}/{recordId}/{filename}` (PocketBase's layout), so that listing a
//! collection's records does not walk its files.

mod query;
pub mod sql;
mod validate;

pub use query::{page_range, page_size, ListQuery, ListResult, Sort};
pub use validate::{normalize, FieldError, FieldErrors};

use crate::collections::Collection;
use crate::error::Error;
use crate::error::Quoted;
use crate::rules::{Context, Rule};
use crate::storage::{GetOptions, GetOutcome, Storage, UploadOptions, WriteCondition};
use crate::transport::{Body, BoxFuture, MaybeSendSync};
use futures::StreamExt;
use serde_json::{Map, Value};

/// How many record reads a listing keeps in flight.
const LIST_READ_CONCURRENCY: usize = 16;

/// A record: `id`, `collectionId`, `collectionName`, `created`, `updated` and the fields.
pub type Record = Map<String, Value>;

/// Sets the server's timestamps on a record being created (`creating`) or updated: the
/// collection's `autodate` fields (`onCreate` on creation, `onUpdate` on both), and
/// edgefs's own `created` and `updated`, which order a list without `sort` (insertion
/// order, as PocketBase's rowid) and which the API shows only when the collection
/// declares fields of those names — as PocketBase, whose records have them only then.
pub fn stamp(collection: &Collection, record: &mut Record, creating: bool, now: &str) {
    for field in &collection.fields {
        if let crate::collections::FieldKind::Autodate { on_create, on_update } = field.kind {
            if on_update || (creating && on_create) {
                record.insert(field.name.clone(), Value::String(now.to_owned()));
            }
        }
    }
    // edgefs's own, where the collection has no field of that name (a declared one,
    // autodate or not, is the collection's to fill).
    if creating && collection.field("created").is_none() {
        record.insert("created".into(), Value::String(now.to_owned()));
    }
    if collection.field("updated").is_none() {
        record.insert("updated".into(), Value::String(now.to_owned()));
    }
}

/// A record and its version (the ETag of what is stored).
pub type Versioned = (Record, Option<String>);

/// Where records are kept.
pub trait RecordStore: MaybeSendSync {
    /// The record `id`; `None` when there is none.
    fn get<'a>(&'a self, collection: &'a Collection, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>>;
    /// Stores the record under its `id`, replacing what was there.
    fn put<'a>(&'a self, collection: &'a Collection, record: &'a Record) -> BoxFuture<'a, Result<(), Error>> {
        self.put_if(collection, record, None)
    }
    /// The record `id` and its version (the ETag of what is stored), for a later
    /// [`RecordStore::put_if`]; `None` when there is none.
    fn get_versioned<'a>(
        &'a self,
        collection: &'a Collection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Versioned>, Error>>;
    /// Stores the record if `condition` holds (where the backend can check it
    /// atomically: [`crate::storage::Storage::conditional_writes`]); [`Error::Conflict`]
    /// when it does not.
    fn put_if<'a>(
        &'a self,
        collection: &'a Collection,
        record: &'a Record,
        condition: Option<WriteCondition>,
    ) -> BoxFuture<'a, Result<(), Error>>;
    /// Deletes the record `id`; deleting a missing record succeeds.
    fn delete<'a>(&'a self, collection: &'a Collection, id: &'a str) -> BoxFuture<'a, Result<(), Error>>;
    /// Every record of a collection.
    fn all<'a>(&'a self, collection: &'a Collection) -> BoxFuture<'a, Result<Vec<Record>, Error>>;
    /// True when [`RecordStore::put_if`] checks its condition atomically.
    fn conditional_writes(&self) -> bool;
    /// A page of the records that pass `rule` (the list rule; `None` lets every record
    /// through) and the query's filter, in its order. By default every record is read
    /// and the query applied here.
    fn list<'a>(
        &'a self,
        collection: &'a Collection,
        query: &'a ListQuery,
        rule: Option<&'a Rule>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<ListResult, Error>> {
        Box::pin(async move {
            let records = self.all(collection).await?;
            Ok(query.apply(records, context, |record| {
                rule.is_none_or(|rule| {
                    rule.allows(&Context {
                        record: Some(record),
                        ..*context
                    })
                })
            }))
        })
    }
}

/// The default store: records as JSON objects in a [`Storage`] backend. A list reads
/// every record of the collection, one request each: past `list_limit` records it is
/// refused with [`Error::InvalidInput`] naming the limit, before any is read.
pub struct StorageRecords<S> {
    storage: S,
    list_limit: Option<usize>,
}

impl<S> StorageRecords<S> {
    /// Records kept in `storage`, at [`record_key`], listed without a limit.
    pub fn new(storage: S) -> Self {
        StorageRecords {
            storage,
            list_limit: None,
        }
    }

    /// The most records a list may read (`None`: no limit).
    pub fn with_list_limit(mut self, limit: Option<usize>) -> Self {
        self.list_limit = limit;
        self
    }
}

/// The most records a list on `backend` reads by default: what one Worker request may
/// ask of it. S3 is reached by `fetch`, 50 subrequests a request on the Workers Free
/// plan (less the listing and the settings); R2 and KV binding calls have about 1,000.
pub fn default_list_limit(backend: &str) -> Option<usize> {
    match backend {
        "s3" => Some(40),
        "r2" | "kv" => Some(900),
        _ => None,
    }
}

/// The key of a record's JSON.
pub fn record_key(collection_id: &str, record_id: &str) -> String {
    format!(".edgefs/records/{collection_id}/{record_id}.json")
}

/// A new record id: 15 characters of `[a-z0-9]`, as PocketBase makes them.
pub fn new_id() -> String {
    crate::random::string(15, crate::random::LOWERCASE_ALPHANUMERIC)
}

/// True for a string that can be a record id (and so a storage key segment).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 100 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

async fn read_json(storage: &dyn Storage, key: &str) -> Result<Option<Record>, Error> {
    Ok(read_versioned(storage, key).await?.map(|(record, _)| record))
}

async fn read_versioned(storage: &dyn Storage, key: &str) -> Result<Option<Versioned>, Error> {
    let object = match storage.get(key, &GetOptions::default()).await? {
        GetOutcome::Found(object) => object,
        _ => return Ok(None),
    };
    let etag = object.attributes.etag.clone();
    let bytes = object.body.collect(16 * 1024 * 1024).await?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(record)) => Ok(Some((record, etag))),
        _ => Err(Error::backend(
            storage.name(),
            format!("the record at {key} is not a JSON object", key = Quoted(key)),
        )),
    }
}

impl<S: AsRef<dyn Storage> + MaybeSendSync> RecordStore for StorageRecords<S> {
    fn get<'a>(&'a self, collection: &'a Collection, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>> {
        Box::pin(async move {
            if !valid_id(id) {
                return Ok(None);
            }
            read_json(self.storage.as_ref(), &record_key(&collection.id, id)).await
        })
    }

    fn get_versioned<'a>(
        &'a self,
        collection: &'a Collection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Versioned>, Error>> {
        Box::pin(async move {
            if !valid_id(id) {
                return Ok(None);
            }
            read_versioned(self.storage.as_ref(), &record_key(&collection.id, id)).await
        })
    }

    fn put_if<'a>(
        &'a self,
        collection: &'a Collection,
        record: &'a Record,
        condition: Option<WriteCondition>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let id = record.get("id").and_then(Value::as_str).unwrap_or_default();
            if !valid_id(id) {
                return Err(Error::InvalidInput(format!("invalid record id {id}", id = Quoted(id))));
            }
            let json = Value::Object(record.clone()).to_string();
            let mut options = UploadOptions::default().content_type("application/json");
            options.condition = condition;
            self.storage
                .as_ref()
                .upload(&record_key(&collection.id, id), Body::from(json), &options)
                .await
        })
    }

    fn delete<'a>(&'a self, collection: &'a Collection, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if !valid_id(id) {
                return Ok(());
            }
            self.storage.as_ref().delete(&record_key(&collection.id, id)).await
        })
    }

    fn all<'a>(&'a self, collection: &'a Collection) -> BoxFuture<'a, Result<Vec<Record>, Error>> {
        Box::pin(async move {
            let keys = self.keys(collection).await?;
            self.read_all(&keys).await
        })
    }

    fn conditional_writes(&self) -> bool {
        self.storage.as_ref().conditional_writes()
    }

    fn list<'a>(
        &'a self,
        collection: &'a Collection,
        query: &'a ListQuery,
        rule: Option<&'a Rule>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<ListResult, Error>> {
        Box::pin(async move {
            let keys = self.keys(collection).await?;
            if let Some(limit) = self.list_limit.filter(|limit| keys.len() > *limit) {
                return Err(Error::InvalidInput(format!(
                    "the collection {name} has {count} records, more than the {limit} a list may read from the {backend} \
                     backend in one request: bind a D1 database for records (README, Records), or raise RECORDS_LIST_LIMIT \
                     if your plan allows more subrequests",
                    name = Quoted(&collection.name),
                    count = keys.len(),
                    backend = self.storage.as_ref().name(),
                )));
            }
            let records = self.read_all(&keys).await?;
            Ok(query.apply(records, context, |record| {
                rule.is_none_or(|rule| {
                    rule.allows(&Context {
                        record: Some(record),
                        ..*context
                    })
                })
            }))
        })
    }
}

impl<S: AsRef<dyn Storage> + MaybeSendSync> StorageRecords<S> {
    /// The keys of a collection's records, listed 1,000 to a request.
    async fn keys(&self, collection: &Collection) -> Result<Vec<String>, Error> {
        let storage = self.storage.as_ref();
        let prefix = format!(".edgefs/records/{}/", collection.id);
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = storage.list(&prefix, cursor.as_deref(), 1000).await?;
            keys.extend(page.items.into_iter().map(|item| item.key));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    /// The records at `keys`, several reads in flight (a listing costs one round trip
    /// per record); a record deleted meanwhile is left out.
    async fn read_all(&self, keys: &[String]) -> Result<Vec<Record>, Error> {
        let storage = self.storage.as_ref();
        // Boxed: the compiler cannot see through a closure's future that it is `Send`.
        let futures: Vec<BoxFuture<'_, Result<Option<Record>, Error>>> = keys
            .iter()
            .map(|key| Box::pin(read_json(storage, key)) as BoxFuture<'_, _>)
            .collect();
        let mut reads = futures::stream::iter(futures).buffered(LIST_READ_CONCURRENCY);
        let mut records = Vec::new();
        while let Some(record) = reads.next().await {
            if let Some(record) = record? {
                records.push(record);
            }
        }
        Ok(records)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::collections::Collections;
    use crate::storage::Memory;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn records_round_trip_through_storage() {
        let collections = Collections::defaults();
        let posts = collections.get("posts").unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Memory::new());
        let store = StorageRecords::new(storage.clone());
        futures::executor::block_on(async {
            let id = new_id();
            assert_eq!(id.len(), 15);
            let record = crate::collections::object(json!({"id": id, "title": "hello", "collectionId": posts.id}));
            store.put(posts, &record).await.unwrap();
            assert_eq!(store.get(posts, &id).await.unwrap(), Some(record.clone()));
            assert!(storage.attributes(&record_key(&posts.id, &id)).await.unwrap().is_some());
            assert_eq!(store.all(posts).await.unwrap().len(), 1);
            assert_eq!(
                store.get(posts, "../../etc").await.unwrap(),
                None,
                "ids never become paths"
            );
            store.delete(posts, &id).await.unwrap();
            assert_eq!(store.get(posts, &id).await.unwrap(), None);
        });
    }
}
