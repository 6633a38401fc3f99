//! The HTTP API, platform-free: `http::Request` in, `http::Response` out.
//! (Placeholder: the health endpoint and 404s are being written.)
