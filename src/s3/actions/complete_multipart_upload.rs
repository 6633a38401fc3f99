//! CompleteMultipartUpload: `POST /{key}?uploadId=…` with the parts' numbers and ETags.

use super::{parse_xml, to_xml};
use crate::error::Error;
use crate::s3::S3Request;
use crate::transport::Body;
use http::Method;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CompletedPart {
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    #[serde(rename = "ETag")]
    pub etag: String,
}

#[derive(Serialize)]
struct CompleteDocument<'a> {
    #[serde(rename = "Part")]
    parts: &'a [CompletedPart],
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CompleteMultipartUploadResult {
    #[serde(rename = "ETag")]
    etag: Option<String>,
}

pub struct CompleteMultipartUpload;

impl CompleteMultipartUpload {
    /// `parts` must be in ascending part-number order.
    pub fn request(key: &str, upload_id: &str, parts: &[CompletedPart]) -> Result<S3Request, Error> {
        if parts.is_empty() || parts.windows(2).any(|w| w[0].part_number >= w[1].part_number) {
            return Err(Error::InvalidInput(
                "CompleteMultipartUpload needs parts in ascending order".into(),
            ));
        }
        let xml = to_xml("CompleteMultipartUpload", &CompleteDocument { parts })?;
        S3Request::new(Method::POST, Some(key))
            .query("uploadId", upload_id)
            .header("content-type", "application/xml")
            .map(|request| request.body(Body::from(xml)))
    }

    /// The object's ETag. A 200 answer whose body is an `<Error>` is checked by the
    /// caller before this.
    pub fn parse(body: &[u8]) -> Result<Option<String>, Error> {
        let result: CompleteMultipartUploadResult = parse_xml(body, "CompleteMultipartUploadResult")?;
        Ok(result.etag)
    }
}
