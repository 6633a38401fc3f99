//! CreateMultipartUpload: `POST /{key}?uploads` → an upload id.

use super::{parse_xml, ObjectOptions};
use crate::error::Error;
use crate::s3::S3Request;
use http::Method;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
struct InitiateMultipartUploadResult {
    #[serde(rename = "UploadId")]
    upload_id: String,
}

pub struct CreateMultipartUpload;

impl CreateMultipartUpload {
    pub fn request(key: &str, options: &ObjectOptions) -> Result<S3Request, Error> {
        options.apply(S3Request::new(Method::POST, Some(key)).query("uploads", ""))
    }

    pub fn parse(body: &[u8]) -> Result<String, Error> {
        let result: InitiateMultipartUploadResult = parse_xml(body, "InitiateMultipartUploadResult")?;
        if result.upload_id.is_empty() {
            return Err(Error::invalid_response("InitiateMultipartUploadResult has no UploadId"));
        }
        Ok(result.upload_id)
    }
}
