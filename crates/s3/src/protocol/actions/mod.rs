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

pub use super::xml::root_element;

/// Decodes a value of a listing sent with `encoding-type=url` (`+` is a space, as in
/// form encoding; a literal plus arrives as `%2B`).
pub(crate) fn url_decode(value: &str) -> String {
    let spaced = value.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}
