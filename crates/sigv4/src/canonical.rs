//! The canonical forms SigV4 signs: URI path, query string and headers.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::borrow::Cow;

/// Everything but SigV4's unreserved characters (`A-Z a-z 0-9 - . _ ~`) is encoded.
pub const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// The same, keeping `/` as a path separator.
pub const URI_PATH: &AsciiSet = &URI_COMPONENT.remove(b'/');

/// Encodes raw bytes (not necessarily UTF-8) with SigV4's rules.
pub fn encode_bytes(bytes: &[u8], set: &'static AsciiSet, out: &mut String) {
    out.extend(percent_encoding::percent_encode(bytes, set));
}

/// URI-encodes a string with SigV4's rules into `out`.
pub fn encode(text: &str, set: &'static AsciiSet, out: &mut String) {
    out.extend(utf8_percent_encode(text, set));
}

/// The canonical URI of a request path as sent.
///
/// * S3 rules (`double_encode == false`): the path's `%XX` sequences stand for their
///   octets; those octets are encoded once. A path that is already in canonical form
///   comes out unchanged.
/// * Generic rules: the path as sent (after optional dot-segment removal and slash
///   collapsing) is encoded once more, so `%2B` becomes `%252B`.
pub fn canonical_uri(path: &str, normalize: bool, double_encode: bool, out: &mut String) {
    let path = if path.is_empty() { "/" } else { path };
    let path: Cow<str> = if normalize {
        Cow::Owned(normalize_path(path))
    } else {
        Cow::Borrowed(path)
    };
    if double_encode {
        encode(&path, URI_PATH, out);
    } else if path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/'))
    {
        out.push_str(&path);
    } else {
        let octets: Cow<[u8]> = percent_decode_str(&path).into();
        encode_bytes(&octets, URI_PATH, out);
    }
}

/// Removes `.` and `..` segments and collapses runs of `/`, keeping a trailing slash.
pub fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if out.is_empty() || trailing {
        out.push('/');
    }
    out
}

/// Splits a raw query string into encoded (name, value) pairs: each part's `%XX`
/// sequences are decoded and the octets encoded again with SigV4's rules, so raw
/// UTF-8 and differently encoded input come out the same. `+` is a literal plus.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            (reencode(name), reencode(value))
        })
        .collect()
}

fn reencode(component: &str) -> String {
    let octets: Cow<[u8]> = percent_decode_str(component).into();
    let mut out = String::with_capacity(component.len());
    encode_bytes(&octets, URI_COMPONENT, &mut out);
    out
}

/// Writes `name=value&…` sorted by encoded name, then value.
pub fn write_query(pairs: &mut Vec<(String, String)>, out: &mut String) {
    crate::sorting::sort_by(pairs, |a, b| a.cmp(b));
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
}

/// A header value as SigV4 signs it: trimmed, with every run of whitespace inside
/// collapsed to one space.
pub fn push_header_value(value: &str, out: &mut String) {
    let bytes = value.as_bytes();
    let mut i = 0;
    let mut first = true;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if start < i {
            if !first {
                out.push(' ');
            }
            out.push_str(&value[start..i]);
            first = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths_like_the_generic_rules() {
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/example1/example2/../.."), "/");
        assert_eq!(normalize_path("/./"), "/");
        assert_eq!(normalize_path("/a/./b/../c"), "/a/c");
        assert_eq!(normalize_path(""), "/");
    }

    #[test]
    fn s3_path_is_encoded_once() {
        let mut out = String::new();
        canonical_uri("/a%2Bb/c d/é", false, false, &mut out);
        assert_eq!(out, "/a%2Bb/c%20d/%C3%A9");
        out.clear();
        canonical_uri("/a%2Bb", false, true, &mut out);
        assert_eq!(out, "/a%252Bb");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        let mut out = String::new();
        push_header_value("  \"a   b \t c\"  ", &mut out);
        assert_eq!(out, "\"a b c\"");
    }

    #[test]
    fn query_is_reencoded_and_sorted() {
        let mut pairs = query_pairs("b=2&a=x%2By&a=+&%E1%88%B4=1&flag");
        let mut out = String::new();
        write_query(&mut pairs, &mut out);
        assert_eq!(out, "%E1%88%B4=1&a=%2B&a=x%2By&b=2&flag=");
    }
}
