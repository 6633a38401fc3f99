//! edgefs's core: PocketBase's file storage and records rebuilt for the edge, as plain
//! Rust that turns requests into responses.
//!
//! * [`storage`] — the filesystem façade and its backends (memory, S3, and on wasm32
//!   with the `js` feature the Workers KV and R2 bindings);
//! * [`rules`] — PocketBase's rule and filter language;
//! * [`collections`], [`records`], [`files`] — PocketBase's models, records kept in the
//!   storage backend, file names, sniffing and serving;
//! * [`auth`] — HS256 tokens;
//! * [`api`] — the HTTP API, `http::Request` in, `http::Response` out, over a
//!   [`api::Platform`] the host supplies.
//!
//! Underneath are the S3 client ([`edgefs_s3`], re-exported as [`s3`], [`client`],
//! [`transport`] and [`clock`]) and the signer ([`edgefs_sigv4`], as [`sigv4`]). The
//! library installs no allocator and exports nothing: the Cloudflare Worker is the
//! `edgefs-worker` crate, the WebAssembly component `edgefs-component`.

pub mod api;
pub mod auth;
pub mod collections;
pub mod companion;
pub mod error;
pub mod files;
pub mod migrate;
pub mod numbers;
pub mod random;
pub mod records;
pub mod rules;
pub mod storage;
pub mod uploads;

pub use edgefs_s3::protocol as s3;
pub use edgefs_s3::{client, clock, transport};
pub use edgefs_sigv4 as sigv4;
pub use edgefs_sigv4::{secret, sorting};

pub use edgefs_s3::{
    Body, GetObjectOutput, RetryPolicy, S3Client, S3Error, S3Settings, SettingsError, Transport, UploadConfig,
};
pub use edgefs_sigv4::Secret;
pub use error::Error;
