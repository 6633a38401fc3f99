//! The S3 client's errors: [`Error`] for everything between settings and an answer,
//! [`S3Error`] for an error S3 itself answered (its words, with a hint), and [`Quoted`]
//! for texts inside messages. Depends on nothing else of the crate, so every layer can
//! use it.

use std::fmt;

/// Everything that can go wrong between settings and an answer. [`Error::hint`] says
/// what to do about it.
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

    /// True when a conditional write found the object changed: 412 `PreconditionFailed`,
    /// or AWS's 409 `ConditionalRequestConflict` for two conditional writes at once.
    pub fn is_precondition_failed(&self) -> bool {
        matches!(self, Error::S3(e) if e.status == 412 || e.code == "PreconditionFailed" || e.code == "ConditionalRequestConflict")
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
    /// What is wrong with it (`must be set`, `must start with https:// or http://`…).
    pub problem: String,
}

impl SettingsError {
    /// An error for `field`, named in PocketBase's JSON spelling.
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        SettingsError {
            field,
            problem: problem.into(),
        }
    }

    /// What to change, in a sentence.
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

/// An error answer from S3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Error {
    /// The answer's HTTP status.
    pub status: u16,
    /// S3's code (`NoSuchBucket`, `AccessDenied`…); for answers without a body (HEAD),
    /// the code that the status stands for.
    pub code: String,
    /// S3's `Message`; empty when the answer had no readable body.
    pub message: String,
    /// S3's request id (from the body or `x-amz-request-id`), for the provider's support.
    pub request_id: Option<String>,
    /// The bucket's real region, when S3 said it (in the error or `x-amz-bucket-region`).
    pub bucket_region: Option<String>,
    /// The region the request was signed for.
    pub signed_region: String,
}

/// The hint for a refused request: credentials or the bucket policy.
pub const ACCESS_HINT: &str = "check the access key and secret, and that the bucket policy allows \
                                s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket";
/// The hint for `NoSuchBucket`: the bucket's name or the URL style is wrong.
pub const PATH_STYLE_HINT: &str =
    "check the bucket name, or try toggling force path style (MinIO needs it on, AWS off)";

impl S3Error {
    /// True when a retry may succeed: overload, internal errors and timeouts.
    pub fn is_retryable(&self) -> bool {
        matches!(self.status, 500 | 502 | 503 | 504)
            || matches!(
                self.code.as_str(),
                "SlowDown" | "InternalError" | "RequestTimeout" | "ServiceUnavailable"
            )
    }

    /// What a user should change, when we know.
    pub fn hint(&self) -> Option<String> {
        let message = self.message.to_ascii_lowercase();
        let hint = match self.code.as_str() {
            // SeaweedFS and AWS: 403 AccessDenied "Request has expired";
            // Garage: 400 InvalidRequest "Date is too old".
            "AccessDenied" | "Forbidden" | "InvalidRequest" if message.contains("expired") || message.contains("too old") => {
                "the presigned URL has expired: presign a new one (for a header-signed request, check this machine's clock)"
                    .to_owned()
            }
            "AccessDenied" | "Forbidden" | "AllAccessDisabled" | "AccountProblem" => ACCESS_HINT.to_owned(),
            "InvalidAccessKeyId" => {
                "the access key is unknown to this server: check the access key (and the endpoint)".into()
            }
            "SignatureDoesNotMatch" => "the secret does not match the access key: check the secret key".into(),
            "NoSuchBucket" => PATH_STYLE_HINT.to_owned(),
            "AuthorizationHeaderMalformed"
            | "AuthorizationQueryParametersError"
            | "PermanentRedirect"
            | "IllegalLocationConstraintException" => self.region_hint(),
            "RequestTimeTooSkewed" => "this machine's clock differs from the server's by more than 15 minutes".into(),
            "ExpiredToken" | "TokenRefreshRequired" => "the session token has expired: get new credentials".into(),
            "InvalidToken" => "the session token is not valid for these credentials".into(),
            "SlowDown" | "ServiceUnavailable" | "503" => {
                "the server is overloaded: retry later, or lower the upload concurrency".into()
            }
            "EntityTooSmall" => "every multipart part but the last must be at least 5 MiB".into(),
            "EntityTooLarge" => "the object is larger than the server accepts in one request: use multipart".into(),
            "InvalidDigest" | "BadDigest" | "XAmzContentSHA256Mismatch" => {
                "the body changed between signing and sending (a proxy re-encoding it?)".into()
            }
            "InvalidBucketName" => "bucket names are 3-63 characters of a-z, 0-9, '.' and '-'".into(),
            "NoSuchUpload" => "the multipart upload was already completed or aborted".into(),
            "InvalidRange" => "the requested range starts past the end of the object".into(),
            "NoSuchKey" | "NotFound" => "no object has this key".into(),
            _ if self.status == 403 => ACCESS_HINT.to_owned(),
            _ => return None,
        };
        Some(hint)
    }

    fn region_hint(&self) -> String {
        match &self.bucket_region {
            Some(real) if !real.eq_ignore_ascii_case(&self.signed_region) => {
                format!(
                    "the bucket is in {real}, not {}: set the region to {real}",
                    self.signed_region
                )
            }
            _ => format!(
                "the region {} does not match the bucket's region: set it exactly as the provider shows it",
                Quoted(&self.signed_region)
            ),
        }
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status code {}: {}", self.status, self.code)?;
        if let Some(hint) = self.hint() {
            write!(f, " — {hint}")?;
        }
        if !self.message.is_empty() {
            write!(f, " (S3 said: {}", Quoted(&self.message))?;
            if let Some(id) = &self.request_id {
                write!(f, ", request id {id}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for S3Error {}

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
