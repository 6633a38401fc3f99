#![cfg(target_os = "wasi")]
//! The WebAssembly component's exports: `wit/storage.wit`'s `edgefs:storage/storage`
//! interface over the [`Storage`] façade — [`Memory`] when S3 is disabled,
//! [`S3Storage`] over the [`WasiHttpTransport`] otherwise. Everything S3 (signing,
//! retries, multipart, errors and their hints) is the library's; this module only
//! converts types and runs each call with [`block_on`].
//!
//! Streams (WASI 0.2 lets only the host create `wasi:io` streams):
//! * upload: the caller's `input-stream`, read as the upload goes;
//! * download: an `object-reader` resource the caller pulls (`read`), or that pours
//!   the object into the caller's `output-stream` (`write-to`) — from S3 by asking
//!   the host to splice the HTTP response into it, so the bytes never enter the
//!   component's memory.

use bytes::Bytes;
use edgefs::s3::actions::{ByteRange, ContentRange};
use edgefs::storage::{self, GetOptions, GetOutcome, Memory, S3Storage, Storage, UploadOptions};
use edgefs::transport::wasi_http::{
    self, block_on, body_from_input_stream, take_incoming, Incoming, WasiHttpTransport,
};
use edgefs::transport::{Body, ByteStream};
use edgefs::{Error, S3Client, S3Settings, Secret};
use edgefs_s3::Error as ClientError;
use futures::StreamExt;
use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wasi::clocks::wall_clock::Datetime;
use wasi::io::streams::{InputStream, OutputStream, StreamError};

wit_bindgen::generate!({
    path: "../../wit",
    world: "edgefs:storage/edgefs",
    with: {
        "wasi:io/error@0.2.12": wasi::io::error,
        "wasi:io/poll@0.2.12": wasi::io::poll,
        "wasi:io/streams@0.2.12": wasi::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasi::clocks::monotonic_clock,
        "wasi:clocks/wall-clock@0.2.12": wasi::clocks::wall_clock,
        "wasi:http/types@0.2.12": wasi::http::types,
        "wasi:http/outgoing-handler@0.2.12": wasi::http::outgoing_handler,
        // Imported by the standard library, declared in the world to say so.
        "wasi:random/insecure-seed@0.2.12": wasi::random::insecure_seed,
        "wasi:cli/environment@0.2.12": wasi::cli::environment,
        "wasi:cli/exit@0.2.12": wasi::cli::exit,
        "wasi:cli/stdin@0.2.12": wasi::cli::stdin,
        "wasi:cli/stdout@0.2.12": wasi::cli::stdout,
        "wasi:cli/stderr@0.2.12": wasi::cli::stderr,
        "wasi:cli/terminal-input@0.2.12": wasi::cli::terminal_input,
        "wasi:cli/terminal-output@0.2.12": wasi::cli::terminal_output,
        "wasi:cli/terminal-stdin@0.2.12": wasi::cli::terminal_stdin,
        "wasi:cli/terminal-stdout@0.2.12": wasi::cli::terminal_stdout,
        "wasi:cli/terminal-stderr@0.2.12": wasi::cli::terminal_stderr,
    },
});

use exports::edgefs::storage::storage as wit;

/// How much one splice into the caller's stream moves at most.
const SPLICE_CHUNK: u64 = 1024 * 1024;

struct Component;

export!(Component);

/// The in-memory store of this instance, shared by every store opened with S3 disabled.
fn memory() -> &'static Memory {
    static MEMORY: OnceLock<Memory> = OnceLock::new();
    MEMORY.get_or_init(Memory::new)
}

impl wit::Guest for Component {
    type Store = StoreImpl;
    type ObjectReader = Reader;

    fn open(settings: wit::Settings) -> Result<wit::Store, wit::StorageError> {
        let settings = S3Settings {
            enabled: settings.enabled,
            bucket: settings.bucket,
            region: settings.region,
            endpoint: settings.endpoint,
            access_key: settings.access_key,
            secret: Secret::new(settings.secret),
            force_path_style: settings.force_path_style,
        };
        let backend = if settings.enabled {
            let client = S3Client::new(&settings, WasiHttpTransport::new()).map_err(to_wit)?;
            Backend::S3(Box::new(S3Storage::new(client)))
        } else {
            Backend::Memory(memory().clone())
        };
        Ok(wit::Store::new(StoreImpl { backend }))
    }
}

// ------------------------------------------------------------------ the store

enum Backend {
    Memory(Memory),
    S3(Box<S3Storage<WasiHttpTransport>>),
}

pub struct StoreImpl {
    backend: Backend,
}

impl StoreImpl {
    fn storage(&self) -> &dyn Storage {
        match &self.backend {
            Backend::Memory(memory) => memory,
            Backend::S3(s3) => s3.as_ref(),
        }
    }

    fn s3(&self, what: &str) -> Result<&S3Storage<WasiHttpTransport>, wit::StorageError> {
        match &self.backend {
            Backend::S3(s3) => Ok(s3),
            Backend::Memory(_) => Err(unsupported(format!(
                "{what} needs S3: the in-memory store has no URLs (enable S3 in the settings)"
            ))),
        }
    }
}

impl wit::GuestStore for StoreImpl {
    fn backend(&self) -> String {
        self.storage().name().to_owned()
    }

    fn check(&self) -> Result<(), wit::StorageError> {
        match &self.backend {
            Backend::Memory(_) => Ok(()),
            Backend::S3(s3) => block_on(s3.client().head_bucket()).map(drop).map_err(to_wit),
        }
    }

    fn exists(&self, key: String) -> Result<bool, wit::StorageError> {
        block_on(storage::exists(self.storage(), &key)).map_err(to_wit)
    }

    fn attributes(&self, key: String) -> Result<Option<wit::Attributes>, wit::StorageError> {
        block_on(self.storage().attributes(&key))
            .map(|found| found.map(attributes_to_wit))
            .map_err(to_wit)
    }

    fn get(&self, key: String, options: wit::GetOptions) -> Result<wit::GetResult, wit::StorageError> {
        let options = GetOptions {
            range: options.range.map(range_from_wit),
            if_none_match: options.if_none_match,
            if_modified_since: options.if_modified_since.map(time_from_wit),
        };
        let outcome = block_on(self.storage().get(&key, &options)).map_err(to_wit)?;
        Ok(match outcome {
            GetOutcome::Found(object) => wit::GetResult::Found(wit::ObjectReader::new(Reader {
                attributes: attributes_to_wit(object.attributes),
                range: object.range.map(range_to_wit),
                source: RefCell::new(Source::of(object.body)),
            })),
            GetOutcome::NotModified(attributes) => wit::GetResult::NotModified(attributes_to_wit(attributes)),
            GetOutcome::RangeNotSatisfiable { size, .. } => wit::GetResult::RangeNotSatisfiable(size),
            GetOutcome::NotFound => wit::GetResult::NotFound,
        })
    }

    fn upload(&self, key: String, body: InputStream, options: wit::UploadOptions) -> Result<(), wit::StorageError> {
        let options = upload_options_from_wit(options);
        block_on(self.storage().upload(&key, body_from_input_stream(body), &options)).map_err(to_wit)
    }

    fn copy(&self, source: String, destination: String) -> Result<(), wit::StorageError> {
        block_on(self.storage().copy(&source, &destination)).map_err(to_wit)
    }

    fn delete(&self, key: String) -> Result<(), wit::StorageError> {
        block_on(self.storage().delete(&key)).map_err(to_wit)
    }

    fn delete_prefix(&self, prefix: String) -> Result<u64, wit::StorageError> {
        block_on(self.storage().delete_prefix(&prefix)).map_err(to_wit)
    }

    fn list(&self, prefix: String, cursor: Option<String>, page_size: u32) -> Result<wit::ListPage, wit::StorageError> {
        let limit = usize::try_from(page_size).unwrap_or(usize::MAX);
        let page = block_on(self.storage().list(&prefix, cursor.as_deref(), limit)).map_err(to_wit)?;
        Ok(wit::ListPage {
            items: page
                .items
                .into_iter()
                .map(|item| wit::ListItem {
                    key: item.key,
                    size: item.size,
                    etag: item.etag,
                    modified: item.modified.map(time_to_wit),
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    fn presign_get(&self, key: String, expires_in_seconds: u32) -> Result<String, wit::StorageError> {
        self.s3("presign-get")?
            .client()
            .presign_get(&key, Duration::from_secs(expires_in_seconds.into()))
            .map_err(to_wit)
    }

    fn presign_put(&self, key: String, expires_in_seconds: u32) -> Result<String, wit::StorageError> {
        self.s3("presign-put")?
            .client()
            .presign_put(&key, Duration::from_secs(expires_in_seconds.into()))
            .map_err(to_wit)
    }

    fn get_bytes(&self, key: String, range: Option<wit::ByteRange>) -> Result<Option<Vec<u8>>, wit::StorageError> {
        let options = GetOptions {
            range: range.map(range_from_wit),
            ..GetOptions::default()
        };
        block_on(async {
            match self.storage().get(&key, &options).await? {
                GetOutcome::Found(object) => Ok(Some(object.body.collect(usize::MAX).await?.to_vec())),
                GetOutcome::NotFound => Ok(None),
                GetOutcome::RangeNotSatisfiable { size, .. } => {
                    Err(Error::S3(ClientError::S3(Box::new(edgefs::S3Error {
                        status: 416,
                        code: "InvalidRange".into(),
                        message: format!("the range starts past the end of the object ({size} bytes)"),
                        request_id: None,
                        bucket_region: None,
                        signed_region: String::new(),
                    }))))
                }
                GetOutcome::NotModified(_) => unreachable!("no condition was given"),
            }
        })
        .map_err(to_wit)
    }

    fn upload_bytes(&self, key: String, body: Vec<u8>, options: wit::UploadOptions) -> Result<(), wit::StorageError> {
        let options = upload_options_from_wit(options);
        block_on(self.storage().upload(&key, Body::from(body), &options)).map_err(to_wit)
    }
}

// ------------------------------------------------------------------ downloads

/// Where an object reader's bytes come from.
enum Source {
    /// The in-memory store's bytes (shared, not copied).
    Bytes(Bytes),
    /// An S3 answer's `wasi:http` body, read from the host's stream directly.
    Host(Incoming),
    /// Any other body stream, with what is left of its last chunk.
    Stream {
        stream: ByteStream,
        leftover: Bytes,
    },
    Done,
}

impl Source {
    fn of(body: Body) -> Source {
        match body.into_bytes() {
            Ok(bytes) => Source::Bytes(bytes),
            Err(body) => match take_incoming(body.into_stream()) {
                Ok(incoming) => Source::Host(incoming),
                Err(stream) => Source::Stream {
                    stream,
                    leftover: Bytes::new(),
                },
            },
        }
    }
}

pub struct Reader {
    attributes: wit::Attributes,
    range: Option<wit::ContentRange>,
    source: RefCell<Source>,
}

impl wit::GuestObjectReader for Reader {
    fn attributes(&self) -> wit::Attributes {
        self.attributes.clone()
    }

    fn content_range(&self) -> Option<wit::ContentRange> {
        self.range
    }

    fn read(&self, max_bytes: u64) -> Result<Vec<u8>, wit::StorageError> {
        if max_bytes == 0 {
            return Err(to_wit(Error::InvalidInput("read: max-bytes must be at least 1".into())));
        }
        let max = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        let mut source = self.source.borrow_mut();
        let result = match &mut *source {
            Source::Done => Ok(Vec::new()),
            Source::Bytes(bytes) => {
                let chunk = bytes.split_to(max.min(bytes.len()));
                if bytes.is_empty() {
                    *source = Source::Done;
                }
                Ok(chunk.to_vec())
            }
            Source::Host(incoming) => read_host(incoming, max_bytes),
            Source::Stream { stream, leftover } => {
                if leftover.is_empty() {
                    match block_on(stream.next()) {
                        Some(Ok(chunk)) => *leftover = chunk,
                        Some(Err(error)) => return Err(to_wit(error)),
                        None => {}
                    }
                }
                Ok(leftover.split_to(max.min(leftover.len())).to_vec())
            }
        };
        match &result {
            Ok(chunk) if chunk.is_empty() => *source = Source::Done,
            Err(_) => *source = Source::Done,
            Ok(_) => {}
        }
        result.map_err(to_wit)
    }

    fn write_to(&self, sink: &OutputStream) -> Result<u64, wit::StorageError> {
        let source = std::mem::replace(&mut *self.source.borrow_mut(), Source::Done);
        let written = match source {
            Source::Done => Ok(0),
            Source::Bytes(bytes) => block_on(wasi_http::write_all(sink, &bytes)).map(|()| bytes.len() as u64),
            Source::Host(mut incoming) => splice_host(&mut incoming, sink),
            Source::Stream { mut stream, leftover } => block_on(async {
                let mut written = leftover.len() as u64;
                wasi_http::write_all(sink, &leftover).await?;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk?;
                    wasi_http::write_all(sink, &chunk).await?;
                    written += chunk.len() as u64;
                }
                Ok(written)
            }),
        }
        .map_err(to_wit)?;
        sink.blocking_flush().map_err(|e| to_wit(sink_error(e)))?;
        Ok(written)
    }
}

/// One read of the host's stream, blocking until there is something (or the end).
fn read_host(incoming: &mut Incoming, max_bytes: u64) -> Result<Vec<u8>, ClientError> {
    loop {
        match incoming.stream().blocking_read(max_bytes) {
            Ok(bytes) if bytes.is_empty() => continue,
            Ok(bytes) => {
                incoming.consumed(bytes.len() as u64)?;
                return Ok(bytes);
            }
            Err(StreamError::Closed) => {
                incoming.check_complete()?;
                return Ok(Vec::new());
            }
            Err(StreamError::LastOperationFailed(error)) => {
                return Err(ClientError::Transport(format!(
                    "reading the answer failed: {}",
                    error.to_debug_string()
                )))
            }
        }
    }
}

/// Has the host move the rest of an S3 answer into `sink`, without the bytes passing
/// through the component.
fn splice_host(incoming: &mut Incoming, sink: &OutputStream) -> Result<u64, ClientError> {
    let mut written = 0u64;
    loop {
        match sink.blocking_splice(incoming.stream(), SPLICE_CHUNK) {
            Ok(0) => incoming.stream().subscribe().block(),
            Ok(n) => {
                incoming.consumed(n)?;
                written += n;
            }
            // Either side may be the closed one: a sink that still takes bytes means
            // the answer ended.
            Err(StreamError::Closed) => match sink.check_write() {
                Ok(_) => {
                    incoming.check_complete()?;
                    return Ok(written);
                }
                Err(error) => return Err(sink_error(error)),
            },
            Err(StreamError::LastOperationFailed(error)) => {
                return Err(ClientError::Transport(format!(
                    "moving the answer into the output stream failed after {written} bytes: {}",
                    error.to_debug_string()
                )))
            }
        }
    }
}

fn sink_error(error: StreamError) -> ClientError {
    match error {
        StreamError::Closed => ClientError::InvalidInput("the output stream was closed".into()),
        StreamError::LastOperationFailed(error) => ClientError::InvalidInput(format!(
            "writing to the output stream failed: {}",
            error.to_debug_string()
        )),
    }
}

// ------------------------------------------------------------------ conversions

/// The WIT error for a storage or client error. A missing object is S3's `NoSuchKey`
/// whichever store it came from, as the WIT world says.
fn to_wit(error: impl Into<Error>) -> wit::StorageError {
    let error: Error = error.into();
    if let Error::NotFound { .. } = error {
        return wit::StorageError {
            kind: wit::ErrorKind::S3,
            code: Some("NoSuchKey".into()),
            status: Some(404),
            message: error.to_string(),
            hint: Some("no object has this key".into()),
            field: None,
            request_id: None,
        };
    }
    let kind = match &error {
        Error::S3(ClientError::Settings(_)) => wit::ErrorKind::Settings,
        // A conflict is S3's 412 to a conditional write (the component sets none).
        Error::S3(ClientError::S3(_)) | Error::NotFound { .. } | Error::Conflict { .. } => wit::ErrorKind::S3,
        Error::S3(ClientError::Transport(_)) => wit::ErrorKind::Transport,
        Error::S3(ClientError::InvalidResponse(_) | ClientError::Body(_)) | Error::Backend { .. } => {
            wit::ErrorKind::InvalidResponse
        }
        Error::S3(ClientError::InvalidInput(_) | ClientError::TooLarge(_))
        | Error::InvalidInput(_)
        | Error::TooLarge(_) => wit::ErrorKind::InvalidInput,
    };
    let (field, request_id) = match &error {
        Error::S3(ClientError::Settings(e)) => (Some(e.field.to_owned()), None),
        Error::S3(ClientError::S3(e)) => (None, e.request_id.clone()),
        _ => (None, None),
    };
    wit::StorageError {
        kind,
        code: error.code().map(str::to_owned),
        status: error.status(),
        message: error.to_string(),
        hint: error.hint(),
        field,
        request_id,
    }
}

fn unsupported(message: String) -> wit::StorageError {
    wit::StorageError {
        kind: wit::ErrorKind::Unsupported,
        code: None,
        status: None,
        message,
        hint: Some("enable S3 in the settings to get presigned URLs".into()),
        field: None,
        request_id: None,
    }
}

fn time_to_wit(time: SystemTime) -> Datetime {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    Datetime {
        seconds: since.as_secs(),
        nanoseconds: since.subsec_nanos(),
    }
}

fn time_from_wit(time: Datetime) -> SystemTime {
    UNIX_EPOCH + Duration::new(time.seconds, time.nanoseconds.min(999_999_999))
}

fn attributes_to_wit(attributes: storage::Attributes) -> wit::Attributes {
    wit::Attributes {
        size: attributes.size,
        content_type: attributes.content_type,
        etag: attributes.etag,
        modified: attributes.modified.map(time_to_wit),
        metadata: attributes.metadata.into_iter().collect(),
    }
}

fn upload_options_from_wit(options: wit::UploadOptions) -> UploadOptions {
    UploadOptions {
        content_type: options.content_type,
        metadata: options.metadata.into_iter().collect(),
        ..UploadOptions::default()
    }
}

fn range_from_wit(range: wit::ByteRange) -> ByteRange {
    match range {
        wit::ByteRange::Inclusive((first, last)) => ByteRange::Inclusive(first, last),
        wit::ByteRange::StartingAt(first) => ByteRange::From(first),
        wit::ByteRange::Suffix(n) => ByteRange::Suffix(n),
    }
}

fn range_to_wit(range: ContentRange) -> wit::ContentRange {
    wit::ContentRange {
        first: range.first,
        last: range.last,
        total: range.total,
    }
}
