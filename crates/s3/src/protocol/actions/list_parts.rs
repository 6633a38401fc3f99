//! ListParts: `GET /{key}?uploadId=…` — the parts uploaded so far.

use crate::error::Error;
use crate::protocol::{xml, S3Request};
use http::Method;

/// A part uploaded so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInfo {
    /// Its number, 1 to 10 000.
    pub part_number: u32,
    /// Its ETag, quotes included.
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
}

/// One page of a multipart upload's parts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPartsOutput {
    /// The parts on this page, by part number.
    pub parts: Vec<PartInfo>,
    /// Pass back as `part_number_marker` for the next page.
    pub next_part_number_marker: Option<u32>,
}

/// ListParts, `GET /{key}?uploadId=…`: the parts of a multipart upload uploaded so far,
/// a page at a time.
pub struct ListParts;

impl ListParts {
    /// The request for one page, after part `part_number_marker` (the previous page's
    /// `next_part_number_marker`; `None` for the first page).
    pub fn request(key: &str, upload_id: &str, part_number_marker: Option<u32>) -> S3Request {
        let request = S3Request::new(Method::GET, Some(key)).query("uploadId", upload_id);
        match part_number_marker {
            Some(marker) => request.query("part-number-marker", marker.to_string()),
            None => request,
        }
    }

    /// Reads one page.
    pub fn parse(body: &[u8]) -> Result<ListPartsOutput, Error> {
        let result = xml::parse(body, "ListPartsResult")?;
        let parts = result
            .all("Part")
            .map(|p| {
                Ok(PartInfo {
                    part_number: p.number("PartNumber")?.unwrap_or(0),
                    etag: p.text("ETag")?.unwrap_or_default(),
                    size: p.number("Size")?.unwrap_or(0),
                })
            })
            .collect::<Result<_, Error>>()?;
        // Read (and so checked) even when the listing is complete, as before.
        let marker = result.number("NextPartNumberMarker")?;
        Ok(ListPartsOutput {
            parts,
            next_part_number_marker: if result.flag("IsTruncated")? { marker } else { None },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parts_and_the_next_marker() {
        let out = ListParts::parse(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult><Bucket>b</Bucket><Key>a&amp;b</Key>\
              <UploadId>id</UploadId><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>\
              <MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>\
              <Part><PartNumber>1</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified>\
              <ETag>&quot;7778aef83f66abc1fa1e8477f296d394&quot;</ETag><Size>10485760</Size></Part>\
              <Part><PartNumber>2</PartNumber><ETag>\"aaaa18db4cc2f85cedef654fccc4a4x8\"</ETag><Size>5</Size></Part>\
              </ListPartsResult>",
        )
        .unwrap();
        assert_eq!(
            out.parts,
            vec![
                PartInfo {
                    part_number: 1,
                    etag: "\"7778aef83f66abc1fa1e8477f296d394\"".into(),
                    size: 10485760
                },
                PartInfo {
                    part_number: 2,
                    etag: "\"aaaa18db4cc2f85cedef654fccc4a4x8\"".into(),
                    size: 5
                },
            ]
        );
        assert_eq!(out.next_part_number_marker, Some(2));
    }

    #[test]
    fn a_complete_or_empty_listing_has_no_next_marker() {
        let out = ListParts::parse(
            b"<ListPartsResult><IsTruncated>false</IsTruncated><NextPartNumberMarker>3</NextPartNumberMarker></ListPartsResult>",
        )
        .unwrap();
        assert_eq!(out, ListPartsOutput::default());
        assert_eq!(
            ListParts::parse(b"<ListPartsResult/>").unwrap(),
            ListPartsOutput::default()
        );
    }

    #[test]
    fn malformed_xml_is_an_error() {
        for body in [
            &b"<ListPartsResult><Part><PartNumber>1</PartNumber></Part>"[..],
            b"<ListPartsResult><Part><PartNumber>one</PartNumber></Part></ListPartsResult>",
            b"<ListPartsResult><Part><PartNumber>99999999999</PartNumber></Part></ListPartsResult>",
        ] {
            assert!(matches!(ListParts::parse(body), Err(Error::InvalidResponse(_))));
        }
    }
}
