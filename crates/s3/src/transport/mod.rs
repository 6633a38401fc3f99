//! The transport: the one place where edgefs does network IO.
//!
//! Everything above it (signing, the S3 protocol, storage, the API) builds
//! `http::Request<Body>` values and reads `http::Response<Body>` values; a
//! [`Transport`] sends them. Implementations: `fetch` for Workers and browsers
//! (JavaScript `fetch`, feature `js`), `native` for host programs and tests (hyper +
//! tokio, feature `native`), and `wasi_http` for the component (`wasi:http`, feature
//! `wasi-http`). Each module exists only with its feature, on its target.

mod body;
#[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
pub mod fetch;
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod native;
#[cfg(all(feature = "wasi-http", target_os = "wasi"))]
pub mod wasi_http;

pub use body::{Body, ByteStream};

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future: `Send` natively, not on wasm32 (JavaScript values are not `Send`).
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed future: `Send` natively, not on wasm32 (JavaScript values are not `Send`).
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// `Send + Sync` natively, nothing on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync> MaybeSendSync for T {}
/// `Send + Sync` natively, nothing on wasm32.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendSync {}
#[cfg(target_arch = "wasm32")]
impl<T> MaybeSendSync for T {}

/// Sends HTTP requests with streaming bodies.
///
/// A transport must send the request as given: no added compression, no redirects
/// followed behind the caller's back (a signed request cannot be replayed elsewhere).
/// A response without `Content-Length` must produce a body of unknown length.
pub trait Transport: MaybeSendSync {
    /// Sends the request and returns the answer, whatever its status. `Err` means no answer
    /// came: usually an [`Error::Transport`](crate::Error::Transport).
    fn send(&self, request: http::Request<Body>) -> BoxFuture<'_, Result<http::Response<Body>, crate::Error>>;

    /// Waits, for retry back-off. Each platform has its own timer.
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn send(&self, request: http::Request<Body>) -> BoxFuture<'_, Result<http::Response<Body>, crate::Error>> {
        (**self).send(request)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        (**self).sleep(duration)
    }
}
