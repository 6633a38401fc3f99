//! ListParts: `GET /{key}?uploadId=…` — the parts uploaded so far.

use super::parse_xml;
use crate::error::Error;
use crate::s3::S3Request;
use http::Method;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListPartsResult {
    #[serde(rename = "Part")]
    parts: Vec<PartXml>,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "NextPartNumberMarker")]
    next_part_number_marker: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PartXml {
    #[serde(rename = "PartNumber")]
    part_number: u32,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "Size")]
    size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInfo {
    pub part_number: u32,
    pub etag: String,
    pub size: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPartsOutput {
    pub parts: Vec<PartInfo>,
    /// Pass back as `part_number_marker` for the next page.
    pub next_part_number_marker: Option<u32>,
}

pub struct ListParts;

impl ListParts {
    pub fn request(key: &str, upload_id: &str, part_number_marker: Option<u32>) -> S3Request {
        let request = S3Request::new(Method::GET, Some(key)).query("uploadId", upload_id);
        match part_number_marker {
            Some(marker) => request.query("part-number-marker", marker.to_string()),
            None => request,
        }
    }

    pub fn parse(body: &[u8]) -> Result<ListPartsOutput, Error> {
        let result: ListPartsResult = parse_xml(body, "ListPartsResult")?;
        Ok(ListPartsOutput {
            parts: result
                .parts
                .into_iter()
                .map(|p| PartInfo {
                    part_number: p.part_number,
                    etag: p.etag,
                    size: p.size,
                })
                .collect(),
            next_part_number_marker: if result.is_truncated {
                result.next_part_number_marker
            } else {
                None
            },
        })
    }
}
