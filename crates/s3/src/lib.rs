//! An S3 client for the edge: no tokio, one small transport trait, streaming bodies.
//!
//! Layers, from the bottom up:
//! * [`protocol`] — S3 without IO: settings, URLs (path or virtual-hosted style),
//!   signing through [`edgefs_sigv4`], one request builder and parser per operation,
//!   S3's error model, and each provider's quirks ([`Profile`]);
//! * [`transport`] — the one place that does network IO: a [`Transport`] sends an
//!   `http::Request<Body>`; implementations for JavaScript `fetch` (feature `js`),
//!   `wasi:http` (feature `wasi-http`) and hyper (feature `native`);
//! * [`client`] — [`S3Client`]: retries, streaming downloads, multipart uploads,
//!   presigned URLs.
//!
//! Its [`Error`] says what failed in S3's terms: S3's code, message, request id and
//! status, the bucket's real region, and a hint.
//!
//! # Example
//!
//! A presigned URL needs no IO: settings, a [`protocol::Bucket`], a time. (For
//! requests, see [`S3Client`].)
//!
//! ```
//! use edgefs_s3::protocol::Bucket;
//! use edgefs_s3::S3Settings;
//! use std::time::Duration;
//!
//! let settings = S3Settings::from_json(
//!     r#"{"enabled": true, "bucket": "photos", "region": "us-east-1",
//!         "endpoint": "http://127.0.0.1:9000", "accessKey": "AKID", "secret": "SECRET",
//!         "forcePathStyle": true}"#,
//! )?;
//! let bucket = Bucket::new(&settings)?;
//! let time = edgefs_s3::clock::parse_iso8601("2015-08-30T12:36:00Z").unwrap();
//! let url = bucket.presign(http::Method::GET, "cats/tom.jpg", Duration::from_secs(3600), time)?;
//! assert!(url.starts_with("http://127.0.0.1:9000/photos/cats/tom.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&"));
//! assert!(url.contains("X-Amz-Expires=3600"));
//! assert!(url.contains("X-Amz-Signature="));
//! # Ok::<(), edgefs_s3::Error>(())
//! ```

pub mod client;
pub mod clock;
pub mod error;
pub mod protocol;
pub mod transport;

pub use client::{GetObjectOutput, RetryPolicy, S3Client, UploadConfig};
pub use edgefs_sigv4::Secret;
pub use error::{Error, SettingsError};
pub use protocol::{Profile, Provider, S3Error, S3Settings};
pub use transport::{Body, Transport};
