//! UploadPart: `PUT /{key}?partNumber=N&uploadId=…` → the part's ETag.

use crate::error::Error;
use crate::protocol::S3Request;
use crate::transport::Body;
use http::Method;

/// S3 numbers parts 1 to 10 000.
pub const MAX_PARTS: u32 = 10_000;

/// UploadPart, `PUT /{key}?partNumber=N&uploadId=…`: one part of a multipart upload.
/// Every part but the last must be at least 5 MiB.
pub struct UploadPart;

impl UploadPart {
    /// The request for part `part_number`, 1 to 10 000; any other number is an input error.
    pub fn request(key: &str, upload_id: &str, part_number: u32, body: Body) -> Result<S3Request, Error> {
        if !(1..=MAX_PARTS).contains(&part_number) {
            return Err(Error::InvalidInput(format!(
                "part number must be 1 to {MAX_PARTS}, not {part_number}: raise the part size"
            )));
        }
        Ok(S3Request::new(Method::PUT, Some(key))
            .query("partNumber", part_number.to_string())
            .query("uploadId", upload_id)
            .body(body))
    }

    /// The part's ETag, quotes included; an answer without one is an invalid response.
    pub fn parse(headers: &http::HeaderMap) -> Result<String, Error> {
        headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_response("UploadPart answer has no ETag"))
    }
}
