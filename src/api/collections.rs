//! `GET /api/collections[/{idOrName}]` and `PUT /api/collections/import`, for superusers.

use super::app::App;
use super::auth::Caller;
use super::{internal, json, no_content, not_found, with_data};
use crate::collections::Collections;
use crate::records::ListQuery;
use crate::transport::Body;
use http::{Request, Response, StatusCode};
use serde_json::{json, Value};

/// `GET /api/collections`: PocketBase's paged list (`page`, `perPage`).
pub(crate) async fn list(app: &App, caller: &Caller, request: &Request<Body>) -> Response<Body> {
    if let Err(denied) = caller.require_superuser() {
        return denied;
    }
    let loaded = match app.loaded().await {
        Ok(loaded) => loaded,
        Err(e) => return internal(&e),
    };
    let params = super::query_pairs(request.uri());
    let page_params = params
        .iter()
        .filter(|(k, _)| k == "page" || k == "perPage")
        .map(|(k, v)| (k.as_str(), v.as_str()));
    let query = ListQuery::from_params(page_params).unwrap_or_default();
    let items: Vec<Value> = loaded.collections.iter().map(|c| c.to_value()).collect();
    let total = items.len();
    let range = crate::records::page_range(query.page, query.per_page, total);
    let page: Vec<Value> = items.into_iter().skip(range.start).take(range.len()).collect();
    json(
        StatusCode::OK,
        &json!({
            "page": query.page,
            "perPage": query.per_page,
            "totalItems": total,
            "totalPages": total.div_ceil(query.per_page.max(1)),
            "items": page,
        }),
    )
}

/// `GET /api/collections/{idOrName}`
pub(crate) async fn view(app: &App, caller: &Caller, id_or_name: &str) -> Response<Body> {
    if let Err(denied) = caller.require_superuser() {
        return denied;
    }
    match app.loaded().await {
        Ok(loaded) => match loaded.collections.get(id_or_name) {
            Some(collection) => json(StatusCode::OK, &collection.to_value()),
            None => not_found(),
        },
        Err(e) => internal(&e),
    }
}

/// `PUT /api/collections/import` `{collections: [...], deleteMissing}` → 204. Every
/// rule is parsed first; a bad one rejects the whole import and nothing changes.
pub(crate) async fn import(app: &App, caller: &Caller, body: Result<Value, Response<Body>>) -> Response<Body> {
    if let Err(denied) = caller.require_superuser() {
        return denied;
    }
    let body = match body {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    // A value of the wrong type does not load (PocketBase's binding error); an empty or
    // missing list does not validate.
    let loads = |name: &str, is_type: fn(&Value) -> bool| body.get(name).is_none_or(|v| v.is_null() || is_type(v));
    if !loads("collections", Value::is_array) || !loads("deleteMissing", Value::is_boolean) {
        return super::not_loaded("`collections` must be a list and `deleteMissing` true or false");
    }
    let incoming = match body.get("collections") {
        Some(Value::Array(items)) if !items.is_empty() => items.clone(),
        _ => {
            return with_data(
                StatusCode::BAD_REQUEST,
                "An error occurred while validating the submitted data.",
                json!({"collections": {"code": "validation_required", "message": "Cannot be blank."}}),
            )
        }
    };
    let delete_missing = body.get("deleteMissing").and_then(Value::as_bool).unwrap_or(false);
    let loaded = match app.loaded().await {
        Ok(loaded) => loaded,
        Err(e) => return internal(&e),
    };
    let imported: Collections = match loaded.collections.import(incoming, delete_missing) {
        Ok(collections) => collections,
        Err(e) => return with_data(StatusCode::BAD_REQUEST, "Failed to import collections.", e.data()),
    };
    let before = loaded.collections.clone();
    if let Err(e) = app.save_collections(imported.clone()).await {
        return internal(&format!("cannot save the collections: {e}"));
    }
    // The record tables follow (a table a failed migration left behind is made on
    // first use).
    if let Some(database) = app.database() {
        if let Err(e) = crate::records::sql::SqlRecords::new(database)
            .sync(&before, &imported)
            .await
        {
            return internal(&format!(
                "the collections are saved but their record tables are not: {e}"
            ));
        }
    }
    no_content()
}
