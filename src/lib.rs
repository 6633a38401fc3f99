//! edgefs: storage for the edge.
//!
//! Layers, from the bottom up (see the README):
//! * [`sigv4`] — AWS Signature Version 4, no IO;
//! * [`s3`] — the S3 protocol: settings, URLs, one request builder and parser per
//!   operation, the error model; no IO;
//! * [`transport`] — one small trait to send an `http` request; `fetch` (Workers and
//!   browsers) and a native implementation;
//! * [`client`] — an S3 client over a transport: retries, streaming, multipart.

pub mod api;
pub mod auth;
pub mod client;
pub mod clock;
pub mod collections;
pub mod error;
pub mod files;
pub mod numbers;
pub mod random;
pub mod records;
pub mod rules;
pub mod s3;
pub mod secret;
pub mod sigv4;
pub mod sorting;
pub mod storage;
pub mod transport;

pub use client::{GetObjectOutput, RetryPolicy, S3Client, UploadConfig};
pub use error::{Error, SettingsError};
pub use s3::{S3Error, S3Settings};
pub use secret::Secret;
pub use transport::{Body, Transport};

#[cfg(all(feature = "worker", target_arch = "wasm32", target_os = "unknown"))]
mod worker_glue;

/// The WebAssembly component's exports (`wit/`), built for wasm32-wasip2.
#[cfg(all(feature = "component", target_os = "wasi"))]
mod component;
