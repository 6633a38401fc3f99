//! The API's state: its configuration from the environment, the storage backends the
//! host provides, and the settings and collections it keeps.
//!
//! Settings and collections persist as two JSON objects in the *config store* — the
//! KV namespace when one is bound, otherwise the local backend (R2 or memory) — so
//! every isolate of a deployed Worker sees the same. An isolate caches them for
//! [`App::reload_after`] and reads them again after that; its own changes apply at once.

use super::form::Form;
use super::settings::Settings;
use crate::auth::jwt::Signer;
use crate::collections::Collections;
use crate::error::Error;
use crate::records::sql::{Database, SqlRecords};
use crate::records::{RecordStore, StorageRecords};
use crate::s3::S3Settings;
use crate::secret::Secret;
use crate::storage::{GetOptions, GetOutcome, Storage, UploadOptions};
use crate::transport::{Body, BoxFuture, MaybeSendSync};
use serde_json::Value;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Where the settings are kept in the config store.
pub const SETTINGS_KEY: &str = ".edgefs/settings.json";
/// Where imported collections are kept in the config store.
pub const COLLECTIONS_KEY: &str = ".edgefs/collections.json";

/// The shortest `AUTH_SECRET` accepted: an HS256 key anyone could guess would let them
/// sign tokens for any user.
pub const MIN_AUTH_SECRET_LENGTH: usize = 32;

/// What a host provides beyond its local storage.
pub trait Platform: MaybeSendSync {
    /// A backend for an S3 bucket, over the host's transport.
    fn s3_storage(&self, settings: &S3Settings) -> Result<Arc<dyn Storage>, Error>;

    /// Parses a `multipart/form-data` body, failing with [`Error::TooLarge`] as soon as
    /// more than `limit` bytes have arrived (a chunked body has no length to refuse by).
    fn read_form<'a>(&'a self, body: Body, content_type: &'a str, limit: u64) -> BoxFuture<'a, Result<Form, Error>>;
}

/// Configuration from environment variables and secrets.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `AUTH_SECRET`: the HS256 key of users' tokens, from which the superuser's key is
    /// derived. Without it (or with one shorter than 32 characters), auth is refused.
    pub auth_secret: Option<Secret>,
    /// Why `AUTH_SECRET` was not taken, when it was set but too short.
    pub auth_secret_error: Option<String>,
    /// `SUPERUSER_EMAIL`
    pub superuser_email: String,
    /// `SUPERUSER_PASSWORD`
    pub superuser_password: Secret,
    /// `S3_*`: the S3 settings until settings are saved.
    pub s3: S3Settings,
    /// Why the `S3_*` variables could not be read, if they could not.
    pub s3_error: Option<String>,
    /// `RECORDS_LIST_LIMIT`: the most records a list reads from an object backend
    /// (`0`: no limit); unset, the backend's own ([`crate::records::default_list_limit`]).
    pub records_list_limit: Option<usize>,
    /// `EDGE_CACHE_SECONDS`: how long the Worker keeps a public file's answer in its
    /// data center's cache (`0`: off; [`edge_cache`](super::edge_cache)).
    pub edge_cache_time: std::time::Duration,
    /// Why `EDGE_CACHE_SECONDS` was not taken (files are then answered with it).
    pub edge_cache_error: Option<String>,
}

impl Env {
    /// Reads the variables through `lookup` (a Worker's `env`, the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Env {
        let (s3, s3_error) = match S3Settings::from_lookup(&lookup) {
            Ok(settings) => (settings, None),
            Err(error) => (S3Settings::default(), Some(error.to_string())),
        };
        let edge_cache = super::edge_cache::parse_time(lookup("EDGE_CACHE_SECONDS").as_deref());
        let auth_secret = lookup("AUTH_SECRET").filter(|s| !s.is_empty()).map(Secret::new);
        let short = auth_secret
            .as_ref()
            .is_some_and(|s| s.expose().chars().count() < MIN_AUTH_SECRET_LENGTH);
        Env {
            auth_secret_error: short.then(|| {
                format!("AUTH_SECRET is shorter than {MIN_AUTH_SECRET_LENGTH} characters: set a random one (e.g. openssl rand -hex 32)")
            }),
            auth_secret: auth_secret.filter(|_| !short),
            superuser_email: lookup("SUPERUSER_EMAIL").unwrap_or_default().trim().to_owned(),
            superuser_password: Secret::new(lookup("SUPERUSER_PASSWORD").unwrap_or_default()),
            s3,
            s3_error,
            records_list_limit: lookup("RECORDS_LIST_LIMIT").and_then(|v| v.trim().parse().ok()),
            edge_cache_time: edge_cache.clone().unwrap_or_default(),
            edge_cache_error: edge_cache.err(),
        }
    }
}

/// The settings and collections in force, and the backend they select.
#[derive(Clone)]
pub(crate) struct Loaded {
    pub settings: Settings,
    pub collections: Arc<Collections>,
    /// The backend for files and records, or why the S3 settings cannot make one.
    pub storage: Result<Arc<dyn Storage>, String>,
    loaded_at: u64,
}

/// One instance of the API.
pub struct App {
    pub(crate) env: Env,
    /// Users' tokens: `AUTH_SECRET`, shared with the app that signs them.
    pub(crate) signer: Option<Signer>,
    /// The superuser's tokens: a key derived from `AUTH_SECRET` and the superuser's
    /// e-mail and password, which only this API holds (see [`super::auth`]).
    pub(crate) superuser_signer: Option<Signer>,
    /// Failed superuser sign-ins per client, for the lockout.
    pub(crate) sign_in_failures: super::auth::Failures,
    local: Arc<dyn Storage>,
    config_store: Arc<dyn Storage>,
    platform: Box<dyn Platform>,
    /// How long an isolate trusts its copy of the settings and collections.
    pub reload_after: Duration,
    state: Mutex<Option<Loaded>>,
    /// The SQL database records live in when one is bound (D1); otherwise records are
    /// objects in the file backend.
    database: Option<Arc<dyn Database>>,
}

impl App {
    /// `local` serves files when S3 is not enabled (R2, KV or memory); `config_store`
    /// keeps the settings and collections (the KV namespace when bound, else `local`).
    pub fn new(env: Env, local: Arc<dyn Storage>, config_store: Arc<dyn Storage>, platform: Box<dyn Platform>) -> App {
        let signer = env.auth_secret.clone().map(Signer::new);
        let superuser_signer = super::auth::superuser_signer(&env);
        App {
            env,
            signer,
            superuser_signer,
            sign_in_failures: Default::default(),
            local,
            config_store,
            platform,
            reload_after: Duration::from_secs(5),
            state: Mutex::new(None),
            database: None,
        }
    }

    /// Keeps records in `database` (tables made as collections are imported or used).
    pub fn with_database(mut self, database: Arc<dyn Database>) -> App {
        self.database = Some(database);
        self
    }

    /// How long a public file's answer may be kept at the edge (zero: not at all).
    pub(crate) fn edge_cache_time(&self) -> std::time::Duration {
        self.env.edge_cache_time
    }

    /// Why `EDGE_CACHE_SECONDS` could not be read, if it could not.
    pub(crate) fn edge_cache_error(&self) -> Option<&str> {
        self.env.edge_cache_error.as_deref()
    }

    /// The SQL database records live in, when one is bound.
    pub(crate) fn database(&self) -> Option<Arc<dyn Database>> {
        self.database.clone()
    }

    /// Where records are kept: the database when one is bound, else the objects of
    /// `storage` (the file backend), listed up to the backend's limit.
    // On wasm32 the storage trait objects are not Send (one thread, JS values inside);
    // the Arc is shared within the isolate only.
    #[allow(clippy::arc_with_non_send_sync)]
    pub(crate) fn records(&self, storage: &Arc<dyn Storage>) -> Arc<dyn RecordStore> {
        match &self.database {
            Some(database) => Arc::new(SqlRecords::new(database.clone())),
            None => {
                let limit = match self.env.records_list_limit {
                    Some(0) => None,
                    Some(limit) => Some(limit),
                    None => crate::records::default_list_limit(storage.name()),
                };
                Arc::new(StorageRecords::new(storage.clone()).with_list_limit(limit))
            }
        }
    }

    /// The local backend that is not R2: the KV namespace when bound, or memory when
    /// nothing is bound (a migration's `"local"`).
    pub(crate) fn local_store(&self) -> Option<Arc<dyn Storage>> {
        if self.local.name() != "r2" {
            return Some(self.local.clone());
        }
        (self.config_store.name() == "kv").then(|| self.config_store.clone())
    }

    /// The R2 bucket, when one is bound (a migration's `"r2"`).
    pub(crate) fn r2_store(&self) -> Option<Arc<dyn Storage>> {
        (self.local.name() == "r2").then(|| self.local.clone())
    }

    /// The host's platform: its S3 backends and its form parser.
    pub fn platform(&self) -> &dyn Platform {
        self.platform.as_ref()
    }

    /// The settings and collections, read from the config store when the cached copy
    /// is older than [`App::reload_after`].
    pub(crate) async fn loaded(&self) -> Result<Loaded, String> {
        let now = crate::clock::unix_seconds(crate::clock::now());
        if let Some(loaded) = self.state.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            if now.saturating_sub(loaded.loaded_at) < self.reload_after.as_secs() {
                return Ok(loaded.clone());
            }
        }
        // Both reads at once: this runs on the request path when the copy is stale.
        let (settings, collections) = futures::join!(self.read_config(SETTINGS_KEY), self.read_config(COLLECTIONS_KEY));
        let settings = match settings? {
            Some(value) => Settings::from_stored(&value, &self.env),
            None => Settings::from_env(&self.env),
        };
        let collections = match collections? {
            Some(value) => Collections::from_values(value.as_array().cloned().unwrap_or_default())
                .map_err(|e| format!("the stored collections are invalid: {e}"))?,
            None => Collections::defaults(),
        };
        Ok(self.remember(settings, Arc::new(collections), now))
    }

    fn remember(&self, settings: Settings, collections: Arc<Collections>, now: u64) -> Loaded {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        // Keep the S3 backend (and its signing-key cache) while its settings are the same.
        let storage = match state.as_ref() {
            Some(previous) if previous.settings.s3_same(&settings) && previous.storage.is_ok() => {
                previous.storage.clone()
            }
            _ => self.storage_for(&settings),
        };
        let loaded = Loaded {
            settings,
            collections,
            storage,
            loaded_at: now,
        };
        *state = Some(loaded.clone());
        loaded
    }

    /// The backend the settings select: S3 when enabled, else the local one.
    pub(crate) fn storage_for(&self, settings: &Settings) -> Result<Arc<dyn Storage>, String> {
        if let Some(error) = &self.env.s3_error {
            return Err(format!("the S3_* environment variables are invalid: {error}"));
        }
        if !settings.s3.enabled {
            return Ok(self.local.clone());
        }
        self.platform
            .s3_storage(&settings.s3)
            .map_err(|e| format!("S3 storage is enabled but cannot be used: {e}"))
    }

    pub(crate) async fn save_settings(&self, settings: Settings) -> Result<Loaded, Error> {
        self.write_config(SETTINGS_KEY, &settings.to_stored()).await?;
        let collections = self
            .loaded()
            .await
            .map_err(|e| Error::backend(self.config_store.name(), e))?
            .collections;
        let now = crate::clock::unix_seconds(crate::clock::now());
        Ok(self.remember(settings, collections, now))
    }

    pub(crate) async fn save_collections(&self, collections: Collections) -> Result<(), Error> {
        let value: Value = serde_json::from_str(&collections.to_json()).unwrap_or(Value::Null);
        self.write_config(COLLECTIONS_KEY, &value).await?;
        let settings = self
            .loaded()
            .await
            .map_err(|e| Error::backend(self.config_store.name(), e))?
            .settings;
        let now = crate::clock::unix_seconds(crate::clock::now());
        self.remember(settings, Arc::new(collections), now);
        Ok(())
    }

    async fn read_config(&self, key: &str) -> Result<Option<Value>, String> {
        let failed =
            |e: &dyn std::fmt::Display| format!("cannot read {key} from the {} backend: {e}", self.config_store.name());
        match self.config_store.get(key, &GetOptions::default()).await {
            Ok(GetOutcome::Found(object)) => {
                let bytes = object.body.collect(8 * 1024 * 1024).await.map_err(|e| failed(&e))?;
                serde_json::from_slice(&bytes).map(Some).map_err(|e| failed(&e))
            }
            Ok(_) => Ok(None),
            Err(e) => Err(failed(&e)),
        }
    }

    async fn write_config(&self, key: &str, value: &Value) -> Result<(), Error> {
        let options = UploadOptions::default().content_type("application/json");
        self.config_store
            .upload(key, Body::from(value.to_string()), &options)
            .await
    }
}

/// A native host: S3 over hyper, forms over `multer`. For tests and native programs.
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub struct NativePlatform;

#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
impl Platform for NativePlatform {
    fn s3_storage(&self, settings: &S3Settings) -> Result<Arc<dyn Storage>, Error> {
        let client = crate::S3Client::new(settings, crate::transport::native::NativeTransport::new())?;
        Ok(Arc::new(crate::storage::S3Storage::new(client)))
    }

    fn read_form<'a>(&'a self, body: Body, content_type: &'a str, limit: u64) -> BoxFuture<'a, Result<Form, Error>> {
        Box::pin(super::form::read_form_native(body, content_type, limit))
    }
}

#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
impl App {
    /// An API over one in-memory backend, with a native platform.
    pub fn in_memory(env: Env) -> App {
        let memory: Arc<dyn Storage> = Arc::new(crate::storage::Memory::new());
        App::new(env, memory.clone(), memory, Box::new(NativePlatform))
    }
}
