//! DeleteObjects: `POST /?delete` with up to 1000 keys; per-key errors are reported.

use crate::error::Error;
use crate::protocol::{xml, S3Request};
use crate::transport::Body;
use base64::Engine as _;
use http::Method;
use md5::{Digest, Md5};

/// S3's limit on keys per DeleteObjects request.
pub const MAX_KEYS_PER_DELETE: usize = 1000;

/// A key S3 could not delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedError {
    /// The key that is still there.
    pub key: String,
    /// S3's error code for it (`AccessDenied`…).
    pub code: String,
    /// S3's explanation.
    pub message: String,
}

/// What a DeleteObjects call deleted, and what it could not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteObjectsOutput {
    /// Keys deleted (in quiet mode S3 lists none, so these are the keys sent minus the errors).
    pub deleted: Vec<String>,
    /// Keys S3 could not delete, with the reason.
    pub errors: Vec<DeletedError>,
}

/// DeleteObjects, `POST /?delete`: up to [`MAX_KEYS_PER_DELETE`] keys in one request, in
/// quiet mode.
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
            crate::protocol::bucket::validate_key(key)?;
        }
        // Quiet: S3 lists only the keys it could not delete.
        let mut document = String::from("<Delete><Quiet>true</Quiet>");
        for key in keys {
            document.push_str("<Object>");
            xml::push_element(&mut document, "Key", key);
            document.push_str("</Object>");
        }
        document.push_str("</Delete>");
        let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(document.as_bytes()));
        S3Request::new(Method::POST, None)
            .query("delete", "")
            .header("content-type", "application/xml")?
            .header("content-md5", &md5)
            .map(|request| request.body(Body::from(document)))
    }

    /// Reads the answer to the batch `keys`. In quiet mode S3 lists only the failures, so
    /// the keys deleted are then the batch's minus those.
    pub fn parse(keys: &[String], body: &[u8]) -> Result<DeleteObjectsOutput, Error> {
        let result = xml::parse(body, "DeleteResult")?;
        let errors = result
            .all("Error")
            .map(|e| {
                Ok(DeletedError {
                    key: e.text("Key")?.unwrap_or_default(),
                    code: e.text("Code")?.unwrap_or_default(),
                    message: e.text("Message")?.unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let deleted = result
            .all("Deleted")
            .map(|d| Ok(d.text("Key")?.unwrap_or_default()))
            .collect::<Result<Vec<_>, Error>>()?;
        let deleted = if deleted.is_empty() {
            keys.iter()
                .filter(|k| !errors.iter().any(|e| &e.key == *k))
                .cloned()
                .collect()
        } else {
            deleted
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

    #[test]
    fn writes_the_document_as_the_serde_serializer_did() {
        // The body is hashed into Content-MD5, so it is pinned byte for byte.
        let keys = vec!["a b/ü".to_owned(), "c<d>'\"e".to_owned()];
        let request = DeleteObjects::request(&keys).unwrap();
        assert_eq!(
            std::str::from_utf8(request.body.as_bytes().unwrap()).unwrap(),
            "<Delete><Quiet>true</Quiet><Object><Key>a b/ü</Key></Object>\
             <Object><Key>c&lt;d&gt;'\"e</Key></Object></Delete>"
        );
    }

    #[test]
    fn reads_deleted_keys_and_empty_results() {
        let keys = vec!["a&b".to_owned(), "x y".to_owned()];
        let out = DeleteObjects::parse(
            &keys,
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n\
              <Deleted><Key>a&amp;b</Key></Deleted>\n<Error><Key>x y</Key><Code>InternalError</Code>\
              <Message>We encountered an internal error.</Message></Error>\n<Deleted><Key>z</Key></Deleted></DeleteResult>",
        )
        .unwrap();
        assert_eq!(out.deleted, vec!["a&b", "z"]);
        assert_eq!(
            out.errors,
            vec![DeletedError {
                key: "x y".into(),
                code: "InternalError".into(),
                message: "We encountered an internal error.".into(),
            }]
        );
        let out = DeleteObjects::parse(&keys, b"<DeleteResult/>").unwrap();
        assert_eq!(out.deleted, keys);
        assert!(out.errors.is_empty());
        let error = DeleteObjects::parse(&keys, b"<DeleteResult><Deleted>").unwrap_err();
        assert!(error.to_string().contains("malformed DeleteResult"), "{error}");
    }
}
