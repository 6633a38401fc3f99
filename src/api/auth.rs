//! Who is calling: `Authorization: <JWT>` (HS256 with `AUTH_SECRET`), the superuser
//! sign-in against the `SUPERUSER_EMAIL` / `SUPERUSER_PASSWORD` secrets, and file
//! tokens.
//!
//! A token's claims are `@request.auth.*` in rules. Auth tokens have `type: "auth"`,
//! file tokens `type: "file"` (180 s, PocketBase's default); a token of the other type,
//! `alg: none`, another algorithm, a bad signature or an expired token is
//! unauthenticated. A token of the `_superusers` collection passes every rule.

use super::app::App;
use super::{error, json, with_data};
use crate::auth::jwt::{constant_time_eq, Signer};
use crate::transport::Body;
use http::{HeaderMap, Response, StatusCode};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// PocketBase's id of the `_superusers` collection.
pub const SUPERUSERS_COLLECTION_ID: &str = "pbc_3142635823";
pub const SUPERUSERS_COLLECTION_NAME: &str = "_superusers";
/// Superuser auth tokens last a day, as PocketBase's default.
const SUPERUSER_TOKEN_SECONDS: u64 = 86_400;
/// File tokens last 180 s, as PocketBase's default.
const FILE_TOKEN_SECONDS: u64 = 180;

const NOT_CONFIGURED: &str =
    "Authentication is not configured: set the AUTH_SECRET secret (wrangler secret put AUTH_SECRET).";

/// The caller of one request.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// The verified claims of an auth token; `None` for a visitor.
    pub auth: Option<Map<String, Value>>,
}

impl Caller {
    pub fn is_superuser(&self) -> bool {
        self.auth.as_ref().is_some_and(is_superuser_claims)
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

fn is_superuser_claims(claims: &Map<String, Value>) -> bool {
    claims.get("collectionId").and_then(Value::as_str) == Some(SUPERUSERS_COLLECTION_ID)
        || claims.get("collectionName").and_then(Value::as_str) == Some(SUPERUSERS_COLLECTION_NAME)
}

fn now() -> u64 {
    crate::clock::unix_seconds(crate::clock::now())
}

/// The claims of a token of `kind` (`auth` or `file`), or `None` when it does not verify.
pub fn verify(signer: Option<&Signer>, token: &str, kind: &str) -> Option<Map<String, Value>> {
    let claims = signer?.verify(token.trim(), now()).ok()?;
    (claims.get("type").and_then(Value::as_str) == Some(kind)).then_some(claims)
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
    Caller {
        auth: verify(app.signer.as_ref(), token, "auth"),
    }
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

fn auth_answer(signer: &Signer, email: &str) -> Response<Body> {
    let record = superuser_record(email);
    let mut claims = Map::new();
    claims.insert("collectionId".into(), json!(SUPERUSERS_COLLECTION_ID));
    claims.insert("collectionName".into(), json!(SUPERUSERS_COLLECTION_NAME));
    claims.insert("email".into(), json!(email));
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
pub(crate) fn auth_with_password(app: &App, body: Result<Value, Response<Body>>) -> Response<Body> {
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
    let Some(signer) = app.signer.as_ref() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, NOT_CONFIGURED);
    };
    let env = &app.env;
    if env.superuser_email.is_empty() || env.superuser_password.is_empty() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "No superuser is configured: set the SUPERUSER_EMAIL and SUPERUSER_PASSWORD secrets.",
        );
    }
    // Both compared in full, in constant time, whatever the first one gave.
    let email_ok = constant_time_eq(
        identity.trim().to_ascii_lowercase().as_bytes(),
        env.superuser_email.to_ascii_lowercase().as_bytes(),
    );
    let password_ok = constant_time_eq(password.as_bytes(), env.superuser_password.expose().as_bytes());
    if !(email_ok & password_ok) {
        return error(StatusCode::BAD_REQUEST, "Failed to authenticate.");
    }
    auth_answer(signer, &env.superuser_email)
}

/// `POST /api/collections/_superusers/auth-refresh`: a new token for a superuser's.
pub(crate) fn auth_refresh(app: &App, caller: &Caller) -> Response<Body> {
    if let Err(denied) = caller.require_superuser() {
        return denied;
    }
    match app.signer.as_ref() {
        Some(signer) => auth_answer(signer, &app.env.superuser_email),
        None => error(StatusCode::SERVICE_UNAVAILABLE, NOT_CONFIGURED),
    }
}

/// `POST /api/files/token`: the caller's claims as a file token, for 180 s.
pub(crate) fn file_token(app: &App, caller: &Caller) -> Response<Body> {
    let (Some(claims), Some(signer)) = (caller.auth.as_ref(), app.signer.as_ref()) else {
        return unauthorized();
    };
    let mut claims = claims.clone();
    claims.remove("refreshable");
    claims.insert("type".into(), json!("file"));
    claims.insert("exp".into(), json!(now() + FILE_TOKEN_SECONDS));
    json(StatusCode::OK, &json!({"token": signer.sign(&claims)}))
}
