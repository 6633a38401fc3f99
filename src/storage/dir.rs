//! A directory on disk as a backend, in the layout PocketBase's local storage writes
//! (`pb_data/storage`): each object a file at its key's path, with a `{name}.attrs`
//! JSON sidecar beside it holding its content type, user metadata and MD5 — so
//! `edgefs migrate` reads what PocketBase wrote, and writes what PocketBase reads.
//! Native only.

use super::*;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

const NAME: &str = "dir";
/// PocketBase's (gocloud's fileblob's) sidecar extension; a key may not end with it.
const ATTRS: &str = ".attrs";
/// Uploads are written here first and renamed into place when whole.
const PARTIAL: &str = ".edgefs-partial-";
const CHUNK: usize = 256 * 1024;

/// The sidecar, as PocketBase writes it (`tools/filesystem/internal/fileblob/attrs.go`).
#[derive(Default, Deserialize, Serialize)]
struct Sidecar {
    #[serde(rename = "user.cache_control", default)]
    cache_control: String,
    #[serde(rename = "user.content_disposition", default)]
    content_disposition: String,
    #[serde(rename = "user.content_encoding", default)]
    content_encoding: String,
    #[serde(rename = "user.content_language", default)]
    content_language: String,
    #[serde(rename = "user.content_type", default)]
    content_type: String,
    #[serde(rename = "user.metadata", default)]
    metadata: Option<BTreeMap<String, String>>,
    /// The MD5 of the bytes, base64 (Go's encoding of a `[]byte`).
    #[serde(default)]
    md5: Option<String>,
}

/// A directory of objects.
#[derive(Clone, Debug)]
pub struct Dir {
    root: PathBuf,
}

impl Dir {
    /// The objects under `root` (created on the first upload if missing).
    pub fn new(root: impl Into<PathBuf>) -> Dir {
        Dir { root: root.into() }
    }

    /// Where the objects are.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, Error> {
        let refused = |why: &str| Error::InvalidInput(format!("{NAME}: the key {} {why}", crate::error::Quoted(key)));
        if key.is_empty() {
            return Err(refused("is empty"));
        }
        if key.ends_with(ATTRS) || key.rsplit('/').next().is_some_and(|name| name.starts_with(PARTIAL)) {
            return Err(refused("has a name the directory backend keeps for itself"));
        }
        let mut path = self.root.clone();
        for segment in key.split('/') {
            if segment.is_empty()
                || segment == "."
                || segment == ".."
                || segment.contains('\\')
                || segment.contains('\0')
            {
                return Err(refused("is not a relative path of plain names"));
            }
            path.push(segment);
        }
        Ok(path)
    }
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> Error {
    Error::backend(NAME, format!("{what} {}: {error}", path.display()))
}

fn sidecar_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(ATTRS);
    PathBuf::from(name)
}

async fn read_sidecar(path: &Path) -> Sidecar {
    match tokio::fs::read(sidecar_path(path)).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => Sidecar::default(),
    }
}

async fn md5_of_file(path: &Path) -> Result<[u8; 16], Error> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| io_error("cannot open", path, e))?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let n = file
            .read(&mut buffer)
            .await
            .map_err(|e| io_error("cannot read", path, e))?;
        if n == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buffer[..n]);
    }
}

/// The object's attributes; `None` when there is no file. The MD5 comes from the
/// sidecar, or is computed when there is none (a file put there by hand).
async fn attributes_of(path: &Path) -> Result<Option<Attributes>, Error> {
    let meta = match tokio::fs::metadata(path).await {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("cannot read", path, e)),
    };
    let sidecar = read_sidecar(path).await;
    let md5 = match sidecar
        .md5
        .as_deref()
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .filter(|digest| digest.len() == 16)
    {
        Some(digest) => digest,
        None => md5_of_file(path).await?.to_vec(),
    };
    Ok(Some(Attributes {
        size: meta.len(),
        content_type: Some(sidecar.content_type).filter(|t| !t.is_empty()),
        etag: Some(format!("\"{}\"", hex::encode(md5))),
        modified: meta.modified().ok(),
        metadata: sidecar.metadata.unwrap_or_default(),
    }))
}

/// Every key under the root, sorted, without sidecars and partial uploads.
fn walk(root: &Path) -> Result<Vec<String>, Error> {
    let mut keys = Vec::new();
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error("cannot list", &dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_error("cannot list", &dir, e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue; // not UTF-8: not a key this backend wrote or can name
            };
            let file_type = entry
                .file_type()
                .map_err(|e| io_error("cannot list", &entry.path(), e))?;
            let key = format!("{prefix}{name}");
            if file_type.is_dir() {
                pending.push((entry.path(), format!("{key}/")));
            } else if file_type.is_file() && !name.ends_with(ATTRS) && !name.starts_with(PARTIAL) {
                keys.push(key);
            }
        }
    }
    keys.sort_unstable();
    Ok(keys)
}

impl Storage for Dir {
    fn name(&self) -> &'static str {
        NAME
    }

    fn attributes<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Attributes>, Error>> {
        Box::pin(async move { attributes_of(&self.path(key)?).await })
    }

    fn get<'a>(&'a self, key: &'a str, options: &'a GetOptions) -> BoxFuture<'a, Result<GetOutcome, Error>> {
        Box::pin(async move {
            let path = self.path(key)?;
            let Some(attributes) = attributes_of(&path).await? else {
                return Ok(GetOutcome::NotFound);
            };
            if not_modified(&attributes, options) {
                return Ok(GetOutcome::NotModified(attributes));
            }
            let size = attributes.size;
            let (first, length, range) = match options.range {
                None => (0, size, None),
                Some(range) => match resolve_range(range, size) {
                    Some((first, last)) => (
                        first,
                        last - first + 1,
                        Some(ContentRange {
                            first,
                            last,
                            total: Some(size),
                        }),
                    ),
                    None => {
                        return Ok(GetOutcome::RangeNotSatisfiable {
                            size,
                            content_type: attributes.content_type.clone(),
                        })
                    }
                },
            };
            let mut file = tokio::fs::File::open(&path)
                .await
                .map_err(|e| io_error("cannot open", &path, e))?;
            file.seek(SeekFrom::Start(first))
                .await
                .map_err(|e| io_error("cannot seek in", &path, e))?;
            // Read as the body is consumed, a chunk at a time: never the whole file.
            let stream = futures::stream::unfold((file, length, path), |(mut file, left, path)| async move {
                if left == 0 {
                    return None;
                }
                let mut buffer = BytesMut::zeroed(CHUNK.min(left as usize));
                match file.read(&mut buffer).await {
                    Ok(0) => Some((
                        Err(edgefs_s3::Error::Body(format!("{} ended early", path.display()))),
                        (file, 0, path),
                    )),
                    Ok(n) => {
                        buffer.truncate(n);
                        Some((Ok(buffer.freeze()), (file, left - n as u64, path)))
                    }
                    Err(e) => Some((
                        Err(edgefs_s3::Error::Body(format!("cannot read {}: {e}", path.display()))),
                        (file, 0, path),
                    )),
                }
            });
            Ok(GetOutcome::Found(Object {
                attributes,
                range,
                body: Body::from_stream(Box::pin(stream), Some(length)),
            }))
        })
    }

    fn upload<'a>(&'a self, key: &'a str, body: Body, options: &'a UploadOptions) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let path = self.path(key)?;
            let parent = path.parent().unwrap_or(&self.root).to_path_buf();
            tokio::fs::create_dir_all(&parent)
                .await
                .map_err(|e| io_error("cannot create", &parent, e))?;
            let partial = parent.join(format!(
                "{PARTIAL}{}",
                crate::random::string(12, crate::random::LOWERCASE_ALPHANUMERIC)
            ));
            let written = write_partial(&partial, body).await;
            let md5 = match written {
                Ok(md5) => md5,
                Err(error) => {
                    let _ = tokio::fs::remove_file(&partial).await;
                    return Err(error);
                }
            };
            let sidecar = Sidecar {
                content_type: options.content_type.clone().unwrap_or_default(),
                metadata: Some(options.metadata.clone()).filter(|m| !m.is_empty()),
                md5: Some(base64::engine::general_purpose::STANDARD.encode(md5)),
                ..Sidecar::default()
            };
            let json = serde_json::to_vec(&sidecar).unwrap_or_default();
            let attrs = sidecar_path(&path);
            tokio::fs::write(&attrs, json)
                .await
                .map_err(|e| io_error("cannot write", &attrs, e))?;
            // Whole and hashed: only now does it take the key's place.
            tokio::fs::rename(&partial, &path)
                .await
                .map_err(|e| io_error("cannot move into place", &path, e))
        })
    }

    fn copy<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let options = match self.get(from, &GetOptions::default()).await? {
                GetOutcome::Found(object) => (
                    object.body,
                    UploadOptions {
                        content_type: object.attributes.content_type,
                        metadata: object.attributes.metadata,
                        condition: None,
                    },
                ),
                _ => {
                    return Err(Error::NotFound {
                        backend: NAME,
                        key: from.to_owned(),
                    })
                }
            };
            self.upload(to, options.0, &options.1).await
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let path = self.path(key)?;
            for path in [sidecar_path(&path), path] {
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error("cannot delete", &path, e)),
                }
            }
            Ok(())
        })
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            check_prefix(prefix)?;
            let keys: Vec<String> = walk(&self.root)?
                .into_iter()
                .filter(|k| k.starts_with(prefix))
                .collect();
            for key in &keys {
                self.delete(key).await?;
            }
            Ok(keys.len() as u64)
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ListPage, Error>> {
        Box::pin(async move {
            let root = self.root.clone();
            let keys = walk(&root)?;
            let mut matching = keys
                .into_iter()
                .filter(|k| k.starts_with(prefix) && cursor.is_none_or(|c| k.as_str() > c));
            let limit = limit.max(1);
            let mut items = Vec::new();
            for key in matching.by_ref().take(limit) {
                let path = self.path(&key)?;
                let meta = tokio::fs::metadata(&path)
                    .await
                    .map_err(|e| io_error("cannot read", &path, e))?;
                // The MD5 is read on demand (attributes): a listing stays one stat per key.
                items.push(ListItem {
                    key,
                    size: meta.len(),
                    etag: None,
                    modified: meta.modified().ok(),
                });
            }
            let next_cursor = if matching.next().is_some() {
                items.last().map(|item| item.key.clone())
            } else {
                None
            };
            Ok(ListPage { items, next_cursor })
        })
    }
}

async fn write_partial(partial: &Path, body: Body) -> Result<[u8; 16], Error> {
    let mut file = tokio::fs::File::create(partial)
        .await
        .map_err(|e| io_error("cannot create", partial, e))?;
    let expected = body.len();
    let mut hasher = Md5::new();
    let mut written = 0u64;
    let mut stream = body.into_stream();
    while let Some(chunk) = stream.next().await {
        let chunk: Bytes = chunk?;
        hasher.update(&chunk);
        written += chunk.len() as u64;
        file.write_all(&chunk)
            .await
            .map_err(|e| io_error("cannot write", partial, e))?;
    }
    if expected.is_some_and(|expected| expected != written) {
        return Err(Error::backend(
            NAME,
            format!("the body ended after {written} of {} bytes", expected.unwrap_or(0)),
        ));
    }
    file.sync_all()
        .await
        .map_err(|e| io_error("cannot write", partial, e))?;
    Ok(hasher.finalize().into())
}
