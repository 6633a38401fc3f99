//! Request bodies of the records API: JSON, or `multipart/form-data` with files.
//!
//! A form is parsed by the platform ([`Platform::read_form`](super::Platform)): the
//! Worker hands the body to the runtime's own `formData()`, so uploaded files stay
//! JavaScript `Blob`s and stream to the backend without entering wasm memory; native
//! hosts parse with `multer`. Either way the API sees a [`Form`]: the text fields, and
//! per file its name, size, first bytes (for content sniffing) and a [`Body`].

use crate::transport::Body;
use serde_json::{Map, Value};

/// How many leading bytes of a file are read for content sniffing.
pub const SNIFF_LENGTH: usize = 512;

/// A parsed `multipart/form-data` body.
#[derive(Debug, Default)]
pub struct Form {
    /// Text fields in order; a name may repeat.
    pub fields: Vec<(String, String)>,
    /// The uploaded files, in order.
    pub files: Vec<FormFile>,
}

/// One uploaded file.
#[derive(Debug)]
pub struct FormFile {
    /// The form field it was sent under (`cover`, `files+`).
    pub field: String,
    /// The client's file name.
    pub filename: String,
    /// Its size in bytes.
    pub size: u64,
    /// The first [`SNIFF_LENGTH`] bytes (fewer for a smaller file).
    pub head: Vec<u8>,
    /// The whole file, `head` included, as a stream.
    pub body: Body,
}

impl Form {
    /// The text fields as a JSON object, as PocketBase reads a form: a `@jsonPayload`
    /// field holds JSON for the rest; a name given more than once becomes an array.
    pub fn to_json(&self) -> Result<Map<String, Value>, String> {
        let mut object = Map::new();
        for (name, value) in &self.fields {
            if name == "@jsonPayload" {
                match serde_json::from_str::<Value>(value) {
                    Ok(Value::Object(payload)) => object.extend(payload),
                    _ => return Err("@jsonPayload must be a JSON object".into()),
                }
                continue;
            }
            let value = Value::String(value.clone());
            match object.get_mut(name) {
                Some(Value::Array(items)) => items.push(value),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, value]);
                }
                None => {
                    object.insert(name.clone(), value);
                }
            }
        }
        Ok(object)
    }
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let essence = parts.next()?.trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts.find_map(|part| {
        let (name, value) = part.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

/// Parses a form natively with `multer`. File contents are held in memory (a native
/// host's forms are small; the Worker never takes this path).
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub async fn read_form_native(body: Body, content_type: &str, limit: u64) -> Result<Form, crate::Error> {
    use crate::Error;
    use futures::StreamExt;
    let boundary = multipart_boundary(content_type)
        .ok_or_else(|| Error::InvalidInput("the multipart form has no boundary".into()))?;
    let stream = body.into_stream();
    let constraints = multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit));
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut form = Form::default();
    let invalid = |e: multer::Error| match e {
        multer::Error::StreamSizeExceeded { limit } => Error::TooLarge(limit),
        e => Error::InvalidInput(format!("malformed multipart form: {e}")),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(invalid)? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(filename) => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.next().await {
                    bytes.extend_from_slice(&chunk.map_err(invalid)?);
                }
                form.files.push(FormFile {
                    field: name,
                    filename,
                    size: bytes.len() as u64,
                    head: bytes[..bytes.len().min(SNIFF_LENGTH)].to_vec(),
                    body: Body::from(bytes),
                });
            }
            None => {
                let text = field.text().await.map_err(invalid)?;
                form.fields.push((name, text));
            }
        }
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            multipart_boundary("Multipart/Form-Data;boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(multipart_boundary("multipart/form-data"), None);
        assert_eq!(multipart_boundary("application/json"), None);
    }

    #[test]
    fn fields_become_json_like_pocketbase_reads_them() {
        let form = Form {
            fields: vec![
                ("title".into(), "hi".into()),
                ("tags".into(), "a".into()),
                ("tags".into(), "b".into()),
                ("@jsonPayload".into(), r#"{"pages": 3}"#.into()),
            ],
            files: vec![],
        };
        let json = form.to_json().unwrap();
        assert_eq!(json["title"], "hi");
        assert_eq!(json["tags"], serde_json::json!(["a", "b"]));
        assert_eq!(json["pages"], 3);
        let bad = Form {
            fields: vec![("@jsonPayload".into(), "[1]".into())],
            files: vec![],
        };
        assert!(bad.to_json().is_err());
    }
}
