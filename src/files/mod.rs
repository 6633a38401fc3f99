//! Files as PocketBase stores and serves them: sanitized names with a random suffix,
//! content types sniffed from the bytes, and the headers of a file download.

mod names;
pub mod ranges;
mod serve;
mod sniff;

pub use names::sanitize;
pub use serve::{content_disposition, get_options, respond, serve, single_read, ServeOptions};
pub use sniff::{content_type_for, extension_for};

/// Where a record's file lives: `{collectionId}/{recordId}/{filename}`, PocketBase's layout.
pub fn key(collection_id: &str, record_id: &str, filename: &str) -> String {
    format!("{collection_id}/{record_id}/{filename}")
}
