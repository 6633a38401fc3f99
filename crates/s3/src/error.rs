//! The one error type of edgefs's client and storage layers.

use crate::protocol::S3Error;
use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// Settings that cannot work, e.g. `failed to initialize S3: endpoint must be set`.
    Settings(SettingsError),
    /// S3 answered with an error.
    S3(Box<S3Error>),
    /// The request never got an answer (connection refused, DNS, reset, timeout).
    Transport(String),
    /// S3 answered, but not in a form we understand (malformed XML, truncated body).
    InvalidResponse(String),
    /// A body stream failed while it was read (the platform's stream errored).
    Body(String),
    /// The caller asked for something impossible (an empty key, a 0-second presign).
    InvalidInput(String),
    /// A body went past the limit of bytes that may be read (counted as it arrives, so
    /// a body without `Content-Length` is held to it too).
    TooLarge(u64),
}

impl Error {
    /// S3's error code (`NoSuchKey`, `AccessDenied`…), when S3 gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::S3(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::S3(e) => Some(e.status),
            _ => None,
        }
    }

    /// What to do about it, in a sentence.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::S3(e) => e.hint(),
            Error::Settings(e) => Some(e.hint()),
            Error::Transport(_) => {
                Some("check that the endpoint's host and port are right and that the server is reachable".into())
            }
            _ => None,
        }
    }

    /// True for a missing object (404 `NoSuchKey`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::S3(e) if e.code == "NoSuchKey" || (e.status == 404 && e.code == "NotFound"))
    }

    pub(crate) fn invalid_response(what: impl fmt::Display) -> Self {
        Error::InvalidResponse(what.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Settings(e) => e.fmt(f),
            Error::S3(e) => e.fmt(f),
            Error::Transport(message) => write!(f, "could not reach S3: {message}"),
            Error::InvalidResponse(message) => write!(f, "unexpected answer from S3: {message}"),
            Error::InvalidInput(message) => f.write_str(message),
            Error::Body(message) => write!(f, "the body could not be read: {message}"),
            Error::TooLarge(limit) => write!(f, "the body is over the limit of {limit} bytes"),
        }
    }
}

impl std::error::Error for Error {}

impl From<S3Error> for Error {
    fn from(e: S3Error) -> Self {
        Error::S3(Box::new(e))
    }
}

impl From<SettingsError> for Error {
    fn from(e: SettingsError) -> Self {
        Error::Settings(e)
    }
}

/// A settings field that is missing or wrong. Displays as
/// `failed to initialize S3: <field> <problem>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// The field, in PocketBase's JSON spelling (`endpoint`, `accessKey`…).
    pub field: &'static str,
    pub problem: String,
}

impl SettingsError {
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        SettingsError {
            field,
            problem: problem.into(),
        }
    }

    pub fn hint(&self) -> String {
        match self.field {
            "endpoint" => "set the endpoint URL with its protocol, e.g. https://s3.us-east-1.amazonaws.com \
                           (it may be left empty only for AWS, where it follows from the region)"
                .into(),
            "region" => "set the bucket's region exactly as the provider shows it (R2: auto)".into(),
            _ => format!("set {}", self.field),
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to initialize S3: {} {}", self.field, self.problem)
    }
}

impl std::error::Error for SettingsError {}

/// Shows a text in an error message between double quotes, with quotes, backslashes
/// and control characters escaped as Rust's `{:?}` escapes them; other characters as
/// they are. (Not `{:?}` itself: its Unicode tables and escaper are ~3 KiB of the
/// Worker's wasm, for messages.)
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        let mut plain = 0;
        for (at, ch) in self.0.char_indices() {
            let escaped = match ch {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\0' => "\\0",
                '\u{1}'..='\u{1f}' | '\u{7f}' => "",
                _ => continue,
            };
            f.write_str(&self.0[plain..at])?;
            if escaped.is_empty() {
                write!(f, "\\u{{{:x}}}", ch as u32)?;
            } else {
                f.write_str(escaped)?;
            }
            plain = at + ch.len_utf8();
        }
        f.write_str(&self.0[plain..])?;
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::Quoted;

    #[test]
    fn quotes_as_debug_does_for_ascii_and_control_characters() {
        for text in [
            "",
            "plain",
            "a \"quoted\" word",
            "back\\slash",
            "line\nbreak\r\ttab",
            "nul\0 and \u{1b}[31m and \u{7f}",
            "ünïcödé ✓",
        ] {
            assert_eq!(Quoted(text).to_string(), format!("{text:?}"), "{text}");
        }
    }
}
