//! `Range` headers read as Go's `net/http` reads them — PocketBase serves files with
//! `http.ServeContent` — and the `multipart/byteranges` answer to several ranges.

use crate::s3::actions::ByteRange;
use crate::transport::Body;

/// More ranges than this in one request are ignored and the whole file is sent, as
/// RFC 9110 §14.2 allows: each range costs one storage read.
pub const MAX_RANGES: usize = 16;

/// What a request's `Range` header asks for, before the file's size is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// No `Range` header: the whole file.
    Whole,
    /// One range.
    One(ByteRange),
    /// Several ranges, in the order asked.
    Many(Vec<ByteRange>),
    /// A header Go refuses with 416 "invalid range" (not `bytes=`, a reversed range,
    /// a number that is not one).
    Invalid,
}

/// Reads a `Range` header. Empty elements are skipped (`bytes=0-1,`), as Go does.
pub fn parse(value: Option<&str>) -> RangeRequest {
    let Some(value) = value else {
        return RangeRequest::Whole;
    };
    if value.is_empty() {
        return RangeRequest::Whole;
    }
    let Some(specs) = value.strip_prefix("bytes=") else {
        return RangeRequest::Invalid;
    };
    let mut ranges = Vec::new();
    for spec in specs.split(',') {
        let spec = spec.trim_matches([' ', '\t']);
        if spec.is_empty() {
            continue;
        }
        match parse_one(spec) {
            Some(range) => ranges.push(range),
            None => return RangeRequest::Invalid,
        }
    }
    match ranges.len() {
        0 => RangeRequest::Invalid,
        1 => RangeRequest::One(ranges[0]),
        _ => RangeRequest::Many(ranges),
    }
}

fn parse_one(spec: &str) -> Option<ByteRange> {
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim_matches([' ', '\t']), last.trim_matches([' ', '\t']));
    // Digits only: Go's ParseInt would take a sign, but then refuses a negative.
    let number = |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u64>().ok())?;
    match (first.is_empty(), last.is_empty()) {
        (true, false) => number(last).map(ByteRange::Suffix),
        (false, true) => number(first).map(ByteRange::From),
        (false, false) => {
            let (first, last) = (number(first)?, number(last)?);
            (first <= last).then_some(ByteRange::Inclusive(first, last))
        }
        (true, true) => None,
    }
}

/// Several ranges against a file of `size` bytes, as Go's `ServeContent` decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// The ranges add up to more than the file (an attack or a confused client): the
    /// whole file, 200.
    Whole,
    /// Only one range overlaps the file.
    One(ByteRange),
    /// The inclusive `(first, last)` byte positions of each range that overlaps.
    Many(Vec<(u64, u64)>),
    /// No range overlaps the file: 416.
    NoOverlap,
}

/// Resolves ranges against the file's size: ranges starting past the end are dropped
/// (416 when none is left), ends past the end are cut to it.
pub fn resolve(ranges: &[ByteRange], size: u64) -> Resolved {
    if ranges.len() > MAX_RANGES {
        return Resolved::Whole;
    }
    let mut positions = Vec::new();
    for range in ranges {
        let (first, last) = match *range {
            // `bytes=-0` is an empty range at the end, as in Go.
            ByteRange::Suffix(length) => (size - length.min(size), size),
            ByteRange::From(first) if first < size => (first, size),
            ByteRange::Inclusive(first, last) if first < size => (first, last.min(size - 1) + 1),
            _ => continue,
        };
        // Half-open here; inclusive below, where an empty range cannot be written.
        positions.push((first, last));
    }
    if positions.is_empty() {
        return Resolved::NoOverlap;
    }
    let total: u64 = positions.iter().map(|(first, end)| end - first).sum();
    if total > size {
        return Resolved::Whole;
    }
    if positions.len() == 1 {
        let (first, end) = positions[0];
        return Resolved::One(if end > first {
            ByteRange::Inclusive(first, end - 1)
        } else {
            ByteRange::Suffix(0)
        });
    }
    Resolved::Many(
        positions
            .into_iter()
            .filter(|(first, end)| end > first)
            .map(|(first, end)| (first, end - 1))
            .collect(),
    )
}

/// A random boundary of 60 hexadecimal digits, as Go's `multipart.Writer` makes.
pub fn boundary() -> String {
    crate::random::string(60, b"0123456789abcdef")
}

/// The `multipart/byteranges` body: each range's part header, then its bytes.
/// `parts` are the ranges' bodies, in the order of `ranges`.
pub fn multipart_body(boundary: &str, content_type: &str, size: u64, ranges: &[(u64, u64)], parts: Vec<Body>) -> Body {
    let mut pieces = Vec::with_capacity(parts.len() * 2 + 1);
    for (index, ((first, last), part)) in ranges.iter().zip(parts).enumerate() {
        pieces.push(Body::from(part_header(
            index,
            boundary,
            content_type,
            size,
            *first,
            *last,
        )));
        pieces.push(part);
    }
    pieces.push(Body::from(format!("\r\n--{boundary}--\r\n")));
    Body::concat(pieces)
}

fn part_header(index: usize, boundary: &str, content_type: &str, size: u64, first: u64, last: u64) -> String {
    // Go's multipart.Writer: a CRLF before every boundary but the first, headers sorted.
    let lead = if index == 0 { "" } else { "\r\n" };
    format!("{lead}--{boundary}\r\nContent-Range: bytes {first}-{last}/{size}\r\nContent-Type: {content_type}\r\n\r\n")
}

/// The length of [`multipart_body`], for `Content-Length`.
pub fn multipart_length(boundary: &str, content_type: &str, size: u64, ranges: &[(u64, u64)]) -> u64 {
    let headers: u64 = ranges
        .iter()
        .enumerate()
        .map(|(index, &(first, last))| {
            part_header(index, boundary, content_type, size, first, last).len() as u64 + (last - first + 1)
        })
        .sum();
    headers + format!("\r\n--{boundary}--\r\n").len() as u64
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use ByteRange::*;

    #[test]
    fn headers_read_as_go_reads_them() {
        assert_eq!(parse(None), RangeRequest::Whole);
        assert_eq!(parse(Some("bytes=0-9")), RangeRequest::One(Inclusive(0, 9)));
        assert_eq!(parse(Some("bytes=-5")), RangeRequest::One(Suffix(5)));
        assert_eq!(parse(Some("bytes=10-")), RangeRequest::One(From(10)));
        assert_eq!(parse(Some("bytes= 0-1 ,")), RangeRequest::One(Inclusive(0, 1)));
        assert_eq!(
            parse(Some("bytes=0-1,4-5")),
            RangeRequest::Many(vec![Inclusive(0, 1), Inclusive(4, 5)])
        );
        for invalid in [
            "bytes=9-0",
            "items=0-9",
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=0-1,x",
        ] {
            assert_eq!(parse(Some(invalid)), RangeRequest::Invalid, "{invalid}");
        }
    }

    #[test]
    fn ranges_resolve_against_the_size() {
        assert_eq!(
            resolve(&[Inclusive(0, 1), Inclusive(4, 5)], 10),
            Resolved::Many(vec![(0, 1), (4, 5)])
        );
        assert_eq!(
            resolve(&[Inclusive(4, 5), Suffix(2)], 10),
            Resolved::Many(vec![(4, 5), (8, 9)])
        );
        assert_eq!(
            resolve(&[Inclusive(0, 1), From(50)], 10),
            Resolved::One(Inclusive(0, 1))
        );
        assert_eq!(resolve(&[From(10), From(20)], 10), Resolved::NoOverlap);
        assert_eq!(resolve(&[From(0), From(1)], 10), Resolved::Whole);
        assert_eq!(resolve(&[Inclusive(0, 0); MAX_RANGES + 1], 100), Resolved::Whole);
    }

    #[test]
    fn the_multipart_length_is_the_body_length() {
        let ranges = [(0, 1), (4, 5)];
        let parts = vec![Body::from("ab"), Body::from("ef")];
        let body = multipart_body("b0und", "image/png", 10, &ranges, parts);
        let bytes = futures::executor::block_on(body.collect(1 << 20)).unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            "--b0und\r\nContent-Range: bytes 0-1/10\r\nContent-Type: image/png\r\n\r\nab\
             \r\n--b0und\r\nContent-Range: bytes 4-5/10\r\nContent-Type: image/png\r\n\r\nef\
             \r\n--b0und--\r\n"
        );
        assert_eq!(multipart_length("b0und", "image/png", 10, &ranges), bytes.len() as u64);
    }
}
