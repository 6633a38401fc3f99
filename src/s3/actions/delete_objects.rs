//! DeleteObjects: `POST /?delete` with up to 1000 keys; per-key errors are reported.

use super::{parse_xml, to_xml};
use crate::error::Error;
use crate::s3::S3Request;
use crate::transport::Body;
use base64::Engine as _;
use http::Method;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// S3's limit on keys per DeleteObjects request.
pub const MAX_KEYS_PER_DELETE: usize = 1000;

#[derive(Serialize)]
struct DeleteDocument<'a> {
    #[serde(rename = "Quiet")]
    quiet: bool,
    #[serde(rename = "Object")]
    objects: Vec<ObjectIdentifier<'a>>,
}

#[derive(Serialize)]
struct ObjectIdentifier<'a> {
    #[serde(rename = "Key")]
    key: &'a str,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteResult {
    #[serde(rename = "Deleted")]
    deleted: Vec<DeletedXml>,
    #[serde(rename = "Error")]
    errors: Vec<ErrorXml>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeletedXml {
    #[serde(rename = "Key")]
    key: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorXml {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message")]
    message: String,
}

/// A key S3 could not delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedError {
    pub key: String,
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteObjectsOutput {
    /// Keys deleted (in quiet mode S3 lists none, so these are the keys sent minus the errors).
    pub deleted: Vec<String>,
    pub errors: Vec<DeletedError>,
}

pub struct DeleteObjects;

impl DeleteObjects {
    /// The request for one batch. AWS requires `Content-MD5` on this call, so it is sent
    /// (it is not one of the newer `x-amz-checksum-*` headers some providers reject).
    pub fn request(keys: &[String]) -> Result<S3Request, Error> {
        if keys.is_empty() || keys.len() > MAX_KEYS_PER_DELETE {
            return Err(Error::InvalidInput(format!(
                "DeleteObjects takes 1 to {MAX_KEYS_PER_DELETE} keys, not {}",
                keys.len()
            )));
        }
        for key in keys {
            crate::s3::bucket::validate_key(key)?;
        }
        let document = DeleteDocument {
            quiet: true,
            objects: keys.iter().map(|key| ObjectIdentifier { key }).collect(),
        };
        let xml = to_xml("Delete", &document)?;
        let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(xml.as_bytes()));
        S3Request::new(Method::POST, None)
            .query("delete", "")
            .header("content-type", "application/xml")?
            .header("content-md5", &md5)
            .map(|request| request.body(Body::from(xml)))
    }

    pub fn parse(keys: &[String], body: &[u8]) -> Result<DeleteObjectsOutput, Error> {
        let result: DeleteResult = parse_xml(body, "DeleteResult")?;
        let errors: Vec<DeletedError> = result
            .errors
            .into_iter()
            .map(|e| DeletedError {
                key: e.key,
                code: e.code,
                message: e.message,
            })
            .collect();
        let deleted = if result.deleted.is_empty() {
            keys.iter()
                .filter(|k| !errors.iter().any(|e| &e.key == *k))
                .cloned()
                .collect()
        } else {
            result.deleted.into_iter().map(|d| d.key).collect()
        };
        Ok(DeleteObjectsOutput { deleted, errors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_escaped_keys_and_reads_per_key_errors() {
        let keys = vec!["a&b".to_owned(), "c<d".to_owned()];
        let request = DeleteObjects::request(&keys).unwrap();
        let body = std::str::from_utf8(request.body.as_bytes().unwrap())
            .unwrap()
            .to_owned();
        assert!(
            body.contains("<Key>a&amp;b</Key>") && body.contains("<Key>c&lt;d</Key>"),
            "{body}"
        );
        assert!(request.headers.contains_key("content-md5"));
        let out = DeleteObjects::parse(
            &keys,
            b"<DeleteResult><Error><Key>c&lt;d</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>",
        )
        .unwrap();
        assert_eq!(out.deleted, vec!["a&b"]);
        assert_eq!(out.errors[0].key, "c<d");
        assert!(DeleteObjects::request(&vec!["k".to_owned(); 1001]).is_err());
    }
}
