//! Request and response bodies that stream.

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use std::fmt;
use std::pin::Pin;

/// A stream of body chunks.
#[cfg(not(target_arch = "wasm32"))]
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, crate::Error>> + Send>>;
/// A stream of body chunks.
#[cfg(target_arch = "wasm32")]
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, crate::Error>>>>;

/// An HTTP body: nothing, bytes in memory, a Rust stream, or — on the JavaScript
/// platforms — the runtime's own `ReadableStream`, which can be handed on to another
/// `fetch` or `Response` without its bytes ever entering wasm memory.
pub struct Body {
    kind: Kind,
}

enum Kind {
    Empty,
    Bytes(Bytes),
    Stream {
        stream: ByteStream,
        length: Option<u64>,
    },
    #[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
    Js {
        stream: web_sys::ReadableStream,
        length: Option<u64>,
    },
}

impl Body {
    /// A body of no bytes.
    pub fn empty() -> Self {
        Body { kind: Kind::Empty }
    }

    /// A body in memory: signed with its hash, and sent again as it is on a retry.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            Body::empty()
        } else {
            Body {
                kind: Kind::Bytes(bytes),
            }
        }
    }

    /// A stream of chunks; `length` is the total when known.
    pub fn from_stream(stream: ByteStream, length: Option<u64>) -> Self {
        Body {
            kind: Kind::Stream { stream, length },
        }
    }

    /// The runtime's own stream, kept as it is.
    #[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
    pub fn from_js_stream(stream: web_sys::ReadableStream, length: Option<u64>) -> Self {
        Body {
            kind: Kind::Js { stream, length },
        }
    }

    /// The length when known. `None` means unknown, never empty.
    pub fn len(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Bytes(b) => Some(b.len() as u64),
            Kind::Stream { length, .. } => *length,
            #[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
            Kind::Js { length, .. } => *length,
        }
    }

    /// True only for a body known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The bytes of an in-memory body.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Empty => Some(&[]),
            Kind::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The bytes of an in-memory body without copying; other bodies come back unchanged.
    pub fn into_bytes(self) -> Result<Bytes, Body> {
        match self.kind {
            Kind::Empty => Ok(Bytes::new()),
            Kind::Bytes(b) => Ok(b),
            kind => Err(Body { kind }),
        }
    }

    /// A copy for a retry, for bodies that can be sent twice (in memory).
    pub fn try_clone(&self) -> Option<Body> {
        match &self.kind {
            Kind::Empty => Some(Body::empty()),
            Kind::Bytes(b) => Some(Body {
                kind: Kind::Bytes(b.clone()),
            }),
            _ => None,
        }
    }

    /// The body as a stream of chunks (an in-memory body is one chunk).
    pub fn into_stream(self) -> ByteStream {
        match self.kind {
            Kind::Empty => Box::pin(futures::stream::empty()),
            Kind::Bytes(b) => Box::pin(futures::stream::once(async move { Ok(b) })),
            Kind::Stream { stream, .. } => stream,
            #[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
            Kind::Js { stream, .. } => super::fetch::js_stream_to_rust(stream),
        }
    }

    /// The runtime's `ReadableStream` for this body, without copying when it already
    /// is one. A Rust body is wrapped as a JavaScript stream.
    #[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
    pub fn into_js_stream(self) -> Option<web_sys::ReadableStream> {
        match self.kind {
            Kind::Empty => None,
            Kind::Js { stream, .. } => Some(stream),
            // Of known length, workerd sends it with its Content-Length, not chunked.
            Kind::Stream {
                length: Some(length), ..
            } => Some(super::fetch::fixed_length(
                &super::fetch::rust_stream_to_js(self.into_stream()),
                length,
            )),
            _ => Some(super::fetch::rust_stream_to_js(self.into_stream())),
        }
    }

    /// True when the body is the runtime's own stream.
    pub fn is_js_stream(&self) -> bool {
        #[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
        if let Kind::Js { .. } = self.kind {
            return true;
        }
        false
    }

    /// The parts one after the other, as one body (a `multipart/byteranges` answer: the
    /// separators in memory, the ranges as the storage streamed them). Each part is
    /// read only once the one before has ended. When any part is the runtime's own
    /// stream, the whole is composed in JavaScript, so those bytes never enter wasm memory.
    pub fn concat(parts: Vec<Body>) -> Body {
        let length = parts
            .iter()
            .try_fold(0u64, |total, part| total.checked_add(part.len()?));
        #[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
        if parts.iter().any(Body::is_js_stream) {
            let list = js_sys::Array::new();
            for part in parts {
                match part.into_bytes() {
                    Ok(bytes) if bytes.is_empty() => {}
                    Ok(bytes) => {
                        list.push(&js_sys::Uint8Array::from(bytes.as_ref()));
                    }
                    Err(body) => {
                        if let Some(stream) = body.into_js_stream() {
                            list.push(&stream);
                        }
                    }
                }
            }
            // Of known length, workerd sends it with its Content-Length, not chunked.
            let stream = super::fetch::concat_js_streams(&list, length.map(|n| n as f64));
            return Body::from_js_stream(stream, length);
        }
        let stream = futures::stream::iter(parts.into_iter().map(Body::into_stream)).flatten();
        Body::from_stream(Box::pin(stream), length)
    }

    /// Reads the whole body, failing past `limit` bytes. For small bodies only (S3's
    /// XML answers, error documents): file contents are streamed, never collected.
    pub async fn collect(self, limit: usize) -> Result<Bytes, crate::Error> {
        match self.kind {
            Kind::Empty => return Ok(Bytes::new()),
            Kind::Bytes(b) if b.len() <= limit => return Ok(b),
            _ => {}
        }
        let expected = self.len();
        let mut stream = self.into_stream();
        let mut buffer = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if buffer.len() + chunk.len() > limit {
                return Err(crate::Error::TooLarge(limit as u64));
            }
            buffer.extend_from_slice(&chunk);
        }
        if let Some(expected) = expected {
            if buffer.len() as u64 != expected {
                return Err(crate::Error::Body(format!(
                    "truncated: got {} of {expected} bytes",
                    buffer.len()
                )));
            }
        }
        Ok(buffer.freeze())
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body::from_bytes(bytes)
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::from_bytes(bytes)
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Body::from_bytes(Bytes::from_static(bytes))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::from_bytes(Bytes::from_static(text.as_bytes()))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::from_bytes(text.into_bytes())
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Empty => f.write_str("Body(empty)"),
            Kind::Bytes(b) => write!(f, "Body({} bytes)", b.len()),
            Kind::Stream { length, .. } => write!(f, "Body(stream, length {length:?})"),
            #[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
            Kind::Js { length, .. } => write!(f, "Body(js stream, length {length:?})"),
        }
    }
}
