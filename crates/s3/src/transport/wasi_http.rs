//! The `wasi:http` transport, for WebAssembly components (`wasm32-wasip2`): requests go
//! out through the host's `wasi:http/outgoing-handler`, bodies move through `wasi:io`
//! streams, waits are `wasi:io/poll` pollables.
//!
//! A component has no async runtime, so this module brings the smallest one that
//! works: [`block_on`] runs one future to completion, and whenever it is stuck it
//! hands every pollable the future is waiting for to `wasi:io/poll.poll` (which
//! blocks in the host) and wakes the ones that became ready. Futures under it can
//! therefore wait for several things at once — the parts of a multipart upload go
//! up [`UploadConfig::concurrency`](crate::UploadConfig) at a time, as natively.
//!
//! Response bodies read the response's `input-stream` as the caller pulls
//! ([`Body::into_stream`]); [`take_incoming`] gets the `wasi:http` handles back out
//! of such a body, so a component can give the host the stream itself (to splice it
//! into another stream) instead of copying the bytes through its own memory.

use super::{Body, BoxFuture, ByteStream, Transport};
use crate::Error;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingBody, IncomingResponse, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll::Pollable;
use wasi::io::streams::{InputStream, OutputStream, StreamError};

/// How much one read of a `wasi:io` input stream asks for.
const READ_CHUNK: u64 = 64 * 1024;

// ------------------------------------------------------------------ the executor

/// Pollables that futures are waiting for, with the waker to call when one is ready.
#[derive(Default)]
struct Reactor {
    next_id: u64,
    waiting: HashMap<u64, (Rc<Pollable>, Waker)>,
}

thread_local! {
    static REACTOR: RefCell<Reactor> = RefCell::default();
}

/// A future that is ready when `pollable` is.
pub struct WaitFor {
    pollable: Rc<Pollable>,
    id: Option<u64>,
}

/// Waits for a pollable without blocking other futures under the same [`block_on`].
pub fn wait_for(pollable: Pollable) -> WaitFor {
    WaitFor {
        pollable: Rc::new(pollable),
        id: None,
    }
}

impl Future for WaitFor {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.pollable.ready() {
            self.deregister();
            return Poll::Ready(());
        }
        let pollable = self.pollable.clone();
        let id = REACTOR.with(|reactor| {
            let mut reactor = reactor.borrow_mut();
            let id = self.id.unwrap_or_else(|| {
                reactor.next_id += 1;
                reactor.next_id
            });
            reactor.waiting.insert(id, (pollable, cx.waker().clone()));
            id
        });
        self.id = Some(id);
        Poll::Pending
    }
}

impl WaitFor {
    fn deregister(&mut self) {
        if let Some(id) = self.id.take() {
            // The reactor's copy goes first: a pollable must be gone before the stream
            // or body it belongs to is dropped, or the host traps.
            let _ = REACTOR.try_with(|reactor| reactor.borrow_mut().waiting.remove(&id));
        }
    }
}

impl Drop for WaitFor {
    fn drop(&mut self) {
        self.deregister();
    }
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Runs a future to completion, blocking in `wasi:io/poll.poll` while it waits.
///
/// Not reentrant: a future under `block_on` must not call `block_on`.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        if flag.0.swap(false, Ordering::AcqRel) {
            continue; // woken while being polled: poll again
        }
        let waiting: Vec<(Rc<Pollable>, Waker)> = REACTOR.with(|reactor| {
            reactor
                .borrow()
                .waiting
                .values()
                .map(|(pollable, waker)| (pollable.clone(), waker.clone()))
                .collect()
        });
        assert!(
            !waiting.is_empty(),
            "block_on: the future is pending but waits for no pollable"
        );
        let list: Vec<&Pollable> = waiting.iter().map(|(pollable, _)| &**pollable).collect();
        for index in wasi::io::poll::poll(&list) {
            waiting[index as usize].1.wake_by_ref();
        }
        drop(list);
        drop(waiting);
        flag.0.store(false, Ordering::Release);
    }
}

// ------------------------------------------------------------------ the transport

/// Sends requests with the host's `wasi:http/outgoing-handler`.
#[derive(Clone, Copy, Debug)]
pub struct WasiHttpTransport {
    /// How long to wait for a connection (the host's default when `None`).
    pub connect_timeout: Option<Duration>,
    /// How long to wait for the first byte of an answer.
    pub first_byte_timeout: Option<Duration>,
    /// How long to wait between two bytes of an answer.
    pub between_bytes_timeout: Option<Duration>,
}

impl Default for WasiHttpTransport {
    fn default() -> Self {
        WasiHttpTransport {
            connect_timeout: Some(Duration::from_secs(10)),
            // A part of a multipart upload is sent before its first answer byte: no
            // fixed limit here, as with the native transport.
            first_byte_timeout: None,
            between_bytes_timeout: None,
        }
    }
}

impl WasiHttpTransport {
    /// A transport with a 10-second connect timeout and no limit on waiting for answers.
    pub fn new() -> Self {
        WasiHttpTransport::default()
    }

    fn options(&self) -> RequestOptions {
        let options = RequestOptions::new();
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        // A host that does not support a timeout refuses it; the request goes without.
        if let Some(d) = self.connect_timeout {
            let _ = options.set_connect_timeout(Some(nanos(d)));
        }
        if let Some(d) = self.first_byte_timeout {
            let _ = options.set_first_byte_timeout(Some(nanos(d)));
        }
        if let Some(d) = self.between_bytes_timeout {
            let _ = options.set_between_bytes_timeout(Some(nanos(d)));
        }
        options
    }
}

impl Transport for WasiHttpTransport {
    fn send(&self, request: http::Request<Body>) -> BoxFuture<'_, Result<http::Response<Body>, Error>> {
        Box::pin(send(request, self.options()))
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        Box::pin(wait_for(wasi::clocks::monotonic_clock::subscribe_duration(nanos)))
    }
}

fn http_error(error: ErrorCode) -> Error {
    Error::Transport(describe_error_code(&error))
}

fn describe_error_code(error: &ErrorCode) -> String {
    match error {
        ErrorCode::DnsError(payload) => format!(
            "DNS error{}",
            payload.rcode.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
        ),
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTimeout => "connection timed out".into(),
        ErrorCode::ConnectionReadTimeout => "timed out waiting for the answer".into(),
        ErrorCode::HttpResponseTimeout => "timed out waiting for the answer".into(),
        ErrorCode::TlsCertificateError => "the server's TLS certificate was refused".into(),
        ErrorCode::InternalError(Some(message)) => message.clone(),
        other => format!("{other:?}"),
    }
}

fn stream_error(error: StreamError) -> Error {
    match error {
        StreamError::Closed => Error::Transport("the stream was closed".into()),
        StreamError::LastOperationFailed(error) => {
            // A wasi:http body stream's error may be an HTTP error code.
            match wasi::http::types::http_error_code(&error) {
                Some(code) => http_error(code),
                None => Error::Transport(error.to_debug_string()),
            }
        }
    }
}

async fn send(request: http::Request<Body>, options: RequestOptions) -> Result<http::Response<Body>, Error> {
    let (parts, body) = request.into_parts();
    let is_head = parts.method == http::Method::HEAD;

    let mut headers: Vec<(String, Vec<u8>)> = Vec::with_capacity(parts.headers.len() + 1);
    for (name, value) in &parts.headers {
        // The host writes `Host` from the authority; guests may not set it.
        if name != http::header::HOST {
            headers.push((name.as_str().to_owned(), value.as_bytes().to_vec()));
        }
    }
    if let (Some(length), false) = (body.len(), parts.headers.contains_key(http::header::CONTENT_LENGTH)) {
        if length > 0 || parts.method == http::Method::PUT || parts.method == http::Method::POST {
            headers.push(("content-length".into(), length.to_string().into_bytes()));
        }
    }
    let fields =
        Fields::from_list(&headers).map_err(|e| Error::InvalidInput(format!("header refused by the host: {e:?}")))?;
    let outgoing = OutgoingRequest::new(fields);
    let method = match parts.method.as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "OPTIONS" => Method::Options,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_owned()),
    };
    let refused = |what: &str| Error::InvalidInput(format!("the host refused the request's {what}"));
    outgoing.set_method(&method).map_err(|_| refused("method"))?;
    let scheme = match parts.uri.scheme_str() {
        Some("http") => Scheme::Http,
        Some("https") | None => Scheme::Https,
        Some(other) => Scheme::Other(other.to_owned()),
    };
    outgoing.set_scheme(Some(&scheme)).map_err(|_| refused("scheme"))?;
    let authority = parts
        .uri
        .authority()
        .ok_or_else(|| Error::InvalidInput(format!("no host in {}", parts.uri)))?;
    outgoing
        .set_authority(Some(authority.as_str()))
        .map_err(|_| refused("authority"))?;
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    outgoing.set_path_with_query(Some(path)).map_err(|_| refused("path"))?;

    let outgoing_body = outgoing.body().map_err(|_| refused("body"))?;
    // The request goes out first and its body is written while the host sends it: a
    // body larger than the host's buffer written before `handle` would never drain.
    let future_response = outgoing_handler::handle(outgoing, Some(options)).map_err(http_error)?;
    let written = match write_body(&outgoing_body, body).await {
        Ok(()) => OutgoingBody::finish(outgoing_body, None).map_err(http_error),
        Err(error) => {
            // Dropping an unfinished body tells the host the request is incomplete.
            drop(outgoing_body);
            Err(error)
        }
    };

    let response = loop {
        match future_response.get() {
            Some(Ok(Ok(response))) => break response,
            // The request failed: its error code is the cause of a failed write too.
            Some(Ok(Err(code))) => return Err(http_error(code)),
            Some(Err(())) => return Err(Error::Transport("the response was already taken".into())),
            None => wait_for(future_response.subscribe()).await,
        }
    };
    drop(future_response);
    // A server may refuse a request before reading its body (403, 413): its answer
    // says more than the failed write, so an error answer wins.
    if let Err(error) = written {
        if response.status() < 400 {
            return Err(error);
        }
    }

    let mut builder = http::Response::builder().status(response.status());
    let mut length = None;
    {
        let headers = response.headers();
        for (name, value) in headers.entries() {
            if name.eq_ignore_ascii_case("content-length") {
                length = std::str::from_utf8(&value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok());
            }
            builder = builder.header(name, value);
        }
    }
    let body = if is_head || length == Some(0) {
        Body::empty()
    } else {
        let incoming = Incoming::new(response, length)?;
        Body::from_stream(ResponseStream::boxed(incoming), length)
    };
    builder
        .body(body)
        .map_err(|e| Error::InvalidResponse(format!("invalid answer: {e}")))
}

/// Writes a request body into the host's stream, waiting whenever the host's buffer
/// is full.
async fn write_body(outgoing: &OutgoingBody, body: Body) -> Result<(), Error> {
    if body.is_empty() {
        return Ok(());
    }
    let stream = outgoing
        .write()
        .map_err(|_| Error::InvalidInput("the request body was already written".into()))?;
    let result = async {
        let mut chunks = body.into_stream();
        while let Some(chunk) = chunks.next().await {
            write_all(&stream, &chunk?).await?;
        }
        // Every byte is with the host now. A host may close the stream as soon as it
        // has sent the last of them (wasmtime does, once Content-Length is reached):
        // a closed stream here is no error, the answer will tell.
        match stream.flush() {
            Ok(()) => {
                wait_for(stream.subscribe()).await;
                match stream.check_write() {
                    Ok(_) | Err(StreamError::Closed) => Ok(()),
                    Err(error) => Err(stream_error(error)),
                }
            }
            Err(StreamError::Closed) => Ok(()),
            Err(error) => Err(stream_error(error)),
        }
    }
    .await;
    drop(stream);
    result
}

/// Writes `bytes` into a `wasi:io` output stream, as fast as it accepts them.
pub async fn write_all(stream: &OutputStream, mut bytes: &[u8]) -> Result<(), Error> {
    while !bytes.is_empty() {
        let permit = stream.check_write().map_err(stream_error)?;
        if permit == 0 {
            wait_for(stream.subscribe()).await;
            continue;
        }
        let n = usize::try_from(permit).unwrap_or(usize::MAX).min(bytes.len());
        stream.write(&bytes[..n]).map_err(stream_error)?;
        bytes = &bytes[n..];
    }
    Ok(())
}

// ------------------------------------------------------------------ response bodies

/// A response body's `wasi:http` handles. Dropped in field order: the stream before
/// the body it belongs to, the body before the response.
pub struct Incoming {
    stream: InputStream,
    body: IncomingBody,
    response: IncomingResponse,
    /// Bytes still expected by `Content-Length`, when it was given.
    remaining: Option<u64>,
}

impl Incoming {
    fn new(response: IncomingResponse, length: Option<u64>) -> Result<Incoming, Error> {
        let body = response
            .consume()
            .map_err(|_| Error::Transport("the response body was already taken".into()))?;
        let stream = body
            .stream()
            .map_err(|_| Error::Transport("the response body stream was already taken".into()))?;
        Ok(Incoming {
            stream,
            body,
            response,
            remaining: length,
        })
    }

    /// The host's stream of the body's bytes.
    pub fn stream(&self) -> &InputStream {
        &self.stream
    }

    /// Bytes still expected by the answer's `Content-Length`, when it had one.
    pub fn remaining(&self) -> Option<u64> {
        self.remaining
    }

    /// Records that `n` more bytes arrived (by a read or a splice of [`Self::stream`]);
    /// an error when the server sends more than it announced.
    pub fn consumed(&mut self, n: u64) -> Result<(), Error> {
        if let Some(remaining) = self.remaining {
            self.remaining = Some(
                remaining
                    .checked_sub(n)
                    .ok_or_else(|| Error::InvalidResponse("the body is longer than its Content-Length".into()))?,
            );
        }
        Ok(())
    }

    /// At the end of the stream: an error when bytes announced by `Content-Length` are missing.
    pub fn check_complete(&self) -> Result<(), Error> {
        match self.remaining {
            Some(0) | None => Ok(()),
            Some(missing) => Err(Error::InvalidResponse(format!(
                "body truncated: {missing} bytes announced by Content-Length never came"
            ))),
        }
    }
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming").field("remaining", &self.remaining).finish()
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // Fields drop in order (stream, body, response); nothing else to do. The
        // explicit impl keeps anyone from moving a field out and breaking that order.
        let _ = (&self.body, &self.response);
    }
}

thread_local! {
    /// Response streams alive in this instance, by the address of their box, so
    /// [`take_incoming`] can recognise one inside a [`ByteStream`].
    static LIVE: RefCell<HashMap<usize, Rc<RefCell<Option<Incoming>>>>> = RefCell::default();
}

/// A response body as a [`ByteStream`].
struct ResponseStream {
    incoming: Rc<RefCell<Option<Incoming>>>,
    waiting: Option<WaitFor>,
}

impl ResponseStream {
    fn boxed(incoming: Incoming) -> ByteStream {
        let shared = Rc::new(RefCell::new(Some(incoming)));
        let stream = Box::pin(ResponseStream {
            incoming: shared.clone(),
            waiting: None,
        });
        let address = &*stream as *const ResponseStream as usize;
        LIVE.with(|live| live.borrow_mut().insert(address, shared));
        stream
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        // The pollable first (it belongs to the stream), then the handles.
        self.waiting = None;
        let address = self as *const ResponseStream as usize;
        let _ = LIVE.try_with(|live| live.borrow_mut().remove(&address));
    }
}

impl Stream for ResponseStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(waiting) = this.waiting.as_mut() {
                if Pin::new(waiting).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.waiting = None;
            }
            let mut slot = this.incoming.borrow_mut();
            let Some(incoming) = slot.as_mut() else {
                return Poll::Ready(None);
            };
            let result = match incoming.stream.read(READ_CHUNK) {
                Ok(bytes) if bytes.is_empty() => {
                    this.waiting = Some(wait_for(incoming.stream.subscribe()));
                    continue;
                }
                Ok(bytes) => match incoming.consumed(bytes.len() as u64) {
                    Ok(()) => return Poll::Ready(Some(Ok(Bytes::from(bytes)))),
                    Err(error) => Some(Err(error)),
                },
                Err(StreamError::Closed) => incoming.check_complete().err().map(Err),
                Err(error) => Some(Err(stream_error(error))),
            };
            // The end, or an error: let the handles go now rather than with the body.
            *slot = None;
            return Poll::Ready(result);
        }
    }
}

/// The `wasi:http` handles of a response body that this transport produced and that
/// nobody has read from yet, or the stream unchanged when it is something else.
///
/// With them a component can pass the host's own stream on — splice it into a
/// caller's `output-stream` — so the bytes never enter the component's memory.
pub fn take_incoming(stream: ByteStream) -> Result<Incoming, ByteStream> {
    let address = &*stream as *const dyn Stream<Item = Result<Bytes, Error>> as *const () as usize;
    let shared = LIVE.with(|live| live.borrow().get(&address).cloned());
    let Some(shared) = shared else {
        return Err(stream);
    };
    let taken = shared.borrow_mut().take();
    match taken {
        Some(incoming) => {
            // Drops the stream's pollable, if any, while the handles are still alive.
            drop(stream);
            Ok(incoming)
        }
        None => Err(stream),
    }
}

// ------------------------------------------------------------------ caller streams

/// A body read from a `wasi:io` input stream until it ends (its length unknown): how
/// a component uploads from a stream its caller created.
pub fn body_from_input_stream(stream: InputStream) -> Body {
    Body::from_stream(
        Box::pin(InputStreamBody {
            stream: Some(stream),
            waiting: None,
        }),
        None,
    )
}

struct InputStreamBody {
    stream: Option<InputStream>,
    waiting: Option<WaitFor>,
}

impl Drop for InputStreamBody {
    fn drop(&mut self) {
        self.waiting = None;
        self.stream = None;
    }
}

impl Stream for InputStreamBody {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(waiting) = this.waiting.as_mut() {
                if Pin::new(waiting).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.waiting = None;
            }
            let Some(stream) = this.stream.as_ref() else {
                return Poll::Ready(None);
            };
            match stream.read(READ_CHUNK) {
                Ok(bytes) if bytes.is_empty() => {
                    this.waiting = Some(wait_for(stream.subscribe()));
                }
                Ok(bytes) => return Poll::Ready(Some(Ok(Bytes::from(bytes)))),
                Err(StreamError::Closed) => {
                    this.stream = None;
                    return Poll::Ready(None);
                }
                Err(StreamError::LastOperationFailed(error)) => {
                    this.stream = None;
                    return Poll::Ready(Some(Err(Error::InvalidInput(format!(
                        "reading the body stream failed: {}",
                        error.to_debug_string()
                    )))));
                }
            }
        }
    }
}
