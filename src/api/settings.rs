//! `GET`/`PATCH /api/settings` and `POST /api/settings/test/s3`, for superusers.
//!
//! The settings are PocketBase's `meta` and `s3` objects. The S3 secret is stored but
//! never sent back: `GET` leaves it out, and a `PATCH` without it keeps the stored
//! one, as PocketBase does. The S3 test puts, heads, reads, lists and deletes a probe
//! object under a random prefix and reports each step, with the S3 client's hint.

use super::app::{App, Env};
use super::{json, no_content, with_data, Caller};
use crate::error::Error;
use crate::s3::S3Settings;
use crate::secret::Secret;
use crate::storage::{GetOptions, GetOutcome, Storage, UploadOptions};
use crate::transport::Body;
use http::{Response, StatusCode};
use serde_json::{json, Map, Value};

/// The settings edgefs keeps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// `meta.appName`: `edgefs` until saved.
    pub app_name: String,
    /// `meta.appURL`: empty until saved.
    pub app_url: String,
    /// `s3`: the `S3_*` environment variables until saved.
    pub s3: S3Settings,
}

impl Settings {
    pub(crate) fn from_env(env: &Env) -> Settings {
        Settings {
            app_name: "edgefs".into(),
            app_url: String::new(),
            s3: env.s3.clone(),
        }
    }

    /// From the stored JSON, which has the secret; missing parts come from `env`.
    pub(crate) fn from_stored(value: &Value, env: &Env) -> Settings {
        let mut settings = Settings::from_env(env);
        settings.apply(value);
        if let Some(secret) = value.pointer("/s3/secret").and_then(Value::as_str) {
            settings.s3.secret = Secret::new(secret);
        }
        settings
    }

    pub(crate) fn to_stored(&self) -> Value {
        let mut s3 = self.s3_public();
        s3["secret"] = Value::String(self.s3.secret.expose().to_owned());
        json!({"meta": {"appName": self.app_name, "appURL": self.app_url}, "s3": s3})
    }

    /// PocketBase's `s3` object, without the secret.
    fn s3_public(&self) -> Value {
        json!({
            "enabled": self.s3.enabled,
            "bucket": self.s3.bucket,
            "region": self.s3.region,
            "endpoint": self.s3.endpoint,
            "accessKey": self.s3.access_key,
            "forcePathStyle": self.s3.force_path_style,
        })
    }

    /// PocketBase's shape, without the secret: `meta` and `s3` are edgefs's; the other
    /// objects PocketBase answers (and its SDK and admin tools read) are there with
    /// PocketBase's defaults, for features edgefs does not have (mail, backups, logs,
    /// batch requests, its rate limiter).
    pub fn to_public(&self) -> Value {
        let no_s3 = json!({"enabled": false, "bucket": "", "region": "", "endpoint": "", "accessKey": "", "forcePathStyle": false});
        json!({
            "meta": {
                "appName": self.app_name,
                "appURL": self.app_url,
                "accentColor": "#1055c9",
                "senderName": "Support",
                "senderAddress": "support@example.com",
                "hideControls": false,
            },
            "s3": self.s3_public(),
            "backups": {"cron": "", "cronMaxKeep": 3, "s3": no_s3},
            "smtp": {"enabled": false, "port": 587, "host": "smtp.example.com", "username": "", "authMethod": "", "tls": false, "localName": ""},
            "batch": {"enabled": false, "maxRequests": 50, "timeout": 3, "maxBodySize": 0},
            "logs": {"maxDataSize": 0, "maxDays": 5, "minLevel": 0, "logIP": true, "logAuthId": false},
            "rateLimits": {
                "rules": [
                    {"label": "*:auth", "audience": "", "duration": 3, "maxRequests": 2},
                    {"label": "*:create", "audience": "", "duration": 5, "maxRequests": 20},
                    {"label": "/api/batch", "audience": "", "duration": 1, "maxRequests": 3},
                    {"label": "/api/", "audience": "", "duration": 10, "maxRequests": 300},
                ],
                "excludedIPs": [],
                "enabled": false,
            },
            "trustedProxy": {"headers": [], "useLeftmostIP": false},
            "superuserIPs": [],
        })
    }

    /// Applies a PATCH body's known keys (a wrong type is a field error). An absent or
    /// empty `secret` keeps the stored one.
    fn apply(&mut self, body: &Value) -> Map<String, Value> {
        let mut errors = Map::new();
        let field_errors = |section: &str, name: &str, errors: &mut Map<String, Value>| {
            let entry = errors.entry(section.to_owned()).or_insert_with(|| json!({}));
            entry[name] = json!({"code": "validation_invalid_value", "message": "Invalid value."});
        };
        if let Some(meta) = body.get("meta").and_then(Value::as_object) {
            for (key, target) in [("appName", &mut self.app_name), ("appURL", &mut self.app_url)] {
                match meta.get(key) {
                    None => {}
                    Some(Value::String(text)) => *target = text.clone(),
                    Some(_) => field_errors("meta", key, &mut errors),
                }
            }
        }
        if let Some(s3) = body.get("s3").and_then(Value::as_object) {
            let settings = &mut self.s3;
            for (key, target) in [
                ("bucket", &mut settings.bucket),
                ("region", &mut settings.region),
                ("endpoint", &mut settings.endpoint),
                ("accessKey", &mut settings.access_key),
            ] {
                match s3.get(key) {
                    None => {}
                    Some(Value::String(text)) => *target = text.trim().to_owned(),
                    Some(_) => field_errors("s3", key, &mut errors),
                }
            }
            for (key, target) in [
                ("enabled", &mut settings.enabled),
                ("forcePathStyle", &mut settings.force_path_style),
            ] {
                match s3.get(key) {
                    None => {}
                    Some(Value::Bool(on)) => *target = *on,
                    Some(_) => field_errors("s3", key, &mut errors),
                }
            }
            match s3.get("secret") {
                Some(Value::String(secret)) if !secret.is_empty() => settings.secret = Secret::new(secret.clone()),
                None | Some(Value::String(_)) | Some(Value::Null) => {}
                Some(_) => field_errors("s3", "secret", &mut errors),
            }
        }
        errors
    }

    /// PocketBase's checks: with S3 enabled, every field is required and the endpoint
    /// must be a URL. Field errors in PocketBase's shape, under `s3`.
    fn validate(&self) -> Map<String, Value> {
        let mut errors = Map::new();
        if !self.s3.enabled {
            return errors;
        }
        s3_field_errors(&self.s3, &mut errors);
        errors
    }

    pub(crate) fn s3_same(&self, other: &Settings) -> bool {
        self.s3 == other.s3
    }
}

fn s3_field_errors(s3: &S3Settings, errors: &mut Map<String, Value>) {
    let mut fields = Map::new();
    let blank = json!({"code": "validation_required", "message": "Cannot be blank."});
    for (name, value) in [
        ("endpoint", s3.endpoint.as_str()),
        ("bucket", s3.bucket.as_str()),
        ("region", s3.region.as_str()),
        ("accessKey", s3.access_key.as_str()),
    ] {
        if value.trim().is_empty() {
            fields.insert(name.into(), blank.clone());
        }
    }
    if s3.secret.is_empty() {
        fields.insert("secret".into(), blank.clone());
    }
    if !fields.contains_key("endpoint") {
        if let Err(e) = crate::s3::Endpoint::parse(&s3.endpoint) {
            fields.insert(
                "endpoint".into(),
                json!({"code": "validation_is_url", "message": format!("Must be a valid URL: {}", e.problem)}),
            );
        }
    }
    if !fields.is_empty() {
        errors.insert("s3".into(), Value::Object(fields));
    }
}

/// The settings in force, for a superuser's request with a readable JSON body.
async fn for_superuser(
    app: &App,
    caller: &Caller,
    body: Result<Value, Response<Body>>,
) -> Result<(Settings, Value), Response<Body>> {
    caller.require_superuser()?;
    let body = body?;
    let loaded = app.loaded().await.map_err(|e| super::internal(&e))?;
    Ok((loaded.settings, body))
}

/// `GET /api/settings`
pub(crate) async fn get(app: &App, caller: &Caller) -> Response<Body> {
    match for_superuser(app, caller, Ok(Value::Null)).await {
        Ok((settings, _)) => json(StatusCode::OK, &settings.to_public()),
        Err(refusal) => refusal,
    }
}

/// `PATCH /api/settings`
pub(crate) async fn patch(app: &App, caller: &Caller, body: Result<Value, Response<Body>>) -> Response<Body> {
    let (mut settings, body) = match for_superuser(app, caller, body).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let mut errors = settings.apply(&body);
    if errors.is_empty() {
        errors = settings.validate();
    }
    if !errors.is_empty() {
        return with_data(
            StatusCode::BAD_REQUEST,
            "An error occurred while saving the new settings.",
            Value::Object(errors),
        );
    }
    match app.save_settings(settings).await {
        Ok(loaded) => json(StatusCode::OK, &loaded.settings.to_public()),
        Err(e) => super::internal(&format!("cannot save the settings: {e}")),
    }
}

/// One step of the S3 test.
struct Step {
    name: &'static str,
    outcome: Result<(), Error>,
}

/// `POST /api/settings/test/s3` `{filesystem, s3?}`: PocketBase's test of the saved S3
/// settings (`filesystem` is `storage` or `backups`, as PocketBase requires), with any
/// unsaved values from edgefs's optional `s3` object on top, so that a form can be
/// tested before it is saved. The saved secret signs only for the saved endpoint and
/// access key: a body that names another must bring its own secret, or the test would
/// send requests signed with the stored secret wherever the body points.
///
/// It also names the provider profile that applies (from the endpoint's host, or from
/// the server's `Server` header for a self-hosted server) and its quirks, without
/// changing PocketBase's answers: a 204 carries them in `X-Edgefs-S3-Profile`
/// (`garage; quirks=no-tagging,no-conditional-writes`), a 400 in that header, in `data.profile` and at the end
/// of its message.
pub(crate) async fn test_s3(app: &App, caller: &Caller, body: Result<Value, Response<Body>>) -> Response<Body> {
    let (mut settings, body) = match for_superuser(app, caller, body).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let failed = |problem: &str| {
        with_data(
            StatusCode::BAD_REQUEST,
            &format!("Failed to test the S3 filesystem. Raw error: \n{problem}"),
            json!({}),
        )
    };
    match body.get("filesystem") {
        Some(Value::String(name)) if name == "storage" => {}
        // edgefs keeps no backups, so their S3 filesystem is never enabled.
        Some(Value::String(name)) if name == "backups" => return failed("S3 storage filesystem is not enabled."),
        other if is_blank(other) => return filesystem_error("validation_required", "Cannot be blank."),
        _ => return filesystem_error("validation_in_invalid", "Must be a valid value."),
    }
    let saved = settings.s3.clone();
    let typed = body.get("s3").cloned().unwrap_or(json!({}));
    let mut errors = settings.apply(&json!({ "s3": typed }));
    let secret_typed = typed
        .get("secret")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let same_identity = settings.s3.endpoint == saved.endpoint && settings.s3.access_key == saved.access_key;
    if errors.is_empty() && !secret_typed && !same_identity {
        errors.insert(
            "s3".into(),
            json!({"secret": {
                "code": "validation_required",
                "message": "Enter the secret: the saved one is only used for the saved endpoint and access key.",
            }}),
        );
    }
    if errors.is_empty() && !settings.s3.enabled {
        return failed("S3 storage filesystem is not enabled.");
    }
    if errors.is_empty() {
        s3_field_errors(&settings.s3, &mut errors);
    }
    if !errors.is_empty() {
        return with_data(
            StatusCode::BAD_REQUEST,
            "Failed to test the S3 filesystem.",
            errors.remove("s3").unwrap_or(Value::Object(errors)),
        );
    }
    let storage = match app.platform().s3_storage(&settings.s3) {
        Ok(storage) => storage,
        Err(e) => {
            return with_data(
                StatusCode::BAD_REQUEST,
                &format!("Failed to test the S3 filesystem. Raw error: \n{e}"),
                json!({"steps": [step_json("settings", &Err(e))]}),
            )
        }
    };
    // The storage was built from these settings, so they are valid.
    let endpoint = settings.s3.validate().ok();
    if let Some(endpoint) = &endpoint {
        crate::client::observed::forget(endpoint);
    }
    let steps = probe(storage.as_ref()).await;
    let profile = endpoint
        .as_ref()
        .map(|endpoint| crate::s3::Profile::detect(endpoint, crate::client::observed::answered_by(endpoint)));
    let mut answer = match steps
        .iter()
        .find_map(|step| step.outcome.as_ref().err().map(|e| (step.name, e)))
    {
        None => no_content(),
        Some((name, error)) => {
            let mut data = json!({"steps": steps.iter().map(|s| step_json(s.name, &s.outcome)).collect::<Vec<_>>()});
            let mut message = format!("Failed to test the S3 filesystem. Raw error: \n{name}: {error}");
            if let Some(profile) = &profile {
                data["profile"] = profile_json(profile, &settings.s3);
                message.push_str(&format!(
                    "\n(S3 profile: {}{})",
                    profile.summary(),
                    path_style_advice(profile, &settings.s3)
                ));
            }
            with_data(StatusCode::BAD_REQUEST, &message, data)
        }
    };
    if let Some(value) = profile.and_then(|p| http::HeaderValue::from_str(&p.summary()).ok()) {
        answer.headers_mut().insert("x-edgefs-s3-profile", value);
    }
    answer
}

/// The S3 test's `data.profile`: the provider, its quirks, and whether the settings go
/// against one.
fn profile_json(profile: &crate::s3::Profile, s3: &S3Settings) -> Value {
    let mut value = json!({"provider": profile.provider.name(), "quirks": profile.quirk_names()});
    let advice = path_style_advice(profile, s3);
    if !advice.is_empty() {
        value["advice"] = Value::String(advice.trim_start_matches("; ").to_owned());
    }
    value
}

/// For a provider that needs path style while the URLs are virtual-hosted
/// (`forcePathStyle` off, and an endpoint where a virtual host is possible): what to change.
fn path_style_advice(profile: &crate::s3::Profile, s3: &S3Settings) -> String {
    let virtual_hosted = crate::s3::Bucket::new(s3).is_ok_and(|bucket| !bucket.is_path_style());
    if profile.quirks.path_style == crate::s3::PathStyle::Path && virtual_hosted {
        format!("; {} needs forcePathStyle on", profile.provider.name())
    } else {
        String::new()
    }
}

/// A probe step that got an answer it should not have.
fn unexpected(what: impl Into<String>) -> Error {
    Error::S3(edgefs_s3::Error::InvalidResponse(what.into()))
}

fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.is_empty(),
        Some(_) => false,
    }
}

/// PocketBase's field error for the test's `filesystem`.
fn filesystem_error(code: &str, message: &str) -> Response<Body> {
    with_data(
        StatusCode::BAD_REQUEST,
        "Failed to test the S3 filesystem.",
        json!({"filesystem": {"code": code, "message": message}}),
    )
}

fn step_json(name: &str, outcome: &Result<(), Error>) -> Value {
    match outcome {
        Ok(()) => json!({"step": name, "ok": true}),
        Err(error) => {
            let mut value = json!({"step": name, "ok": false, "error": error.to_string()});
            if let Some(code) = error.code() {
                value["code"] = Value::String(code.to_owned());
            }
            if let Some(status) = error.status() {
                value["status"] = json!(status);
            }
            if let Some(hint) = error.hint() {
                value["hint"] = Value::String(hint);
            }
            value
        }
    }
}

/// PUT, HEAD, GET, LIST and DELETE of a probe object under a random prefix. The probe
/// is deleted whatever happened before; a step that cannot run after a failed one is
/// reported as skipped.
async fn probe(storage: &dyn Storage) -> Vec<Step> {
    let prefix = format!(
        ".edgefs/probe-{}/",
        crate::random::string(12, crate::random::LOWERCASE_ALPHANUMERIC)
    );
    let key = format!("{prefix}probe.txt");
    let content = b"edgefs S3 probe".to_vec();
    let mut steps = Vec::new();
    let options = UploadOptions::default().content_type("text/plain");
    let put = storage.upload(&key, Body::from(content.clone()), &options).await;
    let stored = put.is_ok();
    steps.push(Step {
        name: "put",
        outcome: put,
    });
    let skipped = || Err(Error::InvalidInput("skipped: the put step failed".into()));
    if stored {
        let head = match storage.attributes(&key).await {
            Ok(Some(attributes)) if attributes.size == content.len() as u64 => Ok(()),
            Ok(Some(attributes)) => Err(unexpected(format!(
                "the probe's size is {} bytes, {} were written",
                attributes.size,
                content.len()
            ))),
            Ok(None) => Err(unexpected("the probe just written is not there")),
            Err(e) => Err(e),
        };
        steps.push(Step {
            name: "head",
            outcome: head,
        });
        let get = match storage.get(&key, &GetOptions::default()).await {
            Ok(GetOutcome::Found(object)) => match object.body.collect(1024).await {
                Ok(bytes) if bytes.as_ref() == content.as_slice() => Ok(()),
                Ok(_) => Err(unexpected("the probe read back differs from what was written")),
                Err(e) => Err(e.into()),
            },
            Ok(_) => Err(unexpected("the probe just written could not be read")),
            Err(e) => Err(e),
        };
        steps.push(Step {
            name: "get",
            outcome: get,
        });
        let list = match storage.list(&prefix, None, 10).await {
            Ok(page) if page.items.iter().any(|item| item.key == key) => Ok(()),
            Ok(_) => Err(unexpected("the listing does not show the probe")),
            Err(e) => Err(e),
        };
        steps.push(Step {
            name: "list",
            outcome: list,
        });
    } else {
        for name in ["head", "get", "list"] {
            steps.push(Step {
                name,
                outcome: skipped(),
            });
        }
    }
    // Always try: a put that failed half-way may still have left something.
    let delete = storage.delete(&key).await;
    let delete = match delete {
        Ok(()) if stored => match storage.attributes(&key).await {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err(unexpected("the probe is still there after the delete")),
            Err(e) => Err(e),
        },
        other => other,
    };
    steps.push(Step {
        name: "delete",
        outcome: delete,
    });
    steps
}
