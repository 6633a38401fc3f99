//! `/api/collections/{collectionIdOrName}/records[/{id}]`: PocketBase's record routes.
//!
//! Statuses follow PocketBase: a `null` rule for anyone but a superuser is 403 "Only
//! superusers can perform this action."; a view, update or delete rule that denies is
//! 404, like a missing record; a create rule that fails is 400 "Failed to create
//! record."; a list rule filters. Files come with a multipart form, under the field's
//! name (replace), `name+` (append); `name-` names files to remove. Files are stored
//! first and the record last, so a failure leaves no record pointing at a missing
//! file, and the uploads of a failed request are deleted again. Replaced and removed
//! files are deleted after the record is saved.

use super::app::App;
use super::auth::Caller;
use super::form::FormFile;
use super::{bad_request, error, internal, json, no_content, with_data, Submission};
use crate::collections::{Access, Collection, Collections, FieldKind};
use crate::error::Quoted;
use crate::files::{content_type_for, extension_for, sanitize};
use crate::records::{normalize, FieldError, FieldErrors, ListQuery, Record, RecordStore};
use crate::rules::Context;
use crate::storage::{Storage, UploadOptions, WriteCondition};
use crate::transport::Body;
use http::{Request, Response, StatusCode};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// PocketBase's default `maxSize` of a file field: 5 MiB.
const DEFAULT_MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;

const ONLY_SUPERUSERS: &str = "Only superusers can perform this action.";

/// PocketBase's date format: `2026-11-25 07:14:44.186Z`.
fn now_text() -> String {
    crate::clock::iso8601(crate::clock::now()).replacen('T', " ", 1)
}

/// The collection a request addresses, and the backend its records and files are in.
struct Target {
    collections: Arc<Collections>,
    id: String,
    storage: Arc<dyn Storage>,
    /// Where the records are: the database, or objects in `storage`.
    records: Arc<dyn RecordStore>,
    /// Whether removed files are dropped from the edge cache (it is on).
    edge_cache: bool,
}

impl Target {
    fn collection(&self) -> &Collection {
        self.collections
            .get(&self.id)
            .expect("the collection was found when the target was opened")
    }
}

/// PocketBase's 404 for an unknown collection on the routes that read records
/// (list, view, delete)…
const MISSING_COLLECTION: &str = "Missing collection context.";
/// …and on those that take a body (create, update), and the files route.
pub(crate) const MISSING_OR_INVALID_COLLECTION: &str = "Missing or invalid collection context.";

/// The collection `collection` names, once the caller may use the route at all: a
/// missing collection is the 404 `missing` (PocketBase's words differ per route), a
/// `null` rule for anyone but a superuser 403.
async fn open(
    app: &App,
    collection: &str,
    caller: &Caller,
    rule: fn(&Collection) -> &Access,
    missing: &str,
) -> Result<Target, Response<Body>> {
    let loaded = app.loaded().await.map_err(|e| internal(&e))?;
    let Some(found) = loaded.collections.get(collection) else {
        return Err(error(StatusCode::NOT_FOUND, missing));
    };
    if superusers_only(rule(found), caller) {
        return Err(error(StatusCode::FORBIDDEN, ONLY_SUPERUSERS));
    }
    let id = found.id.clone();
    let storage = loaded.storage.clone().map_err(|e| internal(&e))?;
    Ok(Target {
        collections: loaded.collections,
        id,
        records: app.records(&storage),
        storage,
        edge_cache: !app.edge_cache_time().is_zero(),
    })
}

/// Whether `rule` lets the caller act on `record`; superusers always may.
fn allows(access: &Access, caller: &Caller, body: Option<&Map<String, Value>>, method: &str, record: &Record) -> bool {
    if caller.is_superuser() {
        return true;
    }
    match access {
        Access::SuperusersOnly => false,
        Access::Rule(rule) => rule.allows(&Context {
            auth: caller.auth.as_ref(),
            body,
            method,
            record: Some(record),
        }),
    }
}

fn superusers_only(access: &Access, caller: &Caller) -> bool {
    matches!(access, Access::SuperusersOnly) && !caller.is_superuser()
}

/// A record as the caller may see it: hidden fields only for superusers, and edgefs's
/// own `created`/`updated` only where the collection declares them.
fn visible(collection: &Collection, mut record: Record, caller: &Caller) -> Record {
    for internal in ["created", "updated"] {
        if collection.field(internal).is_none() {
            record.remove(internal);
        }
    }
    if !caller.is_superuser() {
        for field in collection.fields.iter().filter(|f| f.hidden) {
            record.remove(&field.name);
        }
    }
    record
}

/// PocketBase's `fields` query parameter: the record keys to answer (comma-separated;
/// `*` is every key). A modifier such as `:excerpt(200)` is not applied: the field comes
/// whole. `None` when the request names no fields.
fn fields_param(uri: &http::Uri) -> Option<Vec<String>> {
    let text = super::query_param(uri, "fields")?;
    let names: Vec<String> = text
        .split(',')
        .map(|name| name.split(':').next().unwrap_or("").trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    (!names.is_empty() && !names.iter().any(|name| name == "*")).then_some(names)
}

/// Only the keys `fields` names, when it names any.
fn pick(mut record: Record, fields: Option<&[String]>) -> Record {
    if let Some(fields) = fields {
        record.retain(|key, _| fields.iter().any(|name| name == key));
    }
    record
}

/// `GET …/records`
pub(crate) async fn list(app: &App, caller: &Caller, request: &Request<Body>, collection: &str) -> Response<Body> {
    let target = match open(app, collection, caller, |c| &c.list_rule, MISSING_COLLECTION).await {
        Ok(target) => target,
        Err(refusal) => return refusal,
    };
    let collection = target.collection();
    let params = super::query_pairs(request.uri());
    let query = match ListQuery::from_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(query) => query,
        Err(_) => return bad_request(),
    };
    // As PocketBase: a filter or sort naming a field the collection lacks is a 400, and
    // so is one naming a hidden field, unless a superuser asks (otherwise `~` would let
    // anyone who may list recover a hidden value a character at a time). The list rule
    // itself may use hidden fields: the collection's owner wrote it.
    let searchable: Vec<_> = collection
        .fields
        .iter()
        .filter(|f| caller.is_superuser() || !f.hidden)
        .cloned()
        .collect();
    let known =
        |name: &str| crate::collections::SYSTEM_FIELDS.contains(&name) || searchable.iter().any(|f| f.name == name);
    let filter_ok = params
        .iter()
        .filter(|(k, _)| k == "filter")
        .all(|(_, text)| crate::collections::parse_access(Some(text), &searchable).is_ok());
    if !filter_ok || !query.sort.iter().all(|sort| known(&sort.field)) {
        return bad_request();
    }
    let context = Context {
        auth: caller.auth.as_ref(),
        body: None,
        method: "GET",
        record: None,
    };
    // The list rule, unless a superuser asks (`open` refused a superusers-only rule).
    let rule = match &collection.list_rule {
        Access::Rule(rule) if !caller.is_superuser() => Some(rule),
        _ => None,
    };
    let mut result = match target.records.list(collection, &query, rule, &context).await {
        Ok(result) => result,
        // A limit of the store (the object store's listing, D1's query size), named.
        Err(crate::Error::InvalidInput(why)) => {
            return error(StatusCode::BAD_REQUEST, &format!("Cannot list the records: {why}."))
        }
        Err(e) => return internal(&format!("cannot list the records: {e}")),
    };
    let fields = fields_param(request.uri());
    result.items = result
        .items
        .into_iter()
        .map(|record| pick(visible(collection, record, caller), fields.as_deref()))
        .collect();
    json(StatusCode::OK, &result)
}

/// `GET …/records/{id}`
pub(crate) async fn view(
    app: &App,
    caller: &Caller,
    request: &Request<Body>,
    collection: &str,
    id: &str,
) -> Response<Body> {
    let target = match open(app, collection, caller, |c| &c.view_rule, MISSING_COLLECTION).await {
        Ok(target) => target,
        Err(refusal) => return refusal,
    };
    let collection = target.collection();
    match target.records.get(collection, id).await {
        Ok(Some(record)) if allows(&collection.view_rule, caller, None, "GET", &record) => {
            let fields = fields_param(request.uri());
            json(
                StatusCode::OK,
                &pick(visible(collection, record, caller), fields.as_deref()),
            )
        }
        Ok(_) => super::not_found(),
        Err(e) => internal(&format!("cannot read the record: {e}")),
    }
}

/// `POST …/records`
pub(crate) async fn create(app: &App, caller: &Caller, submission: Submission, collection: &str) -> Response<Body> {
    let target = match open(
        app,
        collection,
        caller,
        |c| &c.create_rule,
        MISSING_OR_INVALID_COLLECTION,
    )
    .await
    {
        Ok(target) => target,
        Err(refusal) => return refusal,
    };
    let collection = target.collection();
    let (body, files) = match submission.read(app, body_limit(collection)).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let store = target.records.clone();

    let mut errors = FieldErrors::new();
    let id = match body.get("id") {
        None | Some(Value::Null) => crate::records::new_id(),
        Some(Value::String(id)) if id.is_empty() => crate::records::new_id(),
        Some(Value::String(id)) if valid_new_id(id) => id.clone(),
        Some(_) => {
            errors.insert(
                "id".to_owned(),
                FieldError::new("validation_invalid_format", "Must be 15 characters of a-z and 0-9.").into(),
            );
            String::new()
        }
    };
    let mut record = match normalize(collection, &body, None) {
        Ok(record) => record,
        Err(field_errors) => {
            errors.extend(field_errors);
            body.clone()
        }
    };
    let plan = match plan_files(collection, None, &body, files, &mut record) {
        Ok(plan) => Some(plan),
        Err(field_errors) => {
            errors.extend(field_errors);
            None
        }
    };
    record.insert("id".into(), json!(id));
    record.insert("collectionId".into(), json!(collection.id));
    record.insert("collectionName".into(), json!(collection.name));
    crate::records::stamp(collection, &mut record, true, &now_text());

    // The rule first, as PocketBase: a caller it refuses learns nothing about the fields.
    if !allows(&collection.create_rule, caller, Some(&body), "POST", &record) {
        return error(StatusCode::BAD_REQUEST, "Failed to create record.");
    }
    if errors.is_empty() {
        match store.get(collection, &id).await {
            Ok(None) => {}
            Ok(Some(_)) => {
                errors.insert(
                    "id".into(),
                    FieldError::new("validation_invalid_id", "The record id is invalid or already exists.").into(),
                );
            }
            Err(e) => return internal(&format!("cannot check the record id: {e}")),
        }
    }
    let Some(plan) = plan.filter(|_| errors.is_empty()) else {
        return validation_failed("Failed to create record.", errors);
    };
    save(&target, store.as_ref(), caller, record, plan, None).await
}

/// `PATCH …/records/{id}`
pub(crate) async fn update(
    app: &App,
    caller: &Caller,
    submission: Submission,
    collection: &str,
    id: &str,
) -> Response<Body> {
    let target = match open(
        app,
        collection,
        caller,
        |c| &c.update_rule,
        MISSING_OR_INVALID_COLLECTION,
    )
    .await
    {
        Ok(target) => target,
        Err(refusal) => return refusal,
    };
    let collection = target.collection();
    let store = target.records.clone();
    let (existing, version) = match store.get_versioned(collection, id).await {
        Ok(Some(read)) => read,
        Ok(None) => return super::not_found(),
        Err(e) => return internal(&format!("cannot read the record: {e}")),
    };
    let (body, files) = match submission.read(app, body_limit(collection)).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    if !allows(&collection.update_rule, caller, Some(&body), "PATCH", &existing) {
        return super::not_found();
    }
    let mut errors = FieldErrors::new();
    if body.get("id").is_some_and(|given| given.as_str() != Some(id)) {
        errors.insert(
            "id".to_owned(),
            FieldError::new("validation_invalid_value", "The id of a record cannot change.").into(),
        );
    }
    let mut record = match normalize(collection, &body, Some(&existing)) {
        Ok(record) => record,
        Err(field_errors) => {
            errors.extend(field_errors);
            existing.clone()
        }
    };
    let plan = match plan_files(collection, Some(&existing), &body, files, &mut record) {
        Ok(plan) => Some(plan),
        Err(field_errors) => {
            errors.extend(field_errors);
            None
        }
    };
    let Some(plan) = plan.filter(|_| errors.is_empty()) else {
        return validation_failed("Failed to update record.", errors);
    };
    crate::records::stamp(collection, &mut record, false, &now_text());
    let change = Change {
        body: &body,
        before: existing,
        version,
    };
    save(&target, store.as_ref(), caller, record, plan, Some(change)).await
}

/// `DELETE …/records/{id}`: the record, then its files.
pub(crate) async fn delete(app: &App, caller: &Caller, collection: &str, id: &str) -> Response<Body> {
    let target = match open(app, collection, caller, |c| &c.delete_rule, MISSING_COLLECTION).await {
        Ok(target) => target,
        Err(refusal) => return refusal,
    };
    let collection = target.collection();
    let store = target.records.clone();
    let record = match store.get(collection, id).await {
        Ok(Some(record)) => record,
        Ok(None) => return super::not_found(),
        Err(e) => return internal(&format!("cannot read the record: {e}")),
    };
    if !allows(&collection.delete_rule, caller, None, "DELETE", &record) {
        return super::not_found();
    }
    if let Err(e) = store.delete(collection, id).await {
        return internal(&format!("cannot delete the record: {e}"));
    }
    let prefix = format!("{}/{}/", collection.id, id);
    if let Err(e) = target.storage.delete_prefix(&prefix).await {
        return internal(&format!("the record is deleted but its files are not: {e}"));
    }
    let mut answer = no_content();
    if target.edge_cache {
        let keys = super::edge_cache::record_keys(collection, &record);
        answer.extensions_mut().insert(super::edge_cache::EdgeCache::Drop(keys));
    }
    answer
}

/// PocketBase's body limit for a record route: 32 MiB, plus `maxSize × maxSelect` of
/// every file field.
fn body_limit(collection: &Collection) -> u64 {
    let files: u64 = collection
        .file_fields()
        .map(|field| match &field.kind {
            FieldKind::File {
                max_size, max_select, ..
            } => {
                let size = if *max_size == 0 {
                    DEFAULT_MAX_FILE_SIZE
                } else {
                    *max_size
                };
                size.saturating_mul(u64::from(*max_select))
            }
            _ => 0,
        })
        .sum();
    (32 * 1024 * 1024u64).saturating_add(files)
}

fn valid_new_id(id: &str) -> bool {
    id.len() == 15 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn validation_failed(message: &str, errors: FieldErrors) -> Response<Body> {
    let data = Value::Object(errors);
    with_data(StatusCode::BAD_REQUEST, message, data)
}

/// An update, as `save` needs it to write the record as a compare-and-swap: the request
/// body, the record it was applied to, and that record's version.
struct Change<'a> {
    body: &'a Map<String, Value>,
    before: Record,
    version: Option<String>,
}

/// How often an update is applied again to a record another request changed meanwhile.
const UPDATE_ATTEMPTS: usize = 8;

/// Uploads, then the record, then deletes replaced files. On failure, the uploads are
/// deleted again and the stored record is as it was.
///
/// Where the backend checks conditions atomically, the record is written only if it is
/// still the one read (an update) or still absent (a create). When another request
/// changed it meanwhile, the update is applied again to what is stored now — its fields,
/// and its file changes: the files it added and removed — and written again, as if the
/// two requests had come one after the other. So no record ever names a file another
/// request deleted, and no replaced file stays behind.
async fn save(
    target: &Target,
    store: &dyn RecordStore,
    caller: &Caller,
    mut record: Record,
    plan: FilePlan,
    change: Option<Change<'_>>,
) -> Response<Body> {
    let collection = target.collection();
    let id = record["id"].as_str().unwrap_or_default().to_owned();
    let uploaded = match store_uploads(target, &id, plan.uploads).await {
        Ok(uploaded) => uploaded,
        Err(failure) => return internal(&failure),
    };
    let conditional = store.conditional_writes();
    let mut removed = plan.removed;
    let (mut version, ours) = match &change {
        Some(change) => (change.version.clone(), Some((&change.before, record.clone()))),
        None => (None, None),
    };
    let mut attempts = 0;
    loop {
        let condition = match (&change, conditional) {
            (_, false) => None,
            (None, true) => Some(WriteCondition::Absent),
            (Some(_), true) => version.clone().map(WriteCondition::Matches),
        };
        let error = match store.put_if(collection, &record, condition).await {
            Ok(()) => break,
            Err(error) => error,
        };
        attempts += 1;
        let answer = match (&change, &ours) {
            (Some(change), Some((before, after))) if error.is_conflict() && attempts < UPDATE_ATTEMPTS => {
                match store.get_versioned(collection, &id).await {
                    Ok(Some((now, now_version))) => {
                        if !allows(&collection.update_rule, caller, Some(change.body), "PATCH", &now) {
                            super::not_found()
                        } else {
                            match reapply(collection, change.body, before, after, &now) {
                                Ok((again, again_removed)) => {
                                    record = again;
                                    removed = again_removed;
                                    version = now_version;
                                    continue;
                                }
                                Err(errors) => validation_failed("Failed to update record.", errors),
                            }
                        }
                    }
                    // Deleted meanwhile.
                    Ok(None) => super::not_found(),
                    Err(e) => internal(&format!("cannot read the record: {e}")),
                }
            }
            // A create whose id another request took meanwhile.
            (None, _) if error.is_conflict() => {
                let mut errors = FieldErrors::new();
                errors.insert(
                    "id".into(),
                    FieldError::new("validation_invalid_id", "The record id is invalid or already exists.").into(),
                );
                validation_failed("Failed to create record.", errors)
            }
            _ => internal(&format!("cannot store the record: {error}")),
        };
        discard(target, &uploaded).await;
        return answer;
    }
    for name in &removed {
        // The record no longer names it: a failed delete leaves an unreachable object,
        // never a broken record.
        let _ = target
            .storage
            .delete(&crate::files::key(&collection.id, &id, name))
            .await;
    }
    let mut answer = json(StatusCode::OK, &visible(collection, record, caller));
    if !removed.is_empty() && target.edge_cache {
        let keys = super::edge_cache::file_keys(collection, &id, &removed);
        answer.extensions_mut().insert(super::edge_cache::EdgeCache::Drop(keys));
    }
    answer
}

/// Stores each upload; on a failure, deletes those stored and answers what failed.
async fn store_uploads(target: &Target, id: &str, uploads: Vec<Upload>) -> Result<Vec<String>, String> {
    let collection = target.collection();
    let mut uploaded = Vec::new();
    for upload in uploads {
        let key = crate::files::key(&collection.id, id, &upload.stored_name);
        let options = UploadOptions::default().content_type(upload.content_type.clone());
        if let Err(e) = target.storage.upload(&key, upload.file.body, &options).await {
            discard(target, &uploaded).await;
            return Err(format!("cannot store the file {}: {e}", Quoted(&upload.file.filename)));
        }
        uploaded.push(key);
    }
    Ok(uploaded)
}

async fn discard(target: &Target, keys: &[String]) {
    for key in keys {
        let _ = target.storage.delete(key).await;
    }
}

/// An update applied again to the record as it is `now`: the body's fields as they
/// apply to it, and the update's own file changes (the names `before` → `after` added
/// and dropped) on its files. Answers the record and the files it no longer names.
fn reapply(
    collection: &Collection,
    body: &Map<String, Value>,
    before: &Record,
    after: &Record,
    now: &Record,
) -> Result<(Record, Vec<String>), FieldErrors> {
    let mut record = normalize(collection, body, Some(now))?;
    let mut errors = FieldErrors::new();
    let mut removed = Vec::new();
    for field in collection.file_fields() {
        let FieldKind::File { max_select, .. } = &field.kind else {
            continue;
        };
        let name = &field.name;
        let (before, after, current) = (
            names_of(before.get(name)),
            names_of(after.get(name)),
            names_of(now.get(name)),
        );
        let mut names: Vec<String> = current
            .iter()
            .filter(|n| !before.contains(n) || after.contains(n))
            .cloned()
            .collect();
        for added in after.iter().filter(|n| !before.contains(n)) {
            if !names.contains(added) {
                names.push(added.clone());
            }
        }
        if *max_select <= 1 && names.len() > 1 {
            names.drain(..names.len() - 1);
        }
        if names.len() as u64 > u64::from(*max_select) {
            errors.insert(
                name.clone(),
                FieldError::new(
                    "validation_too_many_files",
                    format!("The maximum allowed files is {max_select}."),
                )
                .with_params(json!({"maxSelect": max_select}))
                .into(),
            );
            continue;
        }
        if names.is_empty() && field.required {
            errors.insert(
                name.clone(),
                FieldError::new("validation_required", "Cannot be blank.").into(),
            );
            continue;
        }
        removed.extend(current.iter().filter(|n| !names.contains(n)).cloned());
        let value = if *max_select <= 1 {
            json!(names.first().cloned().unwrap_or_default())
        } else {
            json!(names)
        };
        record.insert(name.clone(), value);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    crate::records::stamp(collection, &mut record, false, &now_text());
    Ok((record, removed))
}

struct Upload {
    stored_name: String,
    content_type: String,
    file: FormFile,
}

/// What a request does to the files: what to store, and which old files to delete.
struct FilePlan {
    uploads: Vec<Upload>,
    removed: Vec<String>,
}

fn names_of(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(name)) if !name.is_empty() => vec![name.clone()],
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Applies the file fields of a request to `record` and checks them with PocketBase's
/// codes: `validation_invalid_file`, `validation_too_many_files`,
/// `validation_file_size_limit`, `validation_invalid_mime_type`, `validation_required`.
fn plan_files(
    collection: &Collection,
    existing: Option<&Record>,
    body: &Map<String, Value>,
    files: Vec<FormFile>,
    record: &mut Record,
) -> Result<FilePlan, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut plan = FilePlan {
        uploads: Vec::new(),
        removed: Vec::new(),
    };
    let mut files: Vec<Option<FormFile>> = files.into_iter().map(Some).collect();
    for field in collection.file_fields() {
        let FieldKind::File {
            max_select,
            max_size,
            mime_types,
            ..
        } = &field.kind
        else {
            continue;
        };
        let name = &field.name;
        let current = names_of(existing.and_then(|r| r.get(name)));
        let mut take = |key: &str| -> Vec<FormFile> {
            files
                .iter_mut()
                .filter(|f| f.as_ref().is_some_and(|f| f.field == *key))
                .filter_map(Option::take)
                .collect()
        };
        let replacing = take(name);
        let appending = take(&format!("{name}+"));
        let mut names = if body.contains_key(name) {
            let given = names_of(body.get(name));
            let unknown: Vec<&str> = given
                .iter()
                .filter(|n| !current.contains(n))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                // `[a b]`: how PocketBase's message template shows a list.
                let message = format!("Invalid new files: [{}].", unknown.join(" "));
                errors.insert(name.clone(), FieldError::new("validation_invalid_file", message).into());
                continue;
            }
            given
        } else if !replacing.is_empty() {
            Vec::new()
        } else {
            current.clone()
        };
        let removing = names_of(body.get(&format!("{name}-")));
        names.retain(|n| !removing.contains(n));

        let max_size = if *max_size == 0 {
            DEFAULT_MAX_FILE_SIZE
        } else {
            *max_size
        };
        let mut field_error = None;
        let mut uploads = Vec::new();
        let mut incoming: Vec<FormFile> = replacing.into_iter().chain(appending).collect();
        if *max_select <= 1 && incoming.len() > 1 {
            // A single-file field keeps the last file sent, as PocketBase does.
            incoming.drain(..incoming.len() - 1);
        }
        for file in incoming {
            let content_type = content_type_for(&file.head);
            let essence = content_type.split(';').next().unwrap_or("").trim().to_owned();
            let stored_name = sanitize(&file.filename, extension_for(&essence));
            if file.size > max_size {
                field_error.get_or_insert(
                    FieldError::new(
                        "validation_file_size_limit",
                        format!(
                            "Failed to upload {} - the maximum allowed file size is {max_size} bytes.",
                            file.filename
                        ),
                    )
                    .with_params(json!({"file": file.filename, "maxSize": max_size})),
                );
            } else if !mime_types.is_empty() && !mime_types.iter().any(|t| t.eq_ignore_ascii_case(&essence)) {
                field_error.get_or_insert(FieldError::new(
                    "validation_invalid_mime_type",
                    format!(
                        "{stored_name} mime type must be one of: {}.",
                        mime_types.join(", "),
                        stored_name = Quoted(&stored_name)
                    ),
                ));
            }
            names.push(stored_name.clone());
            uploads.push(Upload {
                stored_name,
                content_type,
                file,
            });
        }
        if *max_select <= 1 && names.len() > 1 {
            // A single-file field holds the newest file (`cover+` on a record with a
            // cover replaces it), as in PocketBase.
            names.drain(..names.len() - 1);
            uploads.retain(|upload: &Upload| names.contains(&upload.stored_name));
        }
        if field_error.is_none() && names.len() as u64 > u64::from(*max_select) {
            field_error = Some(
                FieldError::new(
                    "validation_too_many_files",
                    format!("The maximum allowed files is {max_select}."),
                )
                .with_params(json!({"maxSelect": max_select})),
            );
        }
        if field_error.is_none() && names.is_empty() && field.required {
            field_error = Some(FieldError::new("validation_required", "Cannot be blank."));
        }
        if let Some(error) = field_error {
            errors.insert(name.clone(), error.into());
            continue;
        }
        plan.removed
            .extend(current.iter().filter(|n| !names.contains(n)).cloned());
        plan.uploads.extend(uploads);
        let value = if *max_select <= 1 {
            json!(names.first().cloned().unwrap_or_default())
        } else {
            json!(names)
        };
        record.insert(name.clone(), value);
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(errors)
    }
}
