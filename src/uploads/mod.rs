//! Uploads of any size (issue 14): the tus resumable-upload protocol.

pub mod tus;
