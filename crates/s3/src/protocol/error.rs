//! Reading S3's error answers: an `<Error>` document, or for a bodiless answer (HEAD)
//! the status, into an [`S3Error`] (defined with the client's other errors in
//! [`crate::error`], so that module needs nothing of the protocol's).

use super::xml;
pub use crate::error::{S3Error, ACCESS_HINT, PATH_STYLE_HINT};
use http::HeaderMap;

/// Which kind of resource a request was for, to name a bodiless 404 correctly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The bucket itself: a bodiless 404 is `NoSuchBucket`.
    Bucket,
    /// An object in it: a bodiless 404 is `NoSuchKey`.
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
}

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
