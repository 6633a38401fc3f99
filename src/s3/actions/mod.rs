//! One request builder and one response parser per S3 operation, a file each.
//!
//! Builders produce an unsigned [`S3Request`](super::S3Request); parsers read the
//! status, headers and (small, XML) body of the answer. Neither does IO.

mod abort_multipart_upload;
mod complete_multipart_upload;
mod copy_object;
mod create_bucket;
mod create_multipart_upload;
mod delete_object;
mod delete_objects;
mod get_object;
mod head_bucket;
mod head_object;
mod list_multipart_uploads;
mod list_objects_v2;
mod list_parts;
mod object_meta;
mod put_object;
mod upload_part;

pub use abort_multipart_upload::AbortMultipartUpload;
pub use complete_multipart_upload::{CompleteMultipartUpload, CompletedPart};
pub use copy_object::{CopyObject, CopyObjectOutput, MetadataDirective};
pub use create_bucket::CreateBucket;
pub use create_multipart_upload::CreateMultipartUpload;
pub use delete_object::DeleteObject;
pub use delete_objects::{DeleteObjects, DeleteObjectsOutput, DeletedError, MAX_KEYS_PER_DELETE};
pub use get_object::{ByteRange, GetObject};
pub use head_bucket::HeadBucket;
pub use head_object::HeadObject;
pub use list_multipart_uploads::{ListMultipartUploads, ListMultipartUploadsOutput, MultipartUploadInfo};
pub use list_objects_v2::{ListObjectsV2, ListObjectsV2Output, ListedObject};
pub use list_parts::{ListParts, ListPartsOutput, PartInfo};
pub use object_meta::{ContentRange, ObjectMeta};
pub use put_object::{ObjectOptions, PutObject};
pub use upload_part::UploadPart;

use crate::error::Error;

/// Parses an XML answer, naming the document when it is not what S3 should send.
pub(crate) fn parse_xml<T: serde::de::DeserializeOwned>(body: &[u8], document: &str) -> Result<T, Error> {
    let text = std::str::from_utf8(body).map_err(|_| Error::invalid_response(format!("{document} is not UTF-8")))?;
    quick_xml::de::from_str(text).map_err(|e| Error::invalid_response(format!("malformed {document}: {e}")))
}

/// The name of a document's root element (after the XML declaration, comments and
/// any whitespace: AWS pads slow CompleteMultipartUpload answers with spaces).
pub fn root_element(body: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer).ok()? {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                return Some(e.local_name().into_inner().to_owned())
            }
            quick_xml::events::Event::Eof => return None,
            _ => buffer.clear(),
        }
    }
}

/// Writes a request document.
pub(crate) fn to_xml<T: serde::Serialize>(root: &str, value: &T) -> Result<String, Error> {
    quick_xml::se::to_string_with_root(root, value)
        .map_err(|e| Error::InvalidInput(format!("cannot write the {root} document: {e}")))
}

/// Decodes a value of a listing sent with `encoding-type=url` (`+` is a space, as in
/// form encoding; a literal plus arrives as `%2B`).
pub(crate) fn url_decode(value: &str) -> String {
    let spaced = value.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_root_element_past_padding() {
        let padded = format!(
            "{}<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code></Error>",
            " ".repeat(2000)
        );
        assert_eq!(super::root_element(padded.as_bytes()).as_deref(), Some("Error"));
        assert_eq!(
            super::root_element(b"<CompleteMultipartUploadResult/>").as_deref(),
            Some("CompleteMultipartUploadResult")
        );
        assert_eq!(super::root_element(b"not xml").as_deref(), None);
    }
}
