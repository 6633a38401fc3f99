//! `GET`/`HEAD /api/files/{collectionIdOrName}/{recordId}/{filename}`.
//!
//! The file must be a value of one of the record's file fields. A protected file needs
//! a file token in `?token=` whose auth passes the view rule; with
//! `enforceViewRuleOnFiles` every file needs the view rule to pass (auth from `?token=`
//! or `Authorization`). Every denial is the same 404 as a missing file. The body is
//! the backend's own stream, handed on untouched.

use super::app::App;
use super::auth::{verify, Caller};
use super::edge_cache::EdgeCache;
use super::{internal, not_found, query_param};
use crate::collections::{Access, Collection, FieldKind};
use crate::files::{respond, serve, ServeOptions};
use crate::records::Record;
use crate::rules::Context;
use crate::transport::Body;
use http::{Request, Response};
use serde_json::Value;

/// The file field of `record` that holds `filename`, if any.
fn field_holding<'a>(
    collection: &'a Collection,
    record: &Record,
    filename: &str,
) -> Option<&'a crate::collections::Field> {
    collection.file_fields().find(|field| match record.get(&field.name) {
        Some(Value::String(name)) => name == filename,
        Some(Value::Array(names)) => names.iter().any(|name| name.as_str() == Some(filename)),
        _ => false,
    })
}

pub(crate) async fn download(
    app: &App,
    request: &Request<Body>,
    header_caller: &Caller,
    collection: &str,
    record_id: &str,
    filename: &str,
) -> Response<Body> {
    let loaded = match app.loaded().await {
        Ok(loaded) => loaded,
        Err(e) => return internal(&e),
    };
    let Some(collection) = loaded.collections.get(collection) else {
        return super::error(
            http::StatusCode::NOT_FOUND,
            super::records::MISSING_OR_INVALID_COLLECTION,
        );
    };
    let storage = match &loaded.storage {
        Ok(storage) => storage.clone(),
        Err(e) => return internal(e),
    };
    if filename.is_empty() || filename.contains(['/', '\\']) || filename.starts_with('.') {
        return not_found();
    }
    let key = crate::files::key(&collection.id, record_id, filename);
    // The object is read beside the record (one round trip instead of two); it is
    // served only once the record and the rules below allow it, and dropped otherwise.
    let records = app.records(&storage);
    let (record, early) = match crate::files::single_read(request.headers()) {
        Some(read) => {
            let (record, object) = futures::join!(records.get(collection, record_id), storage.get(&key, &read));
            (record, Some(object))
        }
        None => (records.get(collection, record_id).await, None),
    };
    let record = match record {
        Ok(Some(record)) => record,
        Ok(None) => return not_found(),
        Err(e) => return internal(&format!("cannot read the record: {e}")),
    };
    let Some(field) = field_holding(collection, &record, filename) else {
        return not_found();
    };
    let protected = matches!(field.kind, FieldKind::File { protected: true, .. });
    if protected || collection.enforce_view_rule_on_files {
        let token = query_param(request.uri(), "token").unwrap_or_default();
        let token_caller = verify(app, &token, "file");
        // A protected file takes its auth from `?token=` only.
        let caller = if protected || token_caller.auth.is_some() {
            &token_caller
        } else {
            header_caller
        };
        let allowed = caller.is_superuser()
            || match &collection.view_rule {
                Access::SuperusersOnly => false,
                Access::Rule(rule) => rule.allows(&Context {
                    auth: caller.auth.as_ref(),
                    body: None,
                    method: "GET",
                    record: Some(&record),
                }),
            };
        if !allowed {
            return not_found();
        }
    }
    if let Some(error) = app.edge_cache_error() {
        return internal(error);
    }
    let download = super::edge_cache::wants_download(request.uri());
    let options = ServeOptions {
        filename,
        download,
        // Rule-gated files are personal: no shared cache may keep them.
        protected: protected || collection.enforce_view_rule_on_files,
        head: request.method() == http::Method::HEAD,
    };
    let public = !options.protected;
    let answer = match early {
        Some(outcome) => outcome.map(|outcome| serve(outcome, &options)),
        None => respond(storage.as_ref(), &key, request.headers(), &options).await,
    };
    match answer {
        Ok(Some(mut answer)) => {
            // A whole public answer may be kept at the edge (HEAD has no body to keep).
            let time = app.edge_cache_time();
            if public && !time.is_zero() && !options.head && answer.status() == http::StatusCode::OK {
                let key = super::edge_cache::key(collection, record_id, filename, download);
                answer.extensions_mut().insert(EdgeCache::Keep { key, time });
            }
            answer
        }
        Ok(None) => not_found(),
        Err(e) => internal(&format!("cannot read the file: {e}")),
    }
}
