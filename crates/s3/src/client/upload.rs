//! Uploads of any size from a stream: one PutObject when the body fits in a part,
//! otherwise a multipart upload whose parts are cut from the stream as it arrives.

use super::S3Client;
use crate::error::Error;
use crate::protocol::actions::{CompletedPart, ObjectOptions};
use crate::transport::{Body, BoxFuture, ByteStream, Transport};
use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};

/// S3's minimum size for every part but the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
const MAX_PARTS: u64 = 10_000;

/// How [`S3Client::upload`] cuts large bodies into parts. The default: 10 MiB parts,
/// 5 in flight. Every part in flight is held in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadConfig {
    /// Every part but the last has exactly this size (R2 requires equal parts).
    pub part_size: u64,
    /// Parts in flight at once.
    pub concurrency: usize,
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig {
            part_size: 10 * 1024 * 1024,
            concurrency: 5,
        }
    }
}

impl UploadConfig {
    pub(crate) fn normalized(self) -> Self {
        UploadConfig {
            part_size: self.part_size.max(MIN_PART_SIZE),
            concurrency: self.concurrency.max(1),
        }
    }
}

/// Cuts a stream into parts of exactly `size` bytes (the last may be shorter). A
/// chunk at least as large as a part is sliced, not copied.
struct PartCutter {
    stream: ByteStream,
    leftover: Bytes,
    size: usize,
    ended: bool,
}

impl PartCutter {
    async fn next_part(&mut self) -> Result<Option<Bytes>, Error> {
        if self.leftover.len() >= self.size {
            return Ok(Some(self.leftover.split_to(self.size)));
        }
        let mut part = BytesMut::new();
        let mut pending = std::mem::take(&mut self.leftover);
        loop {
            let missing = self.size - part.len();
            if pending.len() >= missing {
                if part.is_empty() {
                    self.leftover = pending.split_off(missing);
                    return Ok(Some(pending));
                }
                part.extend_from_slice(&pending.split_to(missing));
                self.leftover = pending;
                return Ok(Some(part.freeze()));
            }
            if part.is_empty() {
                part.reserve(self.size);
            }
            part.extend_from_slice(&pending);
            // A stream that ended is not polled again (some panic if they are).
            let next = if self.ended { None } else { self.stream.next().await };
            match next {
                Some(chunk) => pending = chunk?,
                None => {
                    self.ended = true;
                    if part.is_empty() {
                        return Ok(None);
                    }
                    return Ok(Some(part.freeze()));
                }
            }
        }
    }
}

/// S3's limit for one PutObject: 5 GiB.
pub const MAX_PUT_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

impl<T: Transport> S3Client<T> {
    /// Uploads a body of any size, known or not. A body that fits in one part goes up
    /// with one PutObject; a larger one as a multipart upload with
    /// [`UploadConfig::concurrency`] parts in flight. If anything fails, the multipart
    /// upload is aborted (no parts stay billed) and the first error is returned. When
    /// the answer to CreateMultipartUpload is lost, the upload the server may have made
    /// is found by listing the key's open uploads, and every one of them is aborted:
    /// upload to a key only one writer uses at a time (edgefs's stored names are unique).
    pub async fn upload(&self, key: &str, body: Body, options: &ObjectOptions) -> Result<Option<String>, Error> {
        let mut part_size = self.upload.part_size;
        // A JavaScript stream of known length (a Worker's upload) goes up whole with one
        // PutObject, as the runtime's own stream: cutting it into parts here would pull
        // every byte through wasm memory.
        if body.is_js_stream() && body.len().is_some_and(|length| length <= MAX_PUT_OBJECT_SIZE) {
            return self.put_object(key, body, options).await;
        }
        if let Some(length) = body.len() {
            if length <= part_size && body.as_bytes().is_some() {
                return self.put_object(key, body, options).await;
            }
            // Keep within S3's 10 000 parts.
            part_size = part_size.max(length.div_ceil(MAX_PARTS));
        }
        crate::protocol::bucket::validate_key(key)?;
        let size = usize::try_from(part_size).map_err(|_| Error::InvalidInput("part size too large".into()))?;
        let mut cutter = PartCutter {
            stream: body.into_stream(),
            leftover: Bytes::new(),
            size,
            ended: false,
        };
        let Some(first) = cutter.next_part().await? else {
            return self.put_object(key, Body::empty(), options).await;
        };
        let Some(second) = cutter.next_part().await? else {
            return self.put_object(key, Body::from_bytes(first), options).await;
        };

        let upload_id = match self.create_multipart_upload(key, options).await {
            Ok(upload_id) => upload_id,
            Err(error) => {
                // Unless S3 said no, the server may have made the upload and its id been
                // lost on the way back: find it by the key, so no upload stays billed.
                if !matches!(error, Error::S3(_)) {
                    self.abort_uploads_of(key).await;
                }
                return Err(error);
            }
        };
        match self.upload_parts(key, &upload_id, [first, second], cutter).await {
            Ok(etag) => Ok(etag),
            Err(error) => {
                // The first error is what the caller needs; a failed abort is left to the
                // bucket's lifecycle rules, and the upload id is in the error below.
                if let Err(abort_error) = self.abort_multipart_upload(key, &upload_id).await {
                    return Err(Error::InvalidResponse(format!(
                        "{error}; aborting multipart upload {upload_id} then failed too: {abort_error}"
                    )));
                }
                Err(error)
            }
        }
    }

    /// Aborts every open multipart upload of exactly `key`, as far as the server lets
    /// it be listed and aborted now (the caller already has the error that matters).
    async fn abort_uploads_of(&self, key: &str) {
        let Ok(open) = self.list_multipart_uploads(Some(key), None).await else {
            return;
        };
        for upload in open.uploads.iter().filter(|upload| upload.key == key) {
            let _ = self.abort_multipart_upload(key, &upload.upload_id).await;
        }
    }

    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        first: [Bytes; 2],
        cutter: PartCutter,
    ) -> Result<Option<String>, Error> {
        let head = futures::stream::iter(first.into_iter().map(Ok));
        // Boxed: the compiler cannot see through the unfold's async block that the
        // whole upload future is `Send`.
        let rest: ByteStream = Box::pin(futures::stream::try_unfold(cutter, |mut cutter| {
            let next: BoxFuture<'static, Result<Option<(Bytes, PartCutter)>, Error>> =
                Box::pin(async move { Ok(cutter.next_part().await?.map(|part| (part, cutter))) });
            next
        }));
        // Boxed with an explicit lifetime: an unboxed `async move` returned from this
        // closure hides from the compiler that the whole upload future is `Send`.
        let upload_one =
            |(index, part): (usize, Result<Bytes, Error>)| -> BoxFuture<'_, Result<(CompletedPart, u64), Error>> {
                Box::pin(async move {
                    let part_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
                    let part = part?;
                    let size = part.len() as u64;
                    let etag = self
                        .upload_part(key, upload_id, part_number, Body::from_bytes(part))
                        .await?;
                    Ok((CompletedPart { part_number, etag }, size))
                })
            };
        let mut parts: Vec<(CompletedPart, u64)> = head
            .chain(rest)
            .enumerate()
            .map(upload_one)
            .buffer_unordered(self.upload.concurrency)
            .try_collect()
            .await?;
        edgefs_sigv4::sorting::sort_by(&mut parts, |a, b| a.0.part_number.cmp(&b.0.part_number));
        // The cutter makes every part but the last the same size; a provider that needs
        // it (R2) would refuse the completion otherwise, so it is checked, not assumed.
        let sizes: Vec<u64> = parts.iter().map(|(_, size)| *size).collect();
        self.profile.check_part_sizes(&sizes)?;
        let parts: Vec<CompletedPart> = parts.into_iter().map(|(part, _)| part).collect();
        self.complete_multipart_upload(key, upload_id, &parts).await
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn cut(chunks: &[&[u8]], size: usize) -> Vec<Vec<u8>> {
        let chunks: Vec<Result<Bytes, Error>> = chunks.iter().map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let mut cutter = PartCutter {
            stream: Box::pin(futures::stream::iter(chunks)),
            leftover: Bytes::new(),
            size,
            ended: false,
        };
        let mut parts = Vec::new();
        futures::executor::block_on(async {
            while let Some(part) = cutter.next_part().await.unwrap() {
                parts.push(part.to_vec());
            }
        });
        parts
    }

    #[test]
    fn every_part_but_the_last_has_the_part_size() {
        assert_eq!(
            cut(&[b"abc", b"de", b"fghij", b"k"], 4),
            vec![b"abcd".to_vec(), b"efgh".to_vec(), b"ijk".to_vec()]
        );
        assert_eq!(
            cut(&[b"abcdefghij"], 4),
            vec![b"abcd".to_vec(), b"efgh".to_vec(), b"ij".to_vec()]
        );
        assert_eq!(cut(&[b"abcd", b"efgh"], 4), vec![b"abcd".to_vec(), b"efgh".to_vec()]);
        assert_eq!(cut(&[], 4), Vec::<Vec<u8>>::new());
        assert_eq!(cut(&[b"", b"ab", b""], 4), vec![b"ab".to_vec()]);
    }
}
