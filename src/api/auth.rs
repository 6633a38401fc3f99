//! Who is calling: `Authorization: <JWT>` (HS256), the superuser sign-in against the
//! `SUPERUSER_EMAIL` / `SUPERUSER_PASSWORD` secrets, and file tokens.
//!
//! Two keys sign tokens. Users' tokens are signed with `AUTH_SECRET` by the app that
//! shares it (edgefs has no users of its own). The superuser's tokens are signed with
//! a key derived from `AUTH_SECRET`, the superuser's e-mail and password, which only
//! this API can compute: a token signed with `AUTH_SECRET` that claims the
//! `_superusers` collection is refused, so an app cannot mint a superuser, and changing
//! the password ends every superuser token (PocketBase's `tokenKey` does the same).
//!
//! A token's claims are `@request.auth.*` in rules. Auth tokens have `type: "auth"`,
//! file tokens `type: "file"` (180 s, PocketBase's default); a token of the other type,
//! `alg: none`, another algorithm, a bad signature or an expired token is
//! unauthenticated. Failed superuser sign-ins are limited per client address.

use super::app::{App, Env};
use super::{error, json, with_data};
use crate::auth::jwt::{constant_time_eq, Signer};
use crate::secret::Secret;
use crate::transport::Body;
use http::{HeaderMap, Response, StatusCode};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// PocketBase's id of the `_superusers` collection.
pub const SUPERUSERS_COLLECTION_ID: &str = "pbc_3142635823";
/// PocketBase's name of the `_superusers` collection.
pub const SUPERUSERS_COLLECTION_NAME: &str = "_superusers";
/// Superuser auth tokens last a day, as PocketBase's default.
const SUPERUSER_TOKEN_SECONDS: u64 = 86_400;
/// File tokens last 180 s, as PocketBase's default.
const FILE_TOKEN_SECONDS: u64 = 180;
/// Failed sign-ins a client may make in [`SIGN_IN_WINDOW_SECONDS`] before every
/// sign-in from it is refused with 429 until the window ends.
pub const MAX_FAILED_SIGN_INS: u32 = 5;
pub const SIGN_IN_WINDOW_SECONDS: u64 = 60;
/// Clients remembered at most; past it, the oldest windows are forgotten first.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// The caller of one request.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// The verified claims of an auth token; `None` for a visitor.
    pub auth: Option<Map<String, Value>>,
    /// Signed with the superuser's key (never true for a token the app signed).
    superuser: bool,
}

impl Caller {
    /// True for a caller whose token the superuser's key signed.
    pub fn is_superuser(&self) -> bool {
        self.superuser && self.auth.is_some()
    }

    /// PocketBase's `RequireSuperuserAuth`: 401 for a visitor, 403 for anyone else.
    pub fn require_superuser(&self) -> Result<(), Response<Body>> {
        match &self.auth {
            None => Err(unauthorized()),
            Some(_) if self.is_superuser() => Ok(()),
            Some(_) => Err(error(
                StatusCode::FORBIDDEN,
                "The authorized record is not allowed to perform this action.",
            )),
        }
    }
}

fn unauthorized() -> Response<Body> {
    error(
        StatusCode::UNAUTHORIZED,
        "The request requires valid record authorization token.",
    )
}

fn not_configured(env: &Env) -> Response<Body> {
    let why = env.auth_secret_error.as_deref().unwrap_or("it is not set");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("Authentication is not configured: {why} (wrangler secret put AUTH_SECRET)."),
    )
}

fn claims_superuser(claims: &Map<String, Value>) -> bool {
    claims.get("collectionId").and_then(Value::as_str) == Some(SUPERUSERS_COLLECTION_ID)
        || claims.get("collectionName").and_then(Value::as_str) == Some(SUPERUSERS_COLLECTION_NAME)
}

fn now() -> u64 {
    crate::clock::unix_seconds(crate::clock::now())
}

/// The superuser's signing key: HMAC-SHA256 of the e-mail and password under
/// `AUTH_SECRET`. `None` without a secret or a configured superuser.
pub(crate) fn superuser_signer(env: &Env) -> Option<Signer> {
    use hmac::Mac;
    let secret = env.auth_secret.as_ref()?;
    if env.superuser_email.is_empty() || env.superuser_password.is_empty() {
        return None;
    }
    let mut mac = crate::sigv4::hmac_sha256(secret.expose().as_bytes());
    mac.update(b"edgefs superuser tokens\0");
    mac.update(env.superuser_email.to_ascii_lowercase().as_bytes());
    mac.update(b"\0");
    mac.update(env.superuser_password.expose().as_bytes());
    Some(Signer::new(Secret::new(hex::encode(mac.finalize().into_bytes()))))
}

/// The caller a token of `kind` (`auth` or `file`) names: the superuser when the
/// superuser's key signed it, a user when `AUTH_SECRET` did (unless it claims to be a
/// superuser), otherwise a visitor.
pub fn verify(app: &App, token: &str, kind: &str) -> Caller {
    let token = token.trim();
    let of_kind =
        |claims: Map<String, Value>| (claims.get("type").and_then(Value::as_str) == Some(kind)).then_some(claims);
    if let Some(signer) = app.superuser_signer.as_ref() {
        if let Some(claims) = signer.verify(token, now()).ok().and_then(of_kind) {
            if claims.get("collectionId").and_then(Value::as_str) == Some(SUPERUSERS_COLLECTION_ID) {
                return Caller {
                    auth: Some(claims),
                    superuser: true,
                };
            }
        }
    }
    let user = app
        .signer
        .as_ref()
        .and_then(|signer| signer.verify(token, now()).ok())
        .and_then(of_kind)
        .filter(|claims| !claims_superuser(claims));
    Caller {
        auth: user,
        superuser: false,
    }
}

/// The caller named by the `Authorization` header (with or without `Bearer `).
pub fn caller(app: &App, headers: &HeaderMap) -> Caller {
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let v = v.trim();
            match v.get(..7) {
                Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => &v[7..],
                _ => v,
            }
        })
        .unwrap_or("");
    if token.is_empty() {
        return Caller::default();
    }
    verify(app, token, "auth")
}

/// Failed sign-ins per client address: when the window began, and how many.
#[derive(Default)]
pub(crate) struct Failures(Mutex<HashMap<String, (u64, u32)>>);

impl Failures {
    /// True while `client` has used up its failed sign-ins for the window.
    fn locked(&self, client: &str, now: u64) -> bool {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(client)
            .is_some_and(|&(start, count)| now < start + SIGN_IN_WINDOW_SECONDS && count >= MAX_FAILED_SIGN_INS)
    }

    fn failed(&self, client: &str, now: u64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_TRACKED_CLIENTS {
            map.retain(|_, (start, _)| now < *start + SIGN_IN_WINDOW_SECONDS);
        }
        if map.len() >= MAX_TRACKED_CLIENTS {
            return;
        }
        let entry = map.entry(client.to_owned()).or_insert((now, 0));
        if now >= entry.0 + SIGN_IN_WINDOW_SECONDS {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    fn succeeded(&self, client: &str) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(client);
    }
}

/// The client's address as Cloudflare gives it (`CF-Connecting-IP`, which a client
/// cannot set at the edge); one shared bucket where there is none (`wrangler dev`, tests).
pub(crate) fn client_address(headers: &HeaderMap) -> String {
    headers
        .get("cf-connecting-ip")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// The superuser's record: its id is derived from the e-mail, so it is stable.
fn superuser_record(email: &str) -> Value {
    let digest = hex::encode(Sha256::digest(email.to_ascii_lowercase().as_bytes()));
    json!({
        "collectionId": SUPERUSERS_COLLECTION_ID,
        "collectionName": SUPERUSERS_COLLECTION_NAME,
        "created": "",
        "email": email,
        "emailVisibility": false,
        "id": &digest[..15],
        "updated": "",
        "verified": true,
    })
}

/// PocketBase's auth token claims, and no others: `collectionId`, `exp`, `id`,
/// `refreshable`, `type`.
fn auth_answer(signer: &Signer, email: &str) -> Response<Body> {
    let record = superuser_record(email);
    let mut claims = Map::new();
    claims.insert("collectionId".into(), json!(SUPERUSERS_COLLECTION_ID));
    claims.insert("exp".into(), json!(now() + SUPERUSER_TOKEN_SECONDS));
    claims.insert("id".into(), record["id"].clone());
    claims.insert("refreshable".into(), json!(true));
    claims.insert("type".into(), json!("auth"));
    json(
        StatusCode::OK,
        &json!({"token": signer.sign(&claims), "record": record}),
    )
}

/// `POST /api/collections/_superusers/auth-with-password` `{identity, password}`.
/// After [`MAX_FAILED_SIGN_INS`] failures from one client in a minute, every attempt
/// from it is PocketBase's 429 until the minute is over.
pub(crate) fn auth_with_password(app: &App, client: &str, body: Result<Value, Response<Body>>) -> Response<Body> {
    if app.sign_in_failures.locked(client, now()) {
        return error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests.");
    }
    let body = match body {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let (identity, password) = (text("identity"), text("password"));
    let mut errors = Map::new();
    for (name, value) in [("identity", &identity), ("password", &password)] {
        if value.is_empty() {
            errors.insert(
                name.into(),
                json!({"code": "validation_required", "message": "Cannot be blank."}),
            );
        }
    }
    if !errors.is_empty() {
        return with_data(
            StatusCode::BAD_REQUEST,
            "An error occurred while validating the submitted data.",
            Value::Object(errors),
        );
    }
    let env = &app.env;
    if app.signer.is_none() {
        return not_configured(env);
    }
    let Some(signer) = app.superuser_signer.as_ref() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "No superuser is configured: set the SUPERUSER_EMAIL and SUPERUSER_PASSWORD secrets.",
        );
    };
    // Both compared in full, in constant time, whatever the first one gave.
    let email_ok = constant_time_eq(
        identity.trim().to_ascii_lowercase().as_bytes(),
        env.superuser_email.to_ascii_lowercase().as_bytes(),
    );
    let password_ok = constant_time_eq(password.as_bytes(), env.superuser_password.expose().as_bytes());
    if !(email_ok & password_ok) {
        app.sign_in_failures.failed(client, now());
        return error(StatusCode::BAD_REQUEST, "Failed to authenticate.");
    }
    app.sign_in_failures.succeeded(client);
    auth_answer(signer, &env.superuser_email)
}

/// `POST /api/collections/_superusers/auth-refresh`: a new token for a superuser's.
pub(crate) fn auth_refresh(app: &App, caller: &Caller) -> Response<Body> {
    // PocketBase's RequireSameCollectionContextAuth: another collection's record is told
    // which collection its token is for.
    if let Some(claims) = caller.auth.as_ref().filter(|_| !caller.is_superuser()) {
        let collection = ["collectionName", "collectionId"]
            .iter()
            .find_map(|claim| claims.get(*claim).and_then(Value::as_str))
            .unwrap_or("another");
        return error(
            StatusCode::FORBIDDEN,
            &format!("The request requires auth record from {collection} collection."),
        );
    }
    if let Err(denied) = caller.require_superuser() {
        return denied;
    }
    match app.superuser_signer.as_ref() {
        Some(signer) => auth_answer(signer, &app.env.superuser_email),
        None => not_configured(&app.env),
    }
}

/// `POST /api/files/token`: the caller's claims as a file token, for 180 s.
pub(crate) fn file_token(app: &App, caller: &Caller) -> Response<Body> {
    // A superuser's file token is signed with the superuser's key, like its auth token.
    let signer = if caller.is_superuser() {
        app.superuser_signer.as_ref()
    } else {
        app.signer.as_ref()
    };
    let (Some(claims), Some(signer)) = (caller.auth.as_ref(), signer) else {
        return unauthorized();
    };
    let mut claims = claims.clone();
    claims.remove("refreshable");
    claims.insert("type".into(), json!("file"));
    claims.insert("exp".into(), json!(now() + FILE_TOKEN_SECONDS));
    json(StatusCode::OK, &json!({"token": signer.sign(&claims)}))
}
