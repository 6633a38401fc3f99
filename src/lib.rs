//! edgefs: storage for the edge.
//!
//! Layers, from the bottom up (see the README):
//! * [`sigv4`] — AWS Signature Version 4, no IO;
//! * [`s3`] — the S3 protocol: settings, URLs, one request builder and parser per
//!   operation, the error model; no IO;
//! * [`transport`] — one small trait to send an `http` request; `fetch` (Workers and
//!   browsers) and a native implementation;
//! * [`client`] — an S3 client over a transport: retries, streaming, multipart.

pub mod clock;
pub mod secret;
pub mod sigv4;

pub use secret::Secret;
