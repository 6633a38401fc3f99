//! ListMultipartUploads: `GET /?uploads` — uploads started and neither completed nor aborted.

use super::{parse_xml, url_decode};
use crate::error::Error;
use crate::s3::S3Request;
use http::Method;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListMultipartUploadsResult {
    #[serde(rename = "Upload")]
    uploads: Vec<UploadXml>,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "NextKeyMarker")]
    next_key_marker: Option<String>,
    #[serde(rename = "NextUploadIdMarker")]
    next_upload_id_marker: Option<String>,
    #[serde(rename = "EncodingType")]
    encoding_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UploadXml {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartUploadInfo {
    pub key: String,
    pub upload_id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListMultipartUploadsOutput {
    pub uploads: Vec<MultipartUploadInfo>,
    /// (key marker, upload id marker) for the next page.
    pub next_markers: Option<(String, String)>,
}

pub struct ListMultipartUploads;

impl ListMultipartUploads {
    pub fn request(prefix: Option<&str>, markers: Option<(&str, &str)>) -> S3Request {
        let mut request = S3Request::new(Method::GET, None)
            .query("uploads", "")
            .query("encoding-type", "url");
        if let Some(prefix) = prefix {
            request = request.query("prefix", prefix);
        }
        if let Some((key_marker, upload_id_marker)) = markers {
            request = request
                .query("key-marker", key_marker)
                .query("upload-id-marker", upload_id_marker);
        }
        request
    }

    pub fn parse(body: &[u8]) -> Result<ListMultipartUploadsOutput, Error> {
        let result: ListMultipartUploadsResult = parse_xml(body, "ListMultipartUploadsResult")?;
        let encoded = result.encoding_type.as_deref() == Some("url");
        let decode = |value: String| if encoded { url_decode(&value) } else { value };
        Ok(ListMultipartUploadsOutput {
            uploads: result
                .uploads
                .into_iter()
                .map(|u| MultipartUploadInfo {
                    key: decode(u.key),
                    upload_id: u.upload_id,
                })
                .collect(),
            next_markers: match (
                result.is_truncated,
                result.next_key_marker,
                result.next_upload_id_marker,
            ) {
                (true, Some(key), Some(id)) => Some((decode(key), id)),
                _ => None,
            },
        })
    }
}
