//! The HTTP answer to a file download, with PocketBase's headers and edgefs's additions
//! (ETag, and protected files kept out of shared caches).

use super::ranges::{self, RangeRequest, Resolved};
use crate::storage::{Attributes, GetOptions, GetOutcome, Storage};
use crate::transport::Body;
use crate::Error;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

/// Image, video, audio and PDF types PocketBase serves inline; everything else is an
/// attachment, so an uploaded HTML or SVG file can never run in the API's origin.
const INLINE_CONTENT_TYPES: &[&str] = &[
    "image/png",
    "image/jpg",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/x-icon",
    "image/bmp",
    "video/webm",
    "video/mp4",
    "video/3gpp",
    "video/quicktime",
    "video/x-ms-wmv",
    "audio/basic",
    "audio/aiff",
    "audio/mpeg",
    "audio/midi",
    "audio/mp3",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/x-mpeg",
    "audio/x-m4a",
    "audio/aac",
    "application/pdf",
    "application/x-pdf",
];

/// Content types that sniffing gets wrong, corrected by the file's extension.
fn content_type_by_extension(filename: &str) -> Option<&'static str> {
    let extension = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match extension.as_str() {
        "svg" => "image/svg+xml",
        "css" => "text/css",
        "js" | "mjs" => "text/javascript",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => return None,
    })
}

pub const PUBLIC_CACHE_CONTROL: &str = "max-age=2592000, stale-while-revalidate=86400";
/// Protected files are fetched with a personal token: no shared cache may keep them.
pub const PROTECTED_CACHE_CONTROL: &str = "private, no-store";
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/// How to serve one stored file.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServeOptions<'a> {
    /// The stored file name, for `Content-Disposition` and the extension fix-ups.
    pub filename: &'a str,
    /// `?download=1`: always an attachment.
    pub download: bool,
    /// A protected file: `Cache-Control: private, no-store`.
    pub protected: bool,
    /// A HEAD request: headers only.
    pub head: bool,
}

/// The storage read a download asks for: its `Range`, `If-None-Match` and
/// `If-Modified-Since` headers.
pub fn get_options(headers: &HeaderMap) -> GetOptions {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    GetOptions {
        range: match super::ranges::parse(text(header::RANGE)) {
            RangeRequest::One(range) => Some(range),
            _ => None,
        },
        if_none_match: text(header::IF_NONE_MATCH).map(str::to_owned),
        if_modified_since: text(header::IF_MODIFIED_SINCE).and_then(crate::clock::parse_http_date),
    }
}

/// `attachment; filename="name"` (RFC 6266), with `filename*` (RFC 5987) for names
/// that are not plain ASCII.
pub fn content_disposition(disposition: &str, filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let mut value = format!("{disposition}; filename=\"{ascii}\"");
    if !filename.bytes().all(|b| b.is_ascii_graphic() || b == b' ') || filename.contains(['"', '\\']) {
        let mut encoded = String::new();
        crate::sigv4::encode(filename, crate::sigv4::URI_COMPONENT, &mut encoded);
        value.push_str(&format!("; filename*=UTF-8''{encoded}"));
    }
    value
}

fn insert(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn validators(headers: &mut HeaderMap, attributes: &Attributes, options: &ServeOptions<'_>) {
    if let Some(etag) = &attributes.etag {
        insert(headers, header::ETAG, etag);
    }
    if let Some(modified) = attributes.modified {
        insert(headers, header::LAST_MODIFIED, &crate::clock::http_date(modified));
    }
    let cache = if options.protected {
        PROTECTED_CACHE_CONTROL
    } else {
        PUBLIC_CACHE_CONTROL
    };
    insert(headers, header::CACHE_CONTROL, cache);
}

/// Go's text for a 416 whose ranges all start past the end, which PocketBase sends.
const RANGE_NOT_SATISFIABLE_BODY: &str = "invalid range: failed to overlap\n";
/// Go's text for a 416 to a `Range` header it cannot read.
const INVALID_RANGE_BODY: &str = "invalid range\n";

/// The headers every answer about a file has (disposition, CSP, nosniff); answers the
/// content type to serve it with (corrected by extension for the types browsers guess).
fn file_headers(headers: &mut HeaderMap, stored_type: Option<String>, options: &ServeOptions<'_>) -> String {
    // Without a stored type (S3 sends none with a 304), the name's extension stands in
    // for it: every stored name got its extension from the sniffed type.
    let real = stored_type
        .or_else(|| {
            let extension = options.filename.rfind('.').map(|at| &options.filename[at..])?;
            INLINE_CONTENT_TYPES
                .iter()
                .find(|t| super::extension_for(t).is_some_and(|e| e.eq_ignore_ascii_case(extension)))
                .map(|t| (*t).to_owned())
        })
        .unwrap_or_else(|| "application/octet-stream".into());
    let essence = real.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let disposition = if !options.download && INLINE_CONTENT_TYPES.contains(&essence.as_str()) {
        "inline"
    } else {
        "attachment"
    };
    insert(
        headers,
        header::CONTENT_DISPOSITION,
        &content_disposition(disposition, options.filename),
    );
    insert(headers, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    insert(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    content_type_by_extension(options.filename)
        .map(str::to_owned)
        .unwrap_or(real)
}

/// A 416 as PocketBase (Go's ServeContent) answers it: the file's disposition and CSP,
/// then a short text body instead of the file; `Content-Range` when the size decided.
fn unsatisfiable(size: Option<u64>, content_type: Option<String>, options: &ServeOptions<'_>) -> Response<Body> {
    let mut headers = HeaderMap::new();
    file_headers(&mut headers, content_type, options);
    insert(&mut headers, header::CONTENT_TYPE, "text/plain; charset=utf-8");
    let text = match size {
        Some(size) => {
            insert(&mut headers, header::CONTENT_RANGE, &format!("bytes */{size}"));
            RANGE_NOT_SATISFIABLE_BODY
        }
        None => INVALID_RANGE_BODY,
    };
    insert(&mut headers, header::CONTENT_LENGTH, &text.len().to_string());
    let mut response = Response::new(if options.head { Body::empty() } else { Body::from(text) });
    *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
    *response.headers_mut() = headers;
    response
}

/// The one read that answers the request when it is a single read — the whole file or
/// one range, as [`respond`] makes it — so that a caller may start it early (beside the
/// record's read) and [`serve`] its outcome; `None` for several ranges or an invalid
/// `Range`, which [`respond`] answers in steps.
pub fn single_read(request_headers: &HeaderMap) -> Option<GetOptions> {
    let range = request_headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    match ranges::parse(range) {
        RangeRequest::Whole | RangeRequest::One(_) => Some(get_options(request_headers)),
        RangeRequest::Invalid | RangeRequest::Many(_) => None,
    }
}

/// Reads the file at `key` for a download with these request headers and answers it.
/// One storage read, except for a header Go refuses or several ranges: then the size
/// comes first (a look at the attributes), and each range is a read of its own, handed
/// on as the backend streams it. A missing object is `None`.
pub async fn respond(
    storage: &dyn Storage,
    key: &str,
    request_headers: &HeaderMap,
    options: &ServeOptions<'_>,
) -> Result<Option<Response<Body>>, Error> {
    let mut read = get_options(request_headers);
    let ranges = match ranges::parse(request_headers.get(header::RANGE).and_then(|v| v.to_str().ok())) {
        RangeRequest::Whole | RangeRequest::One(_) => return Ok(serve(storage.get(key, &read).await?, options)),
        RangeRequest::Invalid => None,
        RangeRequest::Many(ranges) => Some(ranges),
    };
    let Some(attributes) = storage.attributes(key).await? else {
        return Ok(None);
    };
    // Go checks the conditions before it reads the range.
    if crate::storage::not_modified(&attributes, &read) {
        return Ok(serve(GetOutcome::NotModified(attributes), options));
    }
    let Some(ranges) = ranges else {
        return Ok(Some(unsatisfiable(None, attributes.content_type, options)));
    };
    let positions = match ranges::resolve(&ranges, attributes.size) {
        Resolved::NoOverlap => {
            return Ok(Some(unsatisfiable(
                Some(attributes.size),
                attributes.content_type,
                options,
            )))
        }
        Resolved::Whole => return Ok(serve(storage.get(key, &read).await?, options)),
        Resolved::One(range) => {
            read.range = Some(range);
            return Ok(serve(storage.get(key, &read).await?, options));
        }
        Resolved::Many(positions) => positions,
    };
    let mut headers = HeaderMap::new();
    let content_type = file_headers(&mut headers, attributes.content_type.clone(), options);
    validators(&mut headers, &attributes, options);
    insert(&mut headers, header::ACCEPT_RANGES, "bytes");
    insert(&mut headers, header::CONTENT_ENCODING, "identity");
    let boundary = ranges::boundary();
    insert(
        &mut headers,
        header::CONTENT_TYPE,
        &format!("multipart/byteranges; boundary={boundary}"),
    );
    let length = ranges::multipart_length(&boundary, &content_type, attributes.size, &positions);
    insert(&mut headers, header::CONTENT_LENGTH, &length.to_string());
    let body = if options.head {
        Body::empty()
    } else {
        // The reads start together; their bodies are read one after the other.
        let reads = positions.iter().map(|&(first, last)| {
            let options = GetOptions {
                range: Some(crate::s3::actions::ByteRange::Inclusive(first, last)),
                ..GetOptions::default()
            };
            async move {
                match storage.get(key, &options).await? {
                    GetOutcome::Found(object) if object.body.len().is_none_or(|n| n == last - first + 1) => {
                        Ok(object.body)
                    }
                    _ => Err(Error::backend(
                        storage.name(),
                        format!(
                            "the range {first}-{last} of {key} could not be read",
                            key = crate::error::Quoted(key)
                        ),
                    )),
                }
            }
        });
        let parts = futures::future::try_join_all(reads).await?;
        ranges::multipart_body(&boundary, &content_type, attributes.size, &positions, parts)
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    *response.headers_mut() = headers;
    Ok(Some(response))
}

/// The answer for a storage read. A missing object is `None`: the caller answers it
/// like every other denial.
pub fn serve(outcome: GetOutcome, options: &ServeOptions<'_>) -> Option<Response<Body>> {
    let mut status = StatusCode::OK;
    let mut headers = HeaderMap::new();
    let mut body = Body::empty();
    let headers = &mut headers;
    match outcome {
        GetOutcome::NotFound => return None,
        GetOutcome::NotModified(attributes) => {
            // PocketBase's 304 keeps the file's disposition and CSP (not its type).
            file_headers(headers, attributes.content_type.clone(), options);
            validators(headers, &attributes, options);
            status = StatusCode::NOT_MODIFIED;
        }
        GetOutcome::RangeNotSatisfiable { size, content_type } => {
            return Some(unsatisfiable(Some(size), content_type, options));
        }
        GetOutcome::Found(object) => {
            let attributes = &object.attributes;
            let content_type = file_headers(headers, attributes.content_type.clone(), options);
            insert(headers, header::CONTENT_TYPE, &content_type);
            insert(headers, header::ACCEPT_RANGES, "bytes");
            validators(headers, attributes, options);
            let length = match object.range {
                Some(range) => {
                    status = StatusCode::PARTIAL_CONTENT;
                    let total = range.total.unwrap_or(attributes.size);
                    insert(
                        headers,
                        header::CONTENT_RANGE,
                        &format!("bytes {}-{}/{total}", range.first, range.last),
                    );
                    range.last - range.first + 1
                }
                None => attributes.size,
            };
            insert(headers, header::CONTENT_LENGTH, &length.to_string());
            // Served as stored, as PocketBase serves it: without this, workerd (and
            // Cloudflare's edge) gzip a text type for a client that accepts gzip, which
            // drops Content-Length (a download's progress) and sends it chunked.
            insert(headers, header::CONTENT_ENCODING, "identity");
            if !options.head {
                body = object.body;
            }
        }
    }
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = std::mem::take(headers);
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::actions::ContentRange;
    use crate::storage::Object;

    fn object(content_type: &str, range: Option<ContentRange>) -> GetOutcome {
        GetOutcome::Found(Object {
            attributes: Attributes {
                size: 100,
                content_type: Some(content_type.into()),
                etag: Some("\"e\"".into()),
                modified: crate::clock::parse_iso8601("2024-05-01T10:00:00Z"),
                metadata: Default::default(),
            },
            range,
            body: Body::from(vec![0u8; 100]),
        })
    }

    fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
        response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[test]
    fn images_inline_html_attachment() {
        let options = ServeOptions {
            filename: "cat_abc.png",
            ..Default::default()
        };
        let response = serve(object("image/png", None), &options).unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "content-disposition"),
            "inline; filename=\"cat_abc.png\""
        );
        assert_eq!(header(&response, "cache-control"), PUBLIC_CACHE_CONTROL);
        assert_eq!(header(&response, "content-security-policy"), CONTENT_SECURITY_POLICY);
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "etag"), "\"e\"");
        assert_eq!(header(&response, "last-modified"), "Wed, 01 May 2024 10:00:00 GMT");
        assert_eq!(header(&response, "content-length"), "100");
        let html = serve(
            object("text/html", None),
            &ServeOptions {
                filename: "page.html",
                ..Default::default()
            },
        )
        .unwrap();
        assert!(header(&html, "content-disposition").starts_with("attachment"));
        let download = ServeOptions {
            filename: "cat.png",
            download: true,
            ..Default::default()
        };
        assert!(header(
            &serve(object("image/png", None), &download).unwrap(),
            "content-disposition"
        )
        .starts_with("attachment"));
        let svg = serve(
            object("text/plain", None),
            &ServeOptions {
                filename: "logo.svg",
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(header(&svg, "content-type"), "image/svg+xml");
        assert!(header(&svg, "content-disposition").starts_with("attachment"));
    }

    #[test]
    fn ranges_and_conditions() {
        let options = ServeOptions {
            filename: "a.bin",
            protected: true,
            ..Default::default()
        };
        let partial = serve(
            object(
                "application/octet-stream",
                Some(ContentRange {
                    first: 0,
                    last: 9,
                    total: Some(100),
                }),
            ),
            &options,
        )
        .unwrap();
        assert_eq!(partial.status(), 206);
        assert_eq!(header(&partial, "content-range"), "bytes 0-9/100");
        assert_eq!(header(&partial, "content-length"), "10");
        assert_eq!(header(&partial, "cache-control"), PROTECTED_CACHE_CONTROL);
        let unsatisfiable = serve(
            GetOutcome::RangeNotSatisfiable {
                size: 100,
                content_type: Some("image/png".into()),
            },
            &ServeOptions {
                filename: "cat_abc.png",
                ..options
            },
        )
        .unwrap();
        assert_eq!(
            (unsatisfiable.status().as_u16(), header(&unsatisfiable, "content-range")),
            (416, "bytes */100")
        );
        // PocketBase's 416: Go's text body, with the file's disposition and CSP.
        assert_eq!(header(&unsatisfiable, "content-type"), "text/plain; charset=utf-8");
        assert_eq!(header(&unsatisfiable, "content-length"), "33");
        assert_eq!(
            header(&unsatisfiable, "content-disposition"),
            "inline; filename=\"cat_abc.png\""
        );
        assert_eq!(
            header(&unsatisfiable, "content-security-policy"),
            CONTENT_SECURITY_POLICY
        );
        assert_eq!(header(&unsatisfiable, "accept-ranges"), "");
        let not_modified = serve(
            GetOutcome::NotModified(Attributes {
                etag: Some("\"e\"".into()),
                ..Default::default()
            }),
            &options,
        )
        .unwrap();
        assert_eq!(not_modified.status(), 304);
        assert!(serve(GetOutcome::NotFound, &options).is_none());
    }

    #[test]
    fn dispositions_encode_names() {
        assert_eq!(
            content_disposition("attachment", "a b.txt"),
            "attachment; filename=\"a b.txt\""
        );
        assert_eq!(
            content_disposition("inline", "naïve \"q\".png"),
            "inline; filename=\"na_ve \\\"q\\\".png\"; filename*=UTF-8''na%C3%AFve%20%22q%22.png"
        );
    }
}
