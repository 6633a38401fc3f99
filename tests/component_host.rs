//! The WebAssembly component in a real component host: the `edgefs:storage` world
//! (wit/), built for wasm32-wasip2, loaded into wasmtime with WASI 0.2 and wasmtime's
//! own `wasi:http` client, and driven through its exports — against SeaweedFS on
//! 127.0.0.1 and against the in-memory store, the same sequence on both, then the
//! library's storage conformance suite through the component on both.
//!
//! The component is built first (`cargo build --release --target wasm32-wasip2
//! -p edgefs-component`, a no-op when it is current), or
//! taken from `EDGEFS_COMPONENT`. Each case gets its own instance. Run one case with
//! `cargo test --test component_host -- NAME`.
// Native only: wasm-pack builds every test target for wasm32, where this one is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

mod support;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use support::harness::Runner;
use support::raw_http;
use support::servers::{start_seaweedfs, Server};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use wasmtime::component::{Component, Linker, Resource, ResourceAny, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store};
use wasmtime_wasi::p2::pipe::{AsyncReadStream, AsyncWriteStream, MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

wasmtime::component::bindgen!({
    path: "wit",
    world: "edgefs:storage/edgefs",
    exports: { default: async },
    with: {
        "wasi": wasmtime_wasi::p2::bindings,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
    },
    require_store_data_send: true,
});

use exports::edgefs::storage::storage as wit;

const BUCKET: &str = "edgefs-component";
const MIB: u64 = 1024 * 1024;

// ------------------------------------------------------------------ the host

/// A store's data: WASI, wasi:http, and the guest's linear memory as it grows.
struct Host {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    memory: MemoryWatch,
}

#[derive(Default)]
struct MemoryWatch {
    current: usize,
    peak: usize,
}

impl ResourceLimiter for MemoryWatch {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.current = desired;
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, _desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}

/// The compiled component and a linker with WASI 0.2 and wasi:http, shared by the cases.
struct Fixture {
    pre: EdgefsPre<Host>,
}

impl Fixture {
    fn new(path: &Path) -> Fixture {
        let engine = Engine::default();
        let started = Instant::now();
        let component =
            Component::from_file(&engine, path).unwrap_or_else(|e| panic!("compile {}: {e:?}", path.display()));
        println!(
            "compiled {} ({} bytes) in {:.1}s",
            path.display(),
            std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            started.elapsed().as_secs_f64()
        );
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("link WASI");
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).expect("link wasi:http");
        let pre = linker.instantiate_pre(&component).expect("every import is linked");
        Fixture {
            pre: EdgefsPre::new(pre).expect("the component exports edgefs:storage/storage"),
        }
    }

    async fn instance(&self) -> Guest {
        let host = Host {
            table: ResourceTable::new(),
            // stderr is inherited: a guest panic message shows in the test output.
            wasi: WasiCtx::builder().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            memory: MemoryWatch::default(),
        };
        let mut store = Store::new(self.pre.engine(), host);
        store.limiter(|host| &mut host.memory);
        let api = self.pre.instantiate_async(&mut store).await.expect("instantiate");
        Guest { store, api }
    }
}

/// One instance of the component, with a call per export (a trap fails the test).
struct Guest {
    store: Store<Host>,
    api: Edgefs,
}

type Outcome<T> = Result<T, wit::StorageError>;

impl Guest {
    async fn open(&mut self, settings: &wit::Settings) -> Outcome<ResourceAny> {
        let api = self.api.edgefs_storage_storage();
        api.call_open(&mut self.store, settings).await.expect("open: no trap")
    }

    async fn open_ok(&mut self, settings: &wit::Settings) -> ResourceAny {
        self.open(settings).await.unwrap_or_else(|e| panic!("open: {e:?}"))
    }

    async fn backend(&mut self, store: ResourceAny) -> String {
        let api = self.api.edgefs_storage_storage().store();
        api.call_backend(&mut self.store, store).await.expect("no trap")
    }

    async fn check(&mut self, store: ResourceAny) -> Outcome<()> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_check(&mut self.store, store).await.expect("no trap")
    }

    async fn exists(&mut self, store: ResourceAny, key: &str) -> Outcome<bool> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_exists(&mut self.store, store, key).await.expect("no trap")
    }

    async fn attributes(&mut self, store: ResourceAny, key: &str) -> Outcome<Option<wit::Attributes>> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_attributes(&mut self.store, store, key).await.expect("no trap")
    }

    async fn get(&mut self, store: ResourceAny, key: &str, options: &wit::GetOptions) -> Outcome<wit::GetResult> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_get(&mut self.store, store, key, options)
            .await
            .expect("no trap")
    }

    async fn get_bytes(
        &mut self,
        store: ResourceAny,
        key: &str,
        range: Option<wit::ByteRange>,
    ) -> Outcome<Option<Vec<u8>>> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_get_bytes(&mut self.store, store, key, range)
            .await
            .expect("no trap")
    }

    /// Uploads from a host stream (the component reads it as the upload goes).
    async fn upload(
        &mut self,
        store: ResourceAny,
        key: &str,
        body: DynInputStream,
        options: &wit::UploadOptions,
    ) -> Outcome<()> {
        let body: Resource<DynInputStream> = self.store.data_mut().table.push(body).expect("push the stream");
        let api = self.api.edgefs_storage_storage().store();
        api.call_upload(&mut self.store, store, key, body, options)
            .await
            .expect("no trap")
    }

    async fn upload_bytes(&mut self, store: ResourceAny, key: &str, body: &[u8]) -> Outcome<()> {
        let options = upload_options(None, &[]);
        let api = self.api.edgefs_storage_storage().store();
        api.call_upload_bytes(&mut self.store, store, key, body, &options)
            .await
            .expect("no trap")
    }

    async fn copy(&mut self, store: ResourceAny, source: &str, destination: &str) -> Outcome<()> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_copy(&mut self.store, store, source, destination)
            .await
            .expect("no trap")
    }

    async fn delete(&mut self, store: ResourceAny, key: &str) -> Outcome<()> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_delete(&mut self.store, store, key).await.expect("no trap")
    }

    async fn delete_prefix(&mut self, store: ResourceAny, prefix: &str) -> Outcome<u64> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_delete_prefix(&mut self.store, store, prefix)
            .await
            .expect("no trap")
    }

    async fn list(
        &mut self,
        store: ResourceAny,
        prefix: &str,
        cursor: Option<&str>,
        page_size: u32,
    ) -> Outcome<wit::ListPage> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_list(&mut self.store, store, prefix, cursor, page_size)
            .await
            .expect("no trap")
    }

    async fn presign_get(&mut self, store: ResourceAny, key: &str, seconds: u32) -> Outcome<String> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_presign_get(&mut self.store, store, key, seconds)
            .await
            .expect("no trap")
    }

    async fn presign_put(&mut self, store: ResourceAny, key: &str, seconds: u32) -> Outcome<String> {
        let api = self.api.edgefs_storage_storage().store();
        api.call_presign_put(&mut self.store, store, key, seconds)
            .await
            .expect("no trap")
    }

    async fn reader_attributes(&mut self, reader: ResourceAny) -> wit::Attributes {
        let api = self.api.edgefs_storage_storage().object_reader();
        api.call_attributes(&mut self.store, reader).await.expect("no trap")
    }

    async fn reader_range(&mut self, reader: ResourceAny) -> Option<wit::ContentRange> {
        let api = self.api.edgefs_storage_storage().object_reader();
        api.call_content_range(&mut self.store, reader).await.expect("no trap")
    }

    async fn read(&mut self, reader: ResourceAny, max: u64) -> Outcome<Vec<u8>> {
        let api = self.api.edgefs_storage_storage().object_reader();
        api.call_read(&mut self.store, reader, max).await.expect("no trap")
    }

    /// Pulls the reader dry, `max` bytes a call; returns the bytes and the number of calls.
    async fn read_all(&mut self, reader: ResourceAny, max: u64) -> (Vec<u8>, usize) {
        let (mut all, mut calls) = (Vec::new(), 0);
        loop {
            let chunk = self.read(reader, max).await.unwrap_or_else(|e| panic!("read: {e:?}"));
            calls += 1;
            assert!(chunk.len() as u64 <= max, "read returned {} > {max} bytes", chunk.len());
            if chunk.is_empty() {
                return (all, calls);
            }
            all.extend_from_slice(&chunk);
        }
    }

    /// Has the reader write the object into a host output stream.
    async fn write_to(&mut self, reader: ResourceAny, sink: DynOutputStream) -> Outcome<u64> {
        let sink: Resource<DynOutputStream> = self.store.data_mut().table.push(sink).expect("push the sink");
        let borrowed = Resource::new_borrow(sink.rep());
        let api = self.api.edgefs_storage_storage().object_reader();
        let result = api
            .call_write_to(&mut self.store, reader, borrowed)
            .await
            .expect("no trap");
        // The host still owns the sink: dropping it closes the stream.
        drop(
            self.store
                .data_mut()
                .table
                .delete(sink)
                .expect("the sink is still in the table"),
        );
        result
    }

    async fn drop_resource(&mut self, resource: ResourceAny) {
        resource
            .resource_drop_async(&mut self.store)
            .await
            .expect("drop a resource: no trap");
    }

    fn memory(&self) -> (usize, usize) {
        let watch = &self.store.data().memory;
        (watch.current, watch.peak)
    }
}

// ------------------------------------------------------------------ values

fn upload_options(content_type: Option<&str>, metadata: &[(&str, &str)]) -> wit::UploadOptions {
    wit::UploadOptions {
        content_type: content_type.map(str::to_owned),
        metadata: metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn no_conditions(range: Option<wit::ByteRange>) -> wit::GetOptions {
    wit::GetOptions {
        range,
        if_none_match: None,
        if_modified_since: None,
    }
}

fn memory_stream(bytes: impl Into<Bytes>) -> DynInputStream {
    Box::new(MemoryInputPipe::new(bytes))
}

/// A deterministic byte pattern, generated as it is read: the host never holds it.
struct Pattern {
    position: u64,
    length: u64,
}

fn pattern_byte(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ (i as u8)
}

fn pattern_digest(length: u64) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut position = 0;
    while position < length {
        let n = (length - position).min(buffer.len() as u64) as usize;
        for (i, byte) in buffer[..n].iter_mut().enumerate() {
            *byte = pattern_byte(position + i as u64);
        }
        hasher.update(&buffer[..n]);
        position += n as u64;
    }
    hasher.finalize().into()
}

impl AsyncRead for Pattern {
    fn poll_read(mut self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let n = (self.length - self.position).min(buf.remaining() as u64).min(64 * 1024) as usize;
        let start = self.position;
        let chunk: Vec<u8> = (0..n as u64).map(|i| pattern_byte(start + i)).collect();
        buf.put_slice(&chunk);
        self.position += n as u64;
        Poll::Ready(Ok(()))
    }
}

/// A host output stream whose bytes are hashed as they arrive (nothing is kept).
fn hashing_sink() -> (DynOutputStream, tokio::task::JoinHandle<(u64, [u8; 32])>) {
    let (writer, mut reader) = tokio::io::duplex(256 * 1024);
    let task = tokio::spawn(async move {
        let mut hasher = Sha256::new();
        let mut count = 0u64;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buffer).await.expect("read the duplex");
            if n == 0 {
                return (count, hasher.finalize().into());
            }
            count += n as u64;
            hasher.update(&buffer[..n]);
        }
    });
    (Box::new(AsyncWriteStream::new(256 * 1024, writer)), task)
}

fn assert_error(error: &wit::StorageError, kind: wit::ErrorKind, code: Option<&str>, status: Option<u16>) {
    assert_eq!(error.kind, kind, "{error:?}");
    assert_eq!(error.code.as_deref(), code, "{error:?}");
    assert_eq!(error.status, status, "{error:?}");
}

// ------------------------------------------------------------------ the cases

#[derive(Clone)]
struct Ctx {
    fixture: Arc<Fixture>,
    /// S3 settings (SeaweedFS), or `None` for the in-memory store.
    s3: Option<S3Target>,
    prefix: String,
}

#[derive(Clone)]
struct S3Target {
    port: u16,
    access_key: String,
    secret: String,
}

impl Ctx {
    fn is_s3(&self) -> bool {
        self.s3.is_some()
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn settings(&self) -> wit::Settings {
        match &self.s3 {
            Some(s3) => wit::Settings {
                enabled: true,
                bucket: BUCKET.into(),
                region: "us-east-1".into(),
                endpoint: format!("http://127.0.0.1:{}", s3.port),
                access_key: s3.access_key.clone(),
                secret: s3.secret.clone(),
                force_path_style: true,
            },
            None => wit::Settings {
                enabled: false,
                bucket: String::new(),
                region: String::new(),
                endpoint: String::new(),
                access_key: String::new(),
                secret: String::new(),
                force_path_style: false,
            },
        }
    }

    /// A fresh instance with the store open.
    async fn open(&self) -> (Guest, ResourceAny) {
        let mut guest = self.fixture.instance().await;
        let store = guest.open_ok(&self.settings()).await;
        (guest, store)
    }
}

async fn open_and_check(ctx: Ctx) {
    let (mut g, store) = ctx.open().await;
    let expected = if ctx.is_s3() { "s3" } else { "memory" };
    assert_eq!(g.backend(store).await, expected);
    g.check(store).await.unwrap_or_else(|e| panic!("check: {e:?}"));
    g.drop_resource(store).await;
}

async fn upload_small_from_stream(ctx: Ctx) {
    let (mut g, store) = ctx.open().await;
    let key = ctx.key("small/hello world ü.txt");
    let content = b"hello from a wasi:io input-stream".to_vec();
    let options = upload_options(
        Some("text/plain; charset=utf-8"),
        &[("owner", "edgefs"), ("original", "hello.txt")],
    );
    g.upload(store, &key, memory_stream(content.clone()), &options)
        .await
        .unwrap_or_else(|e| panic!("upload: {e:?}"));

    let attributes = g
        .attributes(store, &key)
        .await
        .unwrap()
        .expect("attributes after upload");
    assert_eq!(attributes.size, content.len() as u64);
    assert_eq!(attributes.content_type.as_deref(), Some("text/plain; charset=utf-8"));
    let metadata: std::collections::BTreeMap<_, _> = attributes.metadata.iter().cloned().collect();
    assert_eq!(
        metadata.get("owner").map(String::as_str),
        Some("edgefs"),
        "{metadata:?}"
    );
    assert_eq!(
        metadata.get("original").map(String::as_str),
        Some("hello.txt"),
        "{metadata:?}"
    );
    let etag = attributes.etag.expect("an ETag");
    assert_eq!(etag, format!("\"{}\"", hex::encode(md5_digest(&content))));
    assert!(attributes.modified.is_some_and(|m| m.seconds > 1_700_000_000));

    assert!(g.exists(store, &key).await.unwrap());
    assert!(!g.exists(store, &ctx.key("small/missing")).await.unwrap());
    assert!(g.attributes(store, &ctx.key("small/missing")).await.unwrap().is_none());
    assert_eq!(g.get_bytes(store, &key, None).await.unwrap(), Some(content));
    assert_eq!(g.get_bytes(store, &ctx.key("small/missing"), None).await.unwrap(), None);

    // The whole object, pulled in small reads.
    let wit::GetResult::Found(reader) = g.get(store, &key, &no_conditions(None)).await.unwrap() else {
        panic!("get: not found");
    };
    let (bytes, calls) = g.read_all(reader, 8).await;
    assert_eq!(bytes, b"hello from a wasi:io input-stream");
    assert_eq!(calls, 6, "33 bytes in reads of 8, then the end");
    g.drop_resource(reader).await;
}

fn md5_digest(bytes: &[u8]) -> [u8; 16] {
    use md5::Md5;
    Md5::digest(bytes).into()
}

async fn upload_multipart_from_stream(ctx: Ctx) {
    let (mut g, store) = ctx.open().await;
    let key = ctx.key("large/pattern.bin");
    // Over 10 MiB (the part size): a multipart upload of two parts, read from a stream
    // that the host generates as the component pulls it.
    let length = 12 * MIB + 12_345;
    let body: DynInputStream = Box::new(AsyncReadStream::new(Pattern { position: 0, length }));
    let started = Instant::now();
    g.upload(
        store,
        &key,
        body,
        &upload_options(Some("application/octet-stream"), &[]),
    )
    .await
    .unwrap_or_else(|e| panic!("upload: {e:?}"));
    let (_, peak_after_upload) = g.memory();
    println!(
        "  uploaded {length} bytes from a stream in {:.2}s; component memory peak {:.1} MiB",
        started.elapsed().as_secs_f64(),
        peak_after_upload as f64 / MIB as f64
    );

    let attributes = g.attributes(store, &key).await.unwrap().expect("attributes");
    assert_eq!(attributes.size, length);
    if ctx.is_s3() {
        // S3's ETag of a multipart upload is the MD5 of the parts' MD5s, then `-<parts>`.
        let etag = attributes.etag.as_deref().unwrap_or_default();
        assert!(etag.ends_with("-2\""), "a two-part upload's ETag, got {etag}");
    }

    // Downloaded into a host stream that hashes as it goes.
    let (before, _) = g.memory();
    let wit::GetResult::Found(reader) = g.get(store, &key, &no_conditions(None)).await.unwrap() else {
        panic!("get: not found");
    };
    let (sink, hashed) = hashing_sink();
    let started = Instant::now();
    let written = g
        .write_to(reader, sink)
        .await
        .unwrap_or_else(|e| panic!("write-to: {e:?}"));
    g.drop_resource(reader).await;
    let (count, digest) = hashed.await.unwrap();
    let (after, _) = g.memory();
    println!(
        "  wrote {written} bytes into a host stream in {:.2}s; component memory {:.1} -> {:.1} MiB",
        started.elapsed().as_secs_f64(),
        before as f64 / MIB as f64,
        after as f64 / MIB as f64
    );
    assert_eq!((written, count), (length, length));
    assert_eq!(digest, pattern_digest(length), "the downloaded bytes differ");
    if ctx.is_s3() {
        // The host spliced the HTTP answer into the sink: the component's memory did
        // not grow by the object's size (or at all, beyond small bookkeeping).
        assert!(
            after - before < MIB as usize,
            "memory grew by {} bytes during a spliced download",
            after - before
        );
    }
}

/// A body larger than what the component ever holds: parts are cut from the stream
/// and sent as they fill (5 in flight), so the component's memory stays bounded by
/// the parts in flight, whatever the object's size; the download is spliced by the host.
async fn large_upload_stays_bounded(ctx: Ctx) {
    let (mut g, store) = ctx.open().await;
    let key = ctx.key("large/bounded.bin");
    let length = 100 * MIB + 1;
    let body: DynInputStream = Box::new(AsyncReadStream::new(Pattern { position: 0, length }));
    let started = Instant::now();
    g.upload(store, &key, body, &upload_options(None, &[]))
        .await
        .unwrap_or_else(|e| panic!("upload: {e:?}"));
    let (_, peak) = g.memory();
    println!(
        "  uploaded {} MiB from a stream in {:.2}s; component memory peak {:.1} MiB",
        length / MIB,
        started.elapsed().as_secs_f64(),
        peak as f64 / MIB as f64
    );
    let etag = g
        .attributes(store, &key)
        .await
        .unwrap()
        .expect("attributes")
        .etag
        .unwrap_or_default();
    assert!(etag.ends_with("-11\""), "eleven parts of 10 MiB, got {etag}");
    assert!(
        (peak as u64) < length * 3 / 4,
        "the component's memory reached {peak} bytes for a {length}-byte upload"
    );

    let wit::GetResult::Found(reader) = g.get(store, &key, &no_conditions(None)).await.unwrap() else {
        panic!("get: not found");
    };
    let (sink, hashed) = hashing_sink();
    assert_eq!(g.write_to(reader, sink).await.unwrap(), length);
    g.drop_resource(reader).await;
    let (count, digest) = hashed.await.unwrap();
    assert_eq!(count, length);
    assert_eq!(digest, pattern_digest(length), "the downloaded bytes differ");
    assert_eq!(g.memory().1, peak, "the download grew the component's memory");
    g.delete(store, &key).await.unwrap();
}

async fn ranged_get(ctx: Ctx) {
    let (mut g, store) = ctx.open().await;
    let key = ctx.key("ranges/alphabet.txt");
    g.upload_bytes(store, &key, b"0123456789abcdefghij").await.unwrap();

    let range = Some(wit::ByteRange::Inclusive((2, 9)));
    let wit::GetResult::Found(reader) = g.get(store, &key, &no_conditions(range)).await.unwrap() else {
        panic!("ranged get: not found");
    };
    let range = g.reader_range(reader).await.expect("a content range");
    assert_eq!((range.first, range.last, range.total), (2, 9, Some(20)));
    assert_eq!(g.reader_attributes(reader).await.size, 20, "size is the object's");
    let (bytes, _) = g.read_all(reader, 3).await;
    assert_eq!(bytes, b"23456789");
    g.drop_resource(reader).await;

    assert_eq!(
        g.get_bytes(store, &key, Some(wit::ByteRange::Suffix(5))).await.unwrap(),
        Some(b"fghij".to_vec())
    );
    assert_eq!(
        g.get_bytes(store, &key, Some(wit::ByteRange::StartingAt(15)))
            .await
            .unwrap(),
        Some(b"fghij".to_vec())
    );
    // A range past the end, into a host stream.
    let out = MemoryOutputPipe::new(1024);
    let range = Some(wit::ByteRange::Inclusive((10, 1000)));
    let wit::GetResult::Found(reader) = g.get(store, &key, &no_conditions(range)).await.unwrap() else {
        panic!("ranged get: not found");
    };
    assert_eq!(g.write_to(reader, Box::new(out.clone())).await.unwrap(), 10);
    assert_eq!(&out.contents()[..], b"abcdefghij");
    g.drop_resource(reader).await;

    let past_the_end = Some(wit::ByteRange::Inclusive((100, 200)));
    match g.get(store, &key, &no_conditions(past_the_end)).await.unwrap() {
        wit::GetResult::RangeNotSatisfiable(size) => assert_eq!(size, 20),
        other => panic!("expected range-not-satisfiable, got {}", describe(&other)),
    }
    match g
        .get(store, &ctx.key("ranges/missing"), &no_conditions(None))
        .await
        .unwrap()
    {
        wit::GetResult::NotFound => {}
        other => panic!("expected not-found, got {}", describe(&other)),
    }
    // A conditional read with the current ETag.
    let etag = g.attributes(store, &key).await.unwrap().unwrap().etag;
    let conditional = wit::GetOptions {
        range: None,
        if_none_match: etag,
        if_modified_since: None,
    };
    match g.get(store, &key, &conditional).await.unwrap() {
        // (S3's 304 carries the ETag but no length.)
        wit::GetResult::NotModified(attributes) => assert_eq!(attributes.etag, conditional.if_none_match),
        other => panic!("expected not-modified, got {}", describe(&other)),
    }
}

fn describe(result: &wit::GetResult) -> &'static str {
    match result {
        wit::GetResult::Found(_) => "found",
        wit::GetResult::NotModified(_) => "not-modified",
        wit::GetResult::RangeNotSatisfiable(_) => "range-not-satisfiable",
        wit::GetResult::NotFound => "not-found",
    }
}

async fn list_with_cursor(ctx: Ctx) {
    let (mut g, store) = ctx.open().await;
    let names = ["a.txt", "b.txt", "c/d.txt", "e f.txt", "ü.txt"];
    for name in names {
        g.upload_bytes(store, &ctx.key(&format!("list/{name}")), name.as_bytes())
            .await
            .unwrap();
    }
    g.upload_bytes(store, &ctx.key("listing-not-included.txt"), b"x")
        .await
        .unwrap();

    let prefix = ctx.key("list/");
    let (mut keys, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let page = g
            .list(store, &prefix, cursor.as_deref(), 2)
            .await
            .unwrap_or_else(|e| panic!("list: {e:?}"));
        pages += 1;
        assert!(page.items.len() <= 2, "page size 2, got {}", page.items.len());
        for item in &page.items {
            assert_eq!(item.size, item.key.len() as u64 - prefix.len() as u64, "{}", item.key);
            assert!(item.etag.is_some() && item.modified.is_some(), "{}", item.key);
        }
        keys.extend(page.items.into_iter().map(|item| item.key));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 10, "the cursor does not advance");
    }
    let expected: Vec<String> = names.iter().map(|name| ctx.key(&format!("list/{name}"))).collect();
    assert_eq!(keys, expected);
    assert_eq!(pages, 3);
}

async fn copy(ctx: Ctx) {
    let (mut g, store) = ctx.open().await;
    let (source, destination) = (ctx.key("copy/source.json"), ctx.key("copy/copied + äö.json"));
    let options = upload_options(Some("application/json"), &[("kind", "original")]);
    g.upload(store, &source, memory_stream(&b"{\"copied\":true}"[..]), &options)
        .await
        .unwrap();
    g.copy(store, &source, &destination)
        .await
        .unwrap_or_else(|e| panic!("copy: {e:?}"));
    let attributes = g.attributes(store, &destination).await.unwrap().expect("the copy");
    assert_eq!(attributes.content_type.as_deref(), Some("application/json"));
    assert!(attributes.metadata.contains(&("kind".into(), "original".into())));
    assert_eq!(
        g.get_bytes(store, &destination, None).await.unwrap(),
        Some(b"{\"copied\":true}".to_vec())
    );
    assert!(g.exists(store, &source).await.unwrap(), "the source stays");

    let error = g
        .copy(store, &ctx.key("copy/missing"), &destination)
        .await
        .expect_err("copying a missing object");
    assert_error(&error, wit::ErrorKind::S3, Some("NoSuchKey"), Some(404));
    assert_eq!(error.hint.as_deref(), Some("no object has this key"));
}

async fn presign_get(ctx: Ctx) {
    let (mut g, store) = ctx.open().await;
    let key = ctx.key("presigned/report 2024 + ü.txt");
    g.upload_bytes(store, &key, b"fetched with a presigned URL")
        .await
        .unwrap();
    if !ctx.is_s3() {
        let error = g.presign_get(store, &key, 300).await.expect_err("memory has no URLs");
        assert_error(&error, wit::ErrorKind::Unsupported, None, None);
        assert!(error.message.contains("needs S3"), "{error:?}");
        let error = g.presign_put(store, &key, 300).await.expect_err("memory has no URLs");
        assert_error(&error, wit::ErrorKind::Unsupported, None, None);
        return;
    }
    let url = g
        .presign_get(store, &key, 300)
        .await
        .unwrap_or_else(|e| panic!("presign-get: {e:?}"));
    assert!(
        url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=300"),
        "{url}"
    );
    let got = raw_http::request("GET", &url, &[], b"").await;
    assert_eq!(got.status, 200, "presigned GET: {}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.body, b"fetched with a presigned URL");
    // The signature covers the key: another key with the same query is refused.
    let other = raw_http::request("GET", &url.replacen("presigned/", "presigned/x", 1), &[], b"").await;
    assert_eq!(other.status, 403, "{}", String::from_utf8_lossy(&other.body));

    let put_key = ctx.key("presigned/uploaded.txt");
    let put_url = g.presign_put(store, &put_key, 60).await.unwrap();
    let put = raw_http::request("PUT", &put_url, &[], b"put with a presigned URL").await;
    assert_eq!(put.status, 200, "presigned PUT: {}", String::from_utf8_lossy(&put.body));
    assert_eq!(
        g.get_bytes(store, &put_key, None).await.unwrap(),
        Some(b"put with a presigned URL".to_vec())
    );

    let error = g.presign_get(store, &key, 0).await.expect_err("0 seconds");
    assert_error(&error, wit::ErrorKind::InvalidInput, None, None);
}

async fn delete(ctx: Ctx) {
    let (mut g, store) = ctx.open().await;
    let key = ctx.key("delete/me.txt");
    g.upload_bytes(store, &key, b"soon gone").await.unwrap();
    assert!(g.exists(store, &key).await.unwrap());
    g.delete(store, &key).await.unwrap_or_else(|e| panic!("delete: {e:?}"));
    assert!(!g.exists(store, &key).await.unwrap());
    g.delete(store, &key).await.expect("deleting a missing key succeeds");
}

async fn delete_prefix(ctx: Ctx) {
    let (mut g, store) = ctx.open().await;
    for name in ["tree/a", "tree/b/c", "tree/b/d e"] {
        g.upload_bytes(store, &ctx.key(name), name.as_bytes()).await.unwrap();
    }
    g.upload_bytes(store, &ctx.key("treehouse"), b"stays").await.unwrap();
    assert_eq!(g.delete_prefix(store, &ctx.key("tree/")).await.unwrap(), 3);
    let left = g.list(store, &ctx.key("tree/"), None, 100).await.unwrap();
    assert!(left.items.is_empty(), "{:?}", left.items);
    assert!(g.exists(store, &ctx.key("treehouse")).await.unwrap());
    assert_eq!(g.delete_prefix(store, &ctx.key("tree/")).await.unwrap(), 0);
    let error = g.delete_prefix(store, "").await.expect_err("an empty prefix");
    assert_error(&error, wit::ErrorKind::InvalidInput, None, None);
}

async fn settings_errors(ctx: Ctx) {
    let mut g = ctx.fixture.instance().await;
    let secret = "do-not-leak-this-secret";
    let mut settings = wit::Settings {
        enabled: true,
        bucket: BUCKET.into(),
        region: "auto".into(),
        endpoint: String::new(),
        access_key: "AKID".into(),
        secret: secret.into(),
        force_path_style: false,
    };
    let error = g.open(&settings).await.expect_err("no endpoint outside AWS");
    assert_error(&error, wit::ErrorKind::Settings, None, None);
    assert_eq!(error.field.as_deref(), Some("endpoint"));
    assert_eq!(error.message, "failed to initialize S3: endpoint must be set");
    assert!(
        error.hint.as_deref().is_some_and(|h| h.contains("endpoint URL")),
        "{error:?}"
    );

    settings.endpoint = "127.0.0.1:9000".into();
    let error = g.open(&settings).await.expect_err("no scheme");
    assert_eq!(error.field.as_deref(), Some("endpoint"));
    assert!(
        error.message.contains("must start with https:// or http://"),
        "{error:?}"
    );

    settings.endpoint = "http://127.0.0.1:9000".into();
    settings.access_key.clear();
    let error = g.open(&settings).await.expect_err("no access key");
    assert_eq!(error.field.as_deref(), Some("accessKey"));
    assert!(!format!("{error:?}").contains(secret), "the secret leaked: {error:?}");
}

async fn wrong_secret(ctx: Ctx) {
    let mut g = ctx.fixture.instance().await;
    let mut settings = ctx.settings();
    let wrong = "not-the-right-secret-0123456789";
    settings.secret = wrong.into();
    let store = g.open_ok(&settings).await;
    let error = g
        .list(store, &ctx.prefix, None, 10)
        .await
        .expect_err("a wrong secret is refused");
    assert_error(&error, wit::ErrorKind::S3, Some("SignatureDoesNotMatch"), Some(403));
    assert_eq!(
        error.hint.as_deref(),
        Some("the secret does not match the access key: check the secret key")
    );
    assert!(
        error.message.starts_with("status code 403: SignatureDoesNotMatch"),
        "{error:?}"
    );
    let text = format!("{error:?}");
    assert!(
        !text.contains(wrong) && !text.contains(&ctx.s3.as_ref().unwrap().secret),
        "secret leaked: {text}"
    );

    // An upload from a stream fails the same way, and leaves nothing behind.
    let key = ctx.key("wrong-secret.txt");
    let error = g
        .upload(
            store,
            &key,
            memory_stream(&b"never stored"[..]),
            &upload_options(None, &[]),
        )
        .await
        .expect_err("upload with a wrong secret");
    assert_eq!(error.code.as_deref(), Some("SignatureDoesNotMatch"), "{error:?}");
    let (mut good, good_store) = ctx.open().await;
    assert!(!good.exists(good_store, &key).await.unwrap());
}

async fn missing_bucket(ctx: Ctx) {
    let mut g = ctx.fixture.instance().await;
    let mut settings = ctx.settings();
    settings.bucket = "edgefs-no-such-bucket".into();
    let store = g.open_ok(&settings).await;
    let error = g.check(store).await.expect_err("HeadBucket of a missing bucket");
    assert_error(&error, wit::ErrorKind::S3, Some("NoSuchBucket"), Some(404));
    let hint = "check the bucket name, or try toggling force path style (MinIO needs it on, AWS off)";
    assert_eq!(error.hint.as_deref(), Some(hint));
    let error = g.list(store, "", None, 10).await.expect_err("listing a missing bucket");
    assert_error(&error, wit::ErrorKind::S3, Some("NoSuchBucket"), Some(404));
    assert_eq!(error.hint.as_deref(), Some(hint));
    assert!(error.request_id.is_some(), "SeaweedFS names its request: {error:?}");
}

async fn unreachable_endpoint(ctx: Ctx) {
    let mut g = ctx.fixture.instance().await;
    let mut settings = ctx.settings();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    settings.endpoint = format!("http://127.0.0.1:{closed}");
    let store = g.open_ok(&settings).await;
    let started = Instant::now();
    let error = g.exists(store, "anything").await.expect_err("nothing listens");
    assert_error(&error, wit::ErrorKind::Transport, None, None);
    assert!(error.message.contains("connection refused"), "{error:?}");
    assert!(
        error
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("endpoint's host and port")),
        "{error:?}"
    );
    // Transport failures are retried (3 times, with back-off slept on wasi:clocks).
    println!("  gave up after {:.2}s", started.elapsed().as_secs_f64());
}

// ------------------------------------------------------------------ conformance

/// The component seen from the host as an `edgefs::storage::Storage`, so the library's
/// storage conformance suite runs through the WIT boundary: every call goes to the
/// component's exports, bodies through host streams (uploads from an `AsyncRead`
/// stream, downloads with `write-to` into a host pipe).
struct ComponentStorage {
    guest: futures::lock::Mutex<(Guest, ResourceAny)>,
}

fn error_from_wit(error: wit::StorageError) -> edgefs::Error {
    match error.kind {
        wit::ErrorKind::S3 => edgefs::Error::S3(edgefs_s3::Error::from(edgefs::S3Error {
            status: error.status.unwrap_or(0),
            code: error.code.unwrap_or_default(),
            message: error.message,
            request_id: error.request_id,
            bucket_region: None,
            signed_region: String::new(),
        })),
        wit::ErrorKind::Transport => edgefs_s3::Error::Transport(error.message).into(),
        wit::ErrorKind::InvalidResponse => edgefs_s3::Error::InvalidResponse(error.message).into(),
        _ => edgefs::Error::InvalidInput(error.message),
    }
}

fn time_from_wit(time: wasmtime_wasi::p2::bindings::clocks::wall_clock::Datetime) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::new(time.seconds, time.nanoseconds)
}

fn time_to_wit(time: std::time::SystemTime) -> wasmtime_wasi::p2::bindings::clocks::wall_clock::Datetime {
    let since = time.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    wasmtime_wasi::p2::bindings::clocks::wall_clock::Datetime {
        seconds: since.as_secs(),
        nanoseconds: since.subsec_nanos(),
    }
}

fn attributes_from_wit(attributes: wit::Attributes) -> edgefs::storage::Attributes {
    edgefs::storage::Attributes {
        size: attributes.size,
        content_type: attributes.content_type,
        etag: attributes.etag,
        modified: attributes.modified.map(time_from_wit),
        metadata: attributes.metadata.into_iter().collect(),
    }
}

/// A body stream as a tokio `AsyncRead`, for `AsyncReadStream`.
struct BodyReader {
    stream: edgefs::transport::ByteStream,
    chunk: Bytes,
}

impl AsyncRead for BodyReader {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        use futures::StreamExt;
        loop {
            if !self.chunk.is_empty() {
                let n = self.chunk.len().min(buf.remaining());
                let chunk = self.chunk.split_to(n);
                buf.put_slice(&chunk);
                return Poll::Ready(Ok(()));
            }
            match std::task::ready!(self.stream.poll_next_unpin(cx)) {
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(error)) => return Poll::Ready(Err(std::io::Error::other(error.to_string()))),
                None => return Poll::Ready(Ok(())),
            }
        }
    }
}

type StorageFuture<'a, T> = edgefs::transport::BoxFuture<'a, Result<T, edgefs::Error>>;

impl edgefs::storage::Storage for ComponentStorage {
    fn name(&self) -> &'static str {
        "component"
    }

    fn attributes<'a>(&'a self, key: &'a str) -> StorageFuture<'a, Option<edgefs::storage::Attributes>> {
        Box::pin(async move {
            let (guest, store) = &mut *self.guest.lock().await;
            let found = guest.attributes(*store, key).await.map_err(error_from_wit)?;
            Ok(found.map(attributes_from_wit))
        })
    }

    fn get<'a>(
        &'a self,
        key: &'a str,
        options: &'a edgefs::storage::GetOptions,
    ) -> StorageFuture<'a, edgefs::storage::GetOutcome> {
        use edgefs::s3::actions::ByteRange;
        use edgefs::storage::{GetOutcome, Object};
        Box::pin(async move {
            let (guest, store) = &mut *self.guest.lock().await;
            let options = wit::GetOptions {
                range: options.range.map(|range| match range {
                    ByteRange::Inclusive(first, last) => wit::ByteRange::Inclusive((first, last)),
                    ByteRange::From(first) => wit::ByteRange::StartingAt(first),
                    ByteRange::Suffix(n) => wit::ByteRange::Suffix(n),
                }),
                if_none_match: options.if_none_match.clone(),
                if_modified_since: options.if_modified_since.map(time_to_wit),
            };
            let outcome = guest.get(*store, key, &options).await.map_err(error_from_wit)?;
            Ok(match outcome {
                wit::GetResult::Found(reader) => {
                    let attributes = attributes_from_wit(guest.reader_attributes(reader).await);
                    let range = guest
                        .reader_range(reader)
                        .await
                        .map(|r| edgefs::s3::actions::ContentRange {
                            first: r.first,
                            last: r.last,
                            total: r.total,
                        });
                    let length = range.map_or(attributes.size, |r| r.last - r.first + 1);
                    let sink = MemoryOutputPipe::new(length as usize + 1);
                    let written = guest.write_to(reader, Box::new(sink.clone())).await;
                    guest.drop_resource(reader).await;
                    let written = written.map_err(error_from_wit)?;
                    assert_eq!(written, length, "write-to wrote what the reader announced");
                    GetOutcome::Found(Object {
                        attributes,
                        range,
                        body: edgefs::Body::from_bytes(sink.contents()),
                    })
                }
                wit::GetResult::NotModified(attributes) => GetOutcome::NotModified(attributes_from_wit(attributes)),
                wit::GetResult::RangeNotSatisfiable(size) => GetOutcome::RangeNotSatisfiable {
                    size,
                    content_type: None,
                },
                wit::GetResult::NotFound => GetOutcome::NotFound,
            })
        })
    }

    fn upload<'a>(
        &'a self,
        key: &'a str,
        body: edgefs::Body,
        options: &'a edgefs::storage::UploadOptions,
    ) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let (guest, store) = &mut *self.guest.lock().await;
            let options = wit::UploadOptions {
                content_type: options.content_type.clone(),
                metadata: options.metadata.clone().into_iter().collect(),
            };
            let reader = BodyReader {
                stream: body.into_stream(),
                chunk: Bytes::new(),
            };
            let body: DynInputStream = Box::new(AsyncReadStream::new(reader));
            guest.upload(*store, key, body, &options).await.map_err(error_from_wit)
        })
    }

    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let (guest, store) = &mut *self.guest.lock().await;
            guest.copy(*store, from, to).await.map_err(error_from_wit)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let (guest, store) = &mut *self.guest.lock().await;
            guest.delete(*store, key).await.map_err(error_from_wit)
        })
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> StorageFuture<'a, u64> {
        Box::pin(async move {
            let (guest, store) = &mut *self.guest.lock().await;
            guest.delete_prefix(*store, prefix).await.map_err(error_from_wit)
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> StorageFuture<'a, edgefs::storage::ListPage> {
        Box::pin(async move {
            let (guest, store) = &mut *self.guest.lock().await;
            let page_size = u32::try_from(limit).unwrap_or(u32::MAX);
            let page = guest
                .list(*store, prefix, cursor, page_size)
                .await
                .map_err(error_from_wit)?;
            Ok(edgefs::storage::ListPage {
                items: page
                    .items
                    .into_iter()
                    .map(|item| edgefs::storage::ListItem {
                        key: item.key,
                        size: item.size,
                        etag: item.etag,
                        modified: item.modified.map(time_from_wit),
                    })
                    .collect(),
                next_cursor: page.next_cursor,
            })
        })
    }
}

// ------------------------------------------------------------------ the runner

type Case = support::harness::Case<Ctx>;
use support::harness::cases;

/// The sequence, on both stores.
const BOTH: &[(&str, Case)] = &cases![
    open_and_check,
    upload_small_from_stream,
    upload_multipart_from_stream,
    ranged_get,
    list_with_cursor,
    copy,
    presign_get,
    delete,
    delete_prefix,
    settings_errors,
];

/// What only a server can get wrong.
const S3_ONLY: &[(&str, Case)] = &cases![
    large_upload_stays_bounded,
    wrong_secret,
    missing_bucket,
    unreachable_endpoint
];

/// The built component: `EDGEFS_COMPONENT`, or built here with cargo.
fn component_path() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("EDGEFS_COMPONENT") {
        return Ok(PathBuf::from(path));
    }
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "-p",
            "edgefs-component",
        ])
        .args(["--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build of the component: {status} (is the wasm32-wasip2 target installed?)"
        ));
    }
    println!("component built in {:.1}s", started.elapsed().as_secs_f64());
    Ok(target_dir.join("wasm32-wasip2/release/edgefs_component.wasm"))
}

fn main() -> ExitCode {
    let mut runner = Runner::from_args("component_host");
    let mut cases: Vec<(String, bool, Case)> = Vec::new();
    for (backend, list) in [("s3", [BOTH, S3_ONLY].concat()), ("memory", BOTH.to_vec())] {
        for (name, case) in list {
            cases.push((format!("{backend}/{name}"), backend == "s3", case));
        }
    }
    cases.retain(|(name, _, _)| runner.wants(name));
    let conformance_wanted = ["s3", "memory"].iter().any(|backend| {
        edgefs::storage::conformance::names()
            .iter()
            .any(|check| runner.wants(&format!("{backend}/conformance/{check}")))
    });
    if cases.is_empty() && !conformance_wanted {
        return runner.finish();
    }
    let path = match component_path() {
        Ok(path) => path,
        Err(why) => {
            // Every case fails without a component: count them so.
            println!("FAIL   building the component: {why}");
            println!("component_host: 0 passed, {} failed", cases.len());
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let fixture = Arc::new(Fixture::new(&path));
        let server: Server = start_seaweedfs(BUCKET);
        server.client(true).create_bucket().await.expect("create the bucket");
        let s3 = S3Target {
            port: server.port,
            access_key: server.access_key.clone(),
            secret: server.secret.clone(),
        };
        for (name, is_s3, case) in cases {
            let case_name = name.split_once('/').map_or(name.as_str(), |(_, case)| case);
            let ctx = Ctx {
                fixture: fixture.clone(),
                s3: is_s3.then(|| s3.clone()),
                prefix: format!("component/{case_name}/"),
            };
            runner.run(&name, case(ctx)).await;
        }
        // The library's storage conformance suite, through the component, on both stores.
        for backend in ["s3", "memory"] {
            let names: Vec<String> = edgefs::storage::conformance::names()
                .into_iter()
                .map(|check| format!("{backend}/conformance/{check}"))
                .collect();
            if !names.iter().any(|name| runner.wants(name)) {
                continue;
            }
            let ctx = Ctx {
                fixture: fixture.clone(),
                s3: (backend == "s3").then(|| s3.clone()),
                prefix: String::new(),
            };
            let storage = ComponentStorage {
                guest: futures::lock::Mutex::new(ctx.open().await),
            };
            let outcomes = edgefs::storage::conformance::run(&storage, "component/conformance/", None).await;
            for outcome in outcomes {
                let result = outcome.result;
                runner
                    .run(&format!("{backend}/conformance/{}", outcome.name), async move {
                        if let Err(message) = result {
                            panic!("{message}");
                        }
                    })
                    .await;
            }
        }
        drop(server);
        runner.finish()
    })
}
