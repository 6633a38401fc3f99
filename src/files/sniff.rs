//! Content types from the bytes themselves (validation by content, as PocketBase does),
//! with text formats recognised by their opening.

/// The content type of a file whose first bytes are `head` (512 are plenty).
pub fn content_type_for(head: &[u8]) -> String {
    // Binary formats by their magic numbers; text formats (HTML, XML, SVG…) below.
    if let Some(kind) = infer::get(head).filter(|k| k.matcher_type() != infer::MatcherType::Text) {
        return kind.mime_type().to_owned();
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // A multi-byte character cut at the end of the sample is still text.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
        Err(_) => return "application/octet-stream".into(),
    };
    if head.contains(&0) {
        return "application/octet-stream".into();
    }
    let start = text.trim_start_matches('\u{feff}').trim_start().to_ascii_lowercase();
    if start.starts_with("<svg") || (start.starts_with("<?xml") && start.contains("<svg")) {
        "image/svg+xml".into()
    } else if start.starts_with("<!doctype html")
        || start.starts_with("<html")
        || start.starts_with("<head")
        || start.starts_with("<body")
    {
        "text/html; charset=utf-8".into()
    } else if start.starts_with("<?xml") {
        "text/xml; charset=utf-8".into()
    } else if (start.starts_with('{') || start.starts_with('['))
        && serde_json::from_str::<serde_json::Value>(text.trim()).is_ok()
    {
        "application/json".into()
    } else {
        "text/plain; charset=utf-8".into()
    }
}

/// The usual extension (with its dot) of a content type, for files uploaded without one.
pub fn extension_for(content_type: &str) -> Option<&'static str> {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    Some(match essence {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "image/svg+xml" => ".svg",
        "image/bmp" => ".bmp",
        "image/x-icon" | "image/vnd.microsoft.icon" => ".ico",
        "application/pdf" => ".pdf",
        "application/zip" => ".zip",
        "application/gzip" => ".gz",
        "application/json" => ".json",
        "text/plain" => ".txt",
        "text/html" => ".html",
        "text/xml" => ".xml",
        "video/mp4" => ".mp4",
        "video/webm" => ".webm",
        "audio/mpeg" => ".mp3",
        "audio/x-wav" | "audio/wav" => ".wav",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content_not_by_name() {
        assert_eq!(content_type_for(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(content_type_for(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(content_type_for(b"\xff\xd8\xff\xe0\0\x10JFIF"), "image/jpeg");
        assert_eq!(content_type_for(b"hello world"), "text/plain; charset=utf-8");
        assert_eq!(content_type_for(b"<!DOCTYPE html><html>"), "text/html; charset=utf-8");
        assert_eq!(
            content_type_for(b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\">"),
            "image/svg+xml"
        );
        assert_eq!(content_type_for(b"{\"a\": 1}"), "application/json");
        assert_eq!(content_type_for(b"\x00\x01\x02binary"), "application/octet-stream");
        assert_eq!(
            content_type_for("é".as_bytes().split_at(1).0),
            "text/plain; charset=utf-8"
        );
        assert_eq!(extension_for("image/png"), Some(".png"));
    }
}
