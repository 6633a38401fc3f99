//! The error of edgefs's core (storage backends, records, the API), saying which layer
//! and which backend failed.

use std::fmt;

pub use edgefs_s3::error::Quoted;

/// What went wrong in a storage backend, the records or the API.
#[derive(Debug)]
pub enum Error {
    /// The S3 client failed (the S3 backend, the S3 test): S3's code, message, request
    /// id, status and hint are in it.
    S3(edgefs_s3::Error),
    /// Another backend failed or answered what it should not (`backend`: `kv`, `r2`,
    /// `memory`, or a host's own).
    Backend {
        /// Which backend.
        backend: &'static str,
        /// What it said.
        message: String,
    },
    /// The backend has no object at `key`.
    NotFound {
        /// Which backend.
        backend: &'static str,
        /// The key asked for.
        key: String,
    },
    /// A conditional write found the object changed (or gone, or there) since it was
    /// read: nothing was written. The caller reads again and retries.
    Conflict {
        /// Which backend.
        backend: &'static str,
        /// The key written.
        key: String,
    },
    /// The caller asked for something impossible (an empty key, a malformed form).
    InvalidInput(String),
    /// A body went past the limit of bytes that may be read (counted as it arrives,
    /// so a body without `Content-Length` is held to it too).
    TooLarge(u64),
}

impl Error {
    /// A backend's failure, in its own words.
    pub fn backend(backend: &'static str, message: impl Into<String>) -> Self {
        Error::Backend {
            backend,
            message: message.into(),
        }
    }

    /// S3's error code (`NoSuchKey`, `AccessDenied`…), when S3 gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::S3(e) => e.code(),
            _ => None,
        }
    }

    /// The HTTP status, when a server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::S3(e) => e.status(),
            _ => None,
        }
    }

    /// What to do about it, in a sentence.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::S3(e) => e.hint(),
            _ => None,
        }
    }

    /// True when a conditional write found the object changed.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }

    /// True for a missing object.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::S3(e) => e.is_not_found(),
            Error::NotFound { .. } => true,
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::S3(e) => e.fmt(f),
            Error::Backend { backend, message } => write!(f, "the {backend} backend failed: {message}"),
            Error::NotFound { backend, key } => write!(f, "the {backend} backend has no object at {}", Quoted(key)),
            Error::Conflict { backend, key } => write!(
                f,
                "the object at {} in the {backend} backend changed while it was being written",
                Quoted(key)
            ),
            Error::InvalidInput(message) => f.write_str(message),
            Error::TooLarge(limit) => write!(f, "the body is over the limit of {limit} bytes"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::S3(e) => Some(e),
            _ => None,
        }
    }
}

impl From<edgefs_s3::Error> for Error {
    fn from(e: edgefs_s3::Error) -> Self {
        match e {
            edgefs_s3::Error::TooLarge(limit) => Error::TooLarge(limit),
            e => Error::S3(e),
        }
    }
}
