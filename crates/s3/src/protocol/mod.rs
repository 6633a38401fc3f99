//! The S3 protocol, without IO: settings, the bucket's URLs and signing, one request
//! builder and parser per operation (over a small XML reader and writer), S3's
//! error model, and the providers' quirks.

pub mod actions;
pub mod bucket;
pub mod error;
pub mod profile;
pub mod settings;
mod xml;

pub use bucket::{Bucket, S3Request, MAX_PRESIGN_EXPIRY};
pub use error::{S3Error, Target};
pub use profile::{PathStyle, Profile, Provider, Quirks};
pub use settings::{Endpoint, S3Settings};
