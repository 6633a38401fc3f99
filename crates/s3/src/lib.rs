//! An S3 client for the edge: no tokio, one small transport trait, streaming bodies.
//!
//! Layers, from the bottom up:
//! * [`protocol`] — S3 without IO: settings, URLs (path or virtual-hosted style),
//!   signing through [`edgefs_sigv4`], one request builder and parser per operation,
//!   S3's error model;
//! * [`transport`] — the one place that does network IO: a [`Transport`] sends an
//!   `http::Request<Body>`; implementations for JavaScript `fetch` (feature `js`),
//!   `wasi:http` (feature `wasi-http`) and hyper (feature `native`);
//! * [`client`] — [`S3Client`]: retries, streaming downloads, multipart uploads,
//!   presigned URLs.
//!
//! Its [`Error`] says what failed in S3's terms: S3's code, message, request id and
//! status, the bucket's real region, and a hint.

pub mod client;
pub mod clock;
pub mod error;
pub mod protocol;
pub mod transport;

pub use client::{GetObjectOutput, RetryPolicy, S3Client, UploadConfig};
pub use edgefs_sigv4::Secret;
pub use error::{Error, SettingsError};
pub use protocol::{S3Error, S3Settings};
pub use transport::{Body, Transport};
