//! S3's error model: status, `Code`, `Message`, `RequestId`, the bucket's real region,
//! and a hint in the words of PocketBase's troubleshooting guide.

use super::xml;
use crate::error::Quoted;
use http::HeaderMap;
use std::fmt;

/// An error answer from S3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Error {
    pub status: u16,
    /// S3's code (`NoSuchBucket`, `AccessDenied`…); for answers without a body (HEAD),
    /// the code that the status stands for.
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// The bucket's real region, when S3 said it (in the error or `x-amz-bucket-region`).
    pub bucket_region: Option<String>,
    /// The region the request was signed for.
    pub signed_region: String,
}

/// Which kind of resource a request was for, to name a bodiless 404 correctly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Bucket,
    Object,
}

/// What an `<Error>` document says.
#[derive(Default)]
struct ErrorXml {
    code: String,
    message: String,
    request_id: Option<String>,
    region: Option<String>,
}

impl ErrorXml {
    /// `None` when the body is not a readable document (the status then decides).
    fn read(body: &[u8]) -> Option<ErrorXml> {
        let error = xml::parse(body, "Error").ok()?;
        Some(ErrorXml {
            code: error.text("Code").ok()?.unwrap_or_default(),
            message: error.text("Message").ok()?.unwrap_or_default(),
            request_id: error.text("RequestId").ok()?,
            region: error.text("Region").ok()?,
        })
    }
}

pub const ACCESS_HINT: &str = "check the access key and secret, and that the bucket policy allows \
                                s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket";
pub const PATH_STYLE_HINT: &str =
    "check the bucket name, or try toggling force path style (MinIO needs it on, AWS off)";

impl S3Error {
    /// Reads an error answer. `body` may be empty (HEAD) or not XML at all (a proxy's
    /// HTML page); the status then decides the code.
    pub fn from_response(status: u16, headers: &HeaderMap, body: &[u8], signed_region: &str, target: Target) -> Self {
        let parsed = std::str::from_utf8(body)
            .ok()
            .filter(|text| text.contains("<Error"))
            .and_then(|_| ErrorXml::read(body));
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let request_id = header("x-amz-request-id");
        let mut error = match parsed {
            Some(xml) if !xml.code.is_empty() => S3Error {
                status,
                code: xml.code,
                message: xml.message,
                request_id: xml.request_id.or(request_id),
                bucket_region: xml.region,
                signed_region: signed_region.to_owned(),
            },
            _ => S3Error {
                status,
                code: code_for_status(status, target).to_owned(),
                message: String::new(),
                request_id,
                bucket_region: None,
                signed_region: signed_region.to_owned(),
            },
        };
        if error.bucket_region.is_none() {
            error.bucket_region = header("x-amz-bucket-region").or_else(|| expected_region(&error.message));
        }
        error
    }

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

fn code_for_status(status: u16, target: Target) -> &'static str {
    match (status, target) {
        (301, _) => "PermanentRedirect",
        (304, _) => "NotModified",
        (400, _) => "BadRequest",
        (403, _) => "AccessDenied",
        (404, Target::Bucket) => "NoSuchBucket",
        (404, Target::Object) => "NoSuchKey",
        (405, _) => "MethodNotAllowed",
        (409, _) => "Conflict",
        (412, _) => "PreconditionFailed",
        (416, _) => "InvalidRange",
        (500, _) => "InternalError",
        (501, _) => "NotImplemented",
        (503, _) => "ServiceUnavailable",
        _ => "UnknownError",
    }
}

/// AWS names the right region inside the message of `AuthorizationHeaderMalformed`:
/// "the region 'us-east-1' is wrong; expecting 'eu-west-1'".
fn expected_region(message: &str) -> Option<String> {
    let rest = &message[message.find("expecting '")? + "expecting '".len()..];
    let region = &rest[..rest.find('\'')?];
    (!region.is_empty()).then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, xml: &str) -> S3Error {
        S3Error::from_response(status, &HeaderMap::new(), xml.as_bytes(), "us-east-1", Target::Object)
    }

    #[test]
    fn reads_the_error_document_and_gives_the_fix() {
        let e = parse(
            403,
            "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message>\
             <RequestId>4442587FB7D0A2F9</RequestId></Error>",
        );
        assert_eq!(e.request_id.as_deref(), Some("4442587FB7D0A2F9"));
        assert!(e
            .to_string()
            .starts_with("status code 403: AccessDenied — check the access key and secret"));
    }

    #[test]
    fn names_the_real_region() {
        let e = parse(
            400,
            "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; \
             the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>",
        );
        assert!(e
            .to_string()
            .contains("AuthorizationHeaderMalformed — the bucket is in eu-west-1, not us-east-1"));
    }

    #[test]
    fn a_bodiless_answer_takes_its_code_from_the_status() {
        let e = S3Error::from_response(404, &HeaderMap::new(), b"", "us-east-1", Target::Bucket);
        assert_eq!(e.code, "NoSuchBucket");
        assert!(e.to_string().contains("try toggling force path style"));
        let e = S3Error::from_response(502, &HeaderMap::new(), b"<html>bad gateway</html>", "r", Target::Object);
        assert_eq!(e.code, "UnknownError");
        assert!(e.is_retryable());
    }

    #[test]
    fn reads_every_field_and_resolves_entities() {
        let e = parse(
            404,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>The key &quot;a&amp;b&quot; does not exist</Message><Key>a&amp;b</Key>\
             <RequestId>tx1</RequestId><HostId>h</HostId><Region>eu-west-1</Region></Error>",
        );
        assert_eq!(e.code, "NoSuchKey");
        assert_eq!(e.message, "The key \"a&b\" does not exist");
        assert_eq!(e.request_id.as_deref(), Some("tx1"));
        assert_eq!(e.bucket_region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn an_unreadable_error_document_falls_back_to_the_status() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-request-id", "from-header".parse().unwrap());
        for body in [
            "<Error><Code>SlowDown</Code>",
            "<Error><Message>m</Message></Error>",
            "<Error/>",
        ] {
            let e = S3Error::from_response(503, &headers, body.as_bytes(), "r", Target::Object);
            assert_eq!(
                (e.code.as_str(), e.message.as_str()),
                ("ServiceUnavailable", ""),
                "{body}"
            );
            assert_eq!(e.request_id.as_deref(), Some("from-header"));
        }
    }
}
