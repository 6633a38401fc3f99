//! The tus 1.0 resumable-upload protocol (tus.io), sans IO: the headers a request must
//! carry and what they say, the answers' headers, and how a stream of `PATCH` chunks of
//! any size is cut into multipart parts of one size (R2 requires every part but the last
//! to be the same size; S3 requires at least 5 MiB).
//!
//! Issue 14's first piece: the Worker's route (`/api/files/uploads`) and the upload state
//! are built on this; nothing here reads a body or a backend.

use base64::Engine;
use http::{HeaderMap, StatusCode};
use std::collections::BTreeMap;

/// The protocol version spoken (`Tus-Resumable`, `Tus-Version`).
pub const TUS_VERSION: &str = "1.0.0";

/// The extensions supported (`Tus-Extension`).
pub const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration";

/// The content type of a chunk (`PATCH`, and a creation with an upload).
pub const CHUNK_CONTENT_TYPE: &str = "application/offset+octet-stream";

/// The smallest part S3 accepts but for the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// Why a tus request is refused: the status tus clients act on, and a message naming the
/// problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TusError {
    /// 400, 409, 412, 413 or 415, as the protocol assigns them.
    pub status: StatusCode,
    /// What was wrong, for the body.
    pub message: String,
}

impl TusError {
    fn new(status: StatusCode, message: impl Into<String>) -> TusError {
        TusError {
            status,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for TusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for TusError {}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// Every request but `OPTIONS` must say it speaks this version: otherwise 412 (the
/// answer then carries `Tus-Version`).
pub fn check_version(headers: &HeaderMap) -> Result<(), TusError> {
    match header(headers, "tus-resumable") {
        Some(TUS_VERSION) => Ok(()),
        Some(other) => Err(TusError::new(
            StatusCode::PRECONDITION_FAILED,
            format!("Tus-Resumable {other:?} is not supported: this server speaks {TUS_VERSION}"),
        )),
        None => Err(TusError::new(
            StatusCode::PRECONDITION_FAILED,
            format!("the request lacks Tus-Resumable: {TUS_VERSION}"),
        )),
    }
}

/// The headers of the answer to `OPTIONS` (204), with the largest upload accepted.
pub fn options_headers(max_size: u64) -> Vec<(&'static str, String)> {
    vec![
        ("tus-resumable", TUS_VERSION.to_owned()),
        ("tus-version", TUS_VERSION.to_owned()),
        ("tus-extension", TUS_EXTENSIONS.to_owned()),
        ("tus-max-size", max_size.to_string()),
    ]
}

/// Reads `Upload-Metadata`: comma-separated `key base64value` pairs (a key may have no
/// value), keys unique. Values must be UTF-8 text (they name collections, fields,
/// records and files).
pub fn parse_metadata(value: Option<&str>) -> Result<BTreeMap<String, String>, TusError> {
    let bad = |message: String| TusError::new(StatusCode::BAD_REQUEST, message);
    let mut pairs = BTreeMap::new();
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(pairs);
    };
    for pair in value.split(',') {
        let mut parts = pair.trim().split(' ').filter(|p| !p.is_empty());
        let key = parts
            .next()
            .ok_or_else(|| bad("Upload-Metadata has an empty pair".to_owned()))?;
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad(format!("Upload-Metadata key {key:?} is not printable ASCII")));
        }
        let text = match parts.next() {
            None => String::new(),
            Some(encoded) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|_| bad(format!("Upload-Metadata value of {key:?} is not base64")))?;
                String::from_utf8(bytes)
                    .map_err(|_| bad(format!("Upload-Metadata value of {key:?} is not UTF-8 text")))?
            }
        };
        if parts.next().is_some() {
            return Err(bad(format!(
                "Upload-Metadata pair {key:?} has more than a key and a value"
            )));
        }
        if pairs.insert(key.to_owned(), text).is_some() {
            return Err(bad(format!("Upload-Metadata names {key:?} twice")));
        }
    }
    Ok(pairs)
}

fn number(headers: &HeaderMap, name: &str) -> Result<Option<u64>, TusError> {
    match header(headers, name) {
        None => Ok(None),
        Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text
            .parse()
            .map(Some)
            .map_err(|_| TusError::new(StatusCode::BAD_REQUEST, format!("{name} {text:?} is too large"))),
        Some(text) => Err(TusError::new(
            StatusCode::BAD_REQUEST,
            format!("{name} {text:?} is not a whole number of bytes"),
        )),
    }
}

/// What a creation (`POST`) asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creation {
    /// The whole upload's length (`Upload-Length`).
    pub length: u64,
    /// `Upload-Metadata`, decoded.
    pub metadata: BTreeMap<String, String>,
    /// The creation carries the first chunk (`creation-with-upload`).
    pub with_upload: bool,
}

/// Reads a creation request: its length (required: deferred lengths are not offered) up
/// to `max_size` (413 past it), its metadata, and whether a first chunk comes with it.
pub fn creation(headers: &HeaderMap, max_size: u64) -> Result<Creation, TusError> {
    check_version(headers)?;
    if header(headers, "upload-defer-length").is_some() {
        return Err(TusError::new(
            StatusCode::BAD_REQUEST,
            "Upload-Defer-Length is not supported: send Upload-Length",
        ));
    }
    let length = number(headers, "upload-length")?
        .ok_or_else(|| TusError::new(StatusCode::BAD_REQUEST, "the creation lacks Upload-Length"))?;
    if length > max_size {
        return Err(TusError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Upload-Length {length} is more than the {max_size} bytes this upload may have"),
        ));
    }
    let metadata = parse_metadata(header(headers, "upload-metadata"))?;
    let with_upload = header(headers, "content-type") == Some(CHUNK_CONTENT_TYPE);
    Ok(Creation {
        length,
        metadata,
        with_upload,
    })
}

/// Checks a chunk (`PATCH`) against the upload: the version, the chunk content type (415
/// otherwise), and its `Upload-Offset`, which must be where the upload stands (409
/// otherwise, with the offset to resume from in the message). Answers the offset.
pub fn chunk(headers: &HeaderMap, current: u64, length: u64) -> Result<u64, TusError> {
    check_version(headers)?;
    if header(headers, "content-type") != Some(CHUNK_CONTENT_TYPE) {
        return Err(TusError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("a chunk's Content-Type must be {CHUNK_CONTENT_TYPE}"),
        ));
    }
    let offset = number(headers, "upload-offset")?
        .ok_or_else(|| TusError::new(StatusCode::BAD_REQUEST, "the chunk lacks Upload-Offset"))?;
    if offset != current {
        return Err(TusError::new(
            StatusCode::CONFLICT,
            format!("Upload-Offset {offset} is not where the upload stands ({current}): resume from {current}"),
        ));
    }
    if let Some(size) = number(headers, "content-length")? {
        if offset.saturating_add(size) > length {
            return Err(TusError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the chunk ends at {}, past the upload's length {length}", offset + size),
            ));
        }
    }
    Ok(offset)
}

/// The part size for an upload of `length` bytes that uses at most `max_parts` parts
/// (S3 and R2: 10,000), at least `preferred` (and [`MIN_PART_SIZE`]), rounded up to a
/// whole MiB.
pub fn part_size(length: u64, preferred: u64, max_parts: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let needed = length.div_ceil(max_parts.max(1));
    let size = needed.max(preferred).max(MIN_PART_SIZE);
    size.div_ceil(MIB) * MIB
}

/// One part a chunk completes: its number, and where its bytes come from — first the
/// bytes kept from earlier chunks (`from_tail`), then `chunk` (a range of this chunk).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedPart {
    /// The part's number (1-based, as S3 numbers them).
    pub number: u64,
    /// How many bytes of the kept tail open the part.
    pub from_tail: u64,
    /// The range of this chunk's bytes that follow.
    pub chunk: std::ops::Range<u64>,
}

/// Where a chunk's bytes go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkPlan {
    /// The parts it completes, in order (every one `part_size` bytes, but the upload's
    /// last part).
    pub parts: Vec<PlannedPart>,
    /// The range of this chunk kept as the new tail (with the old tail before it when no
    /// part was completed): bytes of a part not full yet, stored until the next chunk.
    pub keep: std::ops::Range<u64>,
    /// Whether the old tail stays at the start of the new one (no part took it).
    pub keep_old_tail: bool,
}

/// Cuts a chunk of `chunk_len` bytes arriving at `offset` (the tail of `tail` bytes
/// before it is the start of the part being filled: `offset - tail` is a part boundary)
/// into whole parts of `part_size`, the upload of `length` bytes ending in a shorter
/// last part.
pub fn plan_chunk(offset: u64, tail: u64, chunk_len: u64, part_size: u64, length: u64) -> ChunkPlan {
    debug_assert!(part_size > 0 && tail < part_size && (offset - tail).is_multiple_of(part_size));
    let end = offset + chunk_len;
    let mut parts = Vec::new();
    let mut part_start = offset - tail;
    let mut used = 0; // bytes of the chunk placed in parts
    let mut tail_left = tail;
    loop {
        let part_end = (part_start + part_size).min(length);
        if part_end > end || part_end == part_start {
            break;
        }
        let from_tail = tail_left;
        let take = part_end - part_start - from_tail;
        parts.push(PlannedPart {
            number: part_start / part_size + 1,
            from_tail,
            chunk: used..used + take,
        });
        used += take;
        tail_left = 0;
        part_start = part_end;
        if part_end == length {
            break;
        }
    }
    ChunkPlan {
        keep_old_tail: parts.is_empty() && tail > 0,
        parts,
        keep: used..chunk_len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn metadata_is_decoded_and_bad_metadata_named() {
        let map = parse_metadata(Some("collection cG9zdHM=,field Y292ZXI=, empty")).unwrap();
        assert_eq!(map["collection"], "posts");
        assert_eq!(map["field"], "cover");
        assert_eq!(map["empty"], "");
        for (bad, names) in [
            ("a Zm9v,a YmFy", "twice"),
            ("a !!!", "not base64"),
            ("a /w==", "not UTF-8"),
            ("a Zm9v extra", "more than"),
        ] {
            let error = parse_metadata(Some(bad)).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST);
            assert!(error.message.contains(names), "{bad}: {error}");
        }
    }

    #[test]
    fn a_creation_needs_the_version_and_a_length_within_the_limit() {
        let ok = creation(&headers(&[("tus-resumable", "1.0.0"), ("upload-length", "10")]), 100).unwrap();
        assert_eq!((ok.length, ok.with_upload), (10, false));
        let with = creation(
            &headers(&[
                ("tus-resumable", "1.0.0"),
                ("upload-length", "10"),
                ("content-type", CHUNK_CONTENT_TYPE),
            ]),
            100,
        )
        .unwrap();
        assert!(with.with_upload);
        let status = |pairs: &[(&'static str, &str)]| creation(&headers(pairs), 100).unwrap_err().status;
        assert_eq!(status(&[("upload-length", "10")]), StatusCode::PRECONDITION_FAILED);
        assert_eq!(
            status(&[("tus-resumable", "0.2.2"), ("upload-length", "10")]),
            StatusCode::PRECONDITION_FAILED
        );
        assert_eq!(status(&[("tus-resumable", "1.0.0")]), StatusCode::BAD_REQUEST);
        assert_eq!(
            status(&[("tus-resumable", "1.0.0"), ("upload-length", "-1")]),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(&[("tus-resumable", "1.0.0"), ("upload-length", "101")]),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            status(&[("tus-resumable", "1.0.0"), ("upload-defer-length", "1")]),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn a_chunk_must_continue_where_the_upload_stands() {
        let chunk_at = |offset: &str, size: &str| {
            chunk(
                &headers(&[
                    ("tus-resumable", "1.0.0"),
                    ("content-type", CHUNK_CONTENT_TYPE),
                    ("upload-offset", offset),
                    ("content-length", size),
                ]),
                40,
                100,
            )
        };
        assert_eq!(chunk_at("40", "60"), Ok(40));
        let conflict = chunk_at("30", "10").unwrap_err();
        assert_eq!(conflict.status, StatusCode::CONFLICT);
        assert!(conflict.message.contains("resume from 40"));
        assert_eq!(chunk_at("40", "61").unwrap_err().status, StatusCode::PAYLOAD_TOO_LARGE);
        let wrong_type = chunk(
            &headers(&[
                ("tus-resumable", "1.0.0"),
                ("content-type", "application/octet-stream"),
                ("upload-offset", "40"),
            ]),
            40,
            100,
        );
        assert_eq!(wrong_type.unwrap_err().status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn part_sizes_fit_ten_thousand_parts_in_whole_mebibytes() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(part_size(300 * MIB, 8 * MIB, 10_000), 8 * MIB);
        assert_eq!(part_size(10, 1, 10_000), 5 * MIB);
        let huge = 200 * 1024 * MIB * 1024; // 200 TiB
        let size = part_size(huge, 8 * MIB, 10_000);
        assert!(size.is_multiple_of(MIB) && huge.div_ceil(size) <= 10_000);
    }

    /// Any sequence of chunk sizes cuts the upload into the same parts: every one
    /// `part_size` bytes but the last, each byte in exactly one part, in order.
    #[test]
    fn any_chunking_gives_equal_parts_and_every_byte_once() {
        let part = 10;
        for length in [0u64, 1, 9, 10, 11, 35, 40] {
            for chunks in [
                vec![1u64; 40],
                vec![3; 14],
                vec![10; 4],
                vec![25, 25],
                vec![7, 13, 2, 40],
                vec![40],
            ] {
                let mut offset = 0;
                let mut tail: Vec<u64> = Vec::new(); // byte positions kept
                let mut parts: Vec<(u64, Vec<u64>)> = Vec::new();
                for size in chunks {
                    let size = size.min(length - offset);
                    if size == 0 && length > 0 {
                        break;
                    }
                    let plan = plan_chunk(offset, tail.len() as u64, size, part, length);
                    let bytes: Vec<u64> = (offset..offset + size).collect();
                    for planned in &plan.parts {
                        let mut content: Vec<u64> = tail.drain(..planned.from_tail as usize).collect();
                        content.extend(&bytes[planned.chunk.start as usize..planned.chunk.end as usize]);
                        parts.push((planned.number, content));
                    }
                    if !plan.keep_old_tail {
                        tail.clear();
                    }
                    tail.extend(&bytes[plan.keep.start as usize..plan.keep.end as usize]);
                    offset += size;
                    if offset == length {
                        break;
                    }
                }
                let all: Vec<u64> = parts.iter().flat_map(|(_, c)| c.clone()).collect();
                assert_eq!(all, (0..length).collect::<Vec<_>>(), "length {length}");
                assert!(tail.is_empty(), "length {length}: bytes left over");
                for (i, (number, content)) in parts.iter().enumerate() {
                    assert_eq!(*number, i as u64 + 1);
                    if i + 1 < parts.len() {
                        assert_eq!(content.len() as u64, part, "length {length}: part {number}");
                    }
                }
            }
        }
    }
}
