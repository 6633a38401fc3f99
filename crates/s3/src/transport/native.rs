//! A native transport for host programs and the native tests: hyper over tokio,
//! plain HTTP/1.1. Never part of a wasm build.
//!
//! Names under `.localhost` are sent to 127.0.0.1 with the original `Host` header
//! (RFC 6761 reserves them for loopback; the system resolver may not know them), so
//! virtual-hosted-style buckets can be tested against a local server.

use super::{Body, BoxFuture, Transport};
use crate::Error;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

type RequestBody = UnsyncBoxBody<Bytes, Error>;

/// hyper's client; needs a tokio runtime.
#[derive(Clone)]
pub struct NativeTransport {
    client: Client<HttpConnector, RequestBody>,
}

impl Default for NativeTransport {
    fn default() -> Self {
        NativeTransport::new()
    }
}

impl NativeTransport {
    /// A client with a 10-second connect timeout that keeps idle connections for 30 seconds.
    pub fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        NativeTransport { client }
    }
}

impl Transport for NativeTransport {
    fn send(&self, request: http::Request<Body>) -> BoxFuture<'_, Result<http::Response<Body>, Error>> {
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            route_localhost_to_loopback(&mut parts)?;
            let length = body.len();
            if let (Some(length), false) = (length, parts.headers.contains_key(http::header::CONTENT_LENGTH)) {
                if length > 0 || parts.method == http::Method::PUT || parts.method == http::Method::POST {
                    parts.headers.insert(http::header::CONTENT_LENGTH, length.into());
                }
            }
            let body: RequestBody = match body.into_bytes() {
                Ok(bytes) => Full::new(bytes).map_err(|never| match never {}).boxed_unsync(),
                Err(body) => StreamBody::new(body.into_stream().map_ok(Frame::data)).boxed_unsync(),
            };
            let response = self
                .client
                .request(http::Request::from_parts(parts, body))
                .await
                .map_err(|e| Error::Transport(describe(&e)))?;
            let (parts, incoming) = response.into_parts();
            let length = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let stream = incoming
                .into_data_stream()
                .map(|chunk| chunk.map_err(|e| Error::Transport(describe(&e))));
            Ok(http::Response::from_parts(
                parts,
                Body::from_stream(Box::pin(stream), length),
            ))
        })
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

fn route_localhost_to_loopback(parts: &mut http::request::Parts) -> Result<(), Error> {
    let Some(authority) = parts.uri.authority().cloned() else {
        return Ok(());
    };
    let host = authority.host();
    if !host.ends_with(".localhost") {
        return Ok(());
    }
    let loopback = match authority.port_u16() {
        Some(port) => format!("127.0.0.1:{port}"),
        None => "127.0.0.1".to_owned(),
    };
    let mut uri = parts.uri.clone().into_parts();
    uri.authority = Some(
        loopback
            .parse()
            .map_err(|e| Error::InvalidInput(format!("bad authority: {e}")))?,
    );
    parts.uri = http::Uri::from_parts(uri).map_err(|e| Error::InvalidInput(format!("bad URI: {e}")))?;
    let host_value = http::HeaderValue::from_str(authority.as_str())
        .map_err(|_| Error::InvalidInput(format!("bad host {authority}")))?;
    parts.headers.insert(http::header::HOST, host_value);
    Ok(())
}

/// hyper's errors put the useful part (connection refused…) in their sources.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
