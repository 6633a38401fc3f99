//! `GET /api/storage` (which backend serves files now, and which a migration may name)
//! and `POST /api/storage/migrate` (one batch of [`crate::migrate`] between two of them),
//! for superusers.

use super::app::App;
use super::auth::Caller;
use super::{json, with_data};
use crate::migrate::{migrate_batch, Options};
use crate::s3::S3Settings;
use crate::storage::Storage;
use crate::transport::Body;
use http::{Response, StatusCode};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Objects per call by default, and at most: each object costs a few subrequests (a
/// look at the destination, the read, the write, the check), so 10 stay under the
/// Workers free plan's 50; `limit` raises it, up to what the paid plan's 1000 allow.
pub const DEFAULT_LIMIT: usize = 10;
/// The most objects one call may take.
pub const MAX_LIMIT: usize = 200;

/// The names a migration may give a backend here.
fn backend_names(app: &App) -> Vec<&'static str> {
    let mut names = Vec::new();
    if app.local_store().is_some() {
        names.push("local");
    }
    if app.r2_store().is_some() {
        names.push("r2");
    }
    names.push("s3");
    names
}

/// `GET /api/storage`
pub(crate) async fn get(app: &App, caller: &Caller) -> Response<Body> {
    if let Err(refusal) = caller.require_superuser() {
        return refusal;
    }
    let loaded = match app.loaded().await {
        Ok(loaded) => loaded,
        Err(e) => return super::internal(&e),
    };
    let active = match &loaded.storage {
        Ok(storage) => storage.name(),
        Err(_) => "unavailable",
    };
    json(
        StatusCode::OK,
        &json!({
            "active": active,
            "backends": backend_names(app),
            "s3": {"enabled": loaded.settings.s3.enabled, "bucket": loaded.settings.s3.bucket},
        }),
    )
}

/// A backend by the name a request gives it, or an explicit S3 settings object.
async fn backend(app: &App, value: Option<&Value>, field: &str) -> Result<Arc<dyn Storage>, (String, String)> {
    let invalid = |message: String| (field.to_owned(), message);
    match value {
        Some(Value::String(name)) if name == "local" => app
            .local_store()
            .ok_or_else(|| invalid("No KV namespace is bound, and memory is used only when nothing is.".into())),
        Some(Value::String(name)) if name == "r2" => app
            .r2_store()
            .ok_or_else(|| invalid("No R2 bucket is bound (binding BUCKET).".into())),
        Some(Value::String(name)) if name == "s3" => {
            let loaded = app.loaded().await.map_err(invalid)?;
            let settings = &loaded.settings.s3;
            if settings.bucket.is_empty() || settings.endpoint.is_empty() {
                return Err(invalid(
                    "No S3 settings are saved: save them first, or give them here.".into(),
                ));
            }
            app.platform()
                .s3_storage(settings)
                .map_err(|e| invalid(format!("The saved S3 settings cannot be used: {e}")))
        }
        Some(Value::Object(object)) => {
            let settings = S3Settings::from_json(&Value::Object(object.clone()).to_string())
                .map_err(|e| invalid(format!("Invalid S3 settings: {e}")))?;
            app.platform()
                .s3_storage(&settings)
                .map_err(|e| invalid(format!("The S3 settings cannot be used: {e}")))
        }
        _ => Err(invalid("Must be \"local\", \"r2\", \"s3\" or S3 settings.".into())),
    }
}

fn field_error(field: &str, message: &str) -> Value {
    json!({ field: {"code": "validation_invalid_value", "message": message} })
}

/// `POST /api/storage/migrate`
pub(crate) async fn migrate(app: &App, caller: &Caller, body: Result<Value, Response<Body>>) -> Response<Body> {
    if let Err(refusal) = caller.require_superuser() {
        return refusal;
    }
    let body = match body {
        Ok(Value::Object(body)) => body,
        Ok(_) => return super::error(StatusCode::BAD_REQUEST, "The request body must be a JSON object."),
        Err(answer) => return answer,
    };
    let failed = |data: Value| with_data(StatusCode::BAD_REQUEST, "Failed to migrate.", data);
    let (from, to) = match (
        backend(app, body.get("from"), "from").await,
        backend(app, body.get("to"), "to").await,
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (Err((field, message)), _) | (_, Err((field, message))) => return failed(field_error(&field, &message)),
    };
    if same_backend(&body) {
        return failed(field_error("to", "Must not be the backend migrated from."));
    }
    let flag = |name: &str| body.get(name).and_then(Value::as_bool).unwrap_or(false);
    let limit = match body.get("limit") {
        None | Some(Value::Null) => DEFAULT_LIMIT,
        Some(value) => match value.as_u64() {
            Some(n) if (1..=MAX_LIMIT as u64).contains(&n) => n as usize,
            _ => {
                return failed(field_error(
                    "limit",
                    &format!("Must be a whole number from 1 to {MAX_LIMIT}."),
                ))
            }
        },
    };
    let cursor = match body.get("cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(cursor)) => Some(cursor.clone()),
        Some(_) => return failed(field_error("cursor", "Must be the cursor of the previous answer.")),
    };
    let options = Options {
        limit,
        concurrency: 4,
        dry_run: flag("dryRun"),
        delete_source: flag("deleteSource"),
    };
    match migrate_batch(from.as_ref(), to.as_ref(), cursor.as_deref(), &options).await {
        Ok(batch) => json(StatusCode::OK, &batch),
        Err(e) => super::internal(&format!("cannot list the objects to migrate: {e}")),
    }
}

/// True when both ends name the same backend (explicit settings are compared whole).
fn same_backend(body: &Map<String, Value>) -> bool {
    match (body.get("from"), body.get("to")) {
        (Some(Value::String(a)), Some(Value::String(b))) => a == b,
        (Some(a @ Value::Object(_)), Some(b @ Value::Object(_))) => a == b,
        _ => false,
    }
}
