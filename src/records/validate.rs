//! Field values from a request body, checked and normalized per field type with
//! PocketBase's validation codes (file fields are checked where uploads are handled).

use super::Record;
use crate::collections::{Collection, FieldKind};
use serde_json::{json, Map, Value};

/// The `data` of a validation error: each field's name with its [`FieldError`] as
/// JSON. (A JSON map rather than a `BTreeMap<String, FieldError>`: the Worker then
/// carries one map type less.)
pub type FieldErrors = Map<String, Value>;

/// `{"code": "validation_required", "message": "Cannot be blank."}`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// PocketBase's validation code (`validation_required`…).
    pub code: String,
    /// The message for people (`Cannot be blank.`).
    pub message: String,
    /// PocketBase's `params`: the values the message names (`{"maxSelect": 5}`).
    pub params: Option<Value>,
}

impl FieldError {
    /// An error with PocketBase's `code` and `message`.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        FieldError {
            code: code.to_owned(),
            message: message.into(),
            params: None,
        }
    }

    /// The same error with PocketBase's `params`.
    pub fn with_params(mut self, params: Value) -> Self {
        self.params = Some(params);
        self
    }
}

impl From<FieldError> for Value {
    fn from(error: FieldError) -> Value {
        let mut object = Map::new();
        object.insert("code".to_owned(), Value::String(error.code));
        object.insert("message".to_owned(), Value::String(error.message));
        if let Some(params) = error.params {
            object.insert("params".to_owned(), params);
        }
        Value::Object(object)
    }
}

/// PocketBase's default limit for text fields without `max`.
const DEFAULT_TEXT_MAX: u64 = 5000;

/// The record after applying `body` to `existing` (or to an empty record): every
/// non-file field of the collection, normalized to its type. Fields absent from the
/// body keep their existing value; unknown body keys are ignored.
pub fn normalize(
    collection: &Collection,
    body: &Map<String, Value>,
    existing: Option<&Record>,
) -> Result<Record, FieldErrors> {
    let mut record = existing.cloned().unwrap_or_default();
    let mut errors = FieldErrors::new();
    for field in &collection.fields {
        // Files are planned apart; autodates are the server's to set (records::stamp).
        if field.system || matches!(field.kind, FieldKind::File { .. } | FieldKind::Autodate { .. }) {
            continue;
        }
        let given = body.get(&field.name);
        let current = given
            .or_else(|| record.get(&field.name))
            .cloned()
            .unwrap_or(Value::Null);
        let result = match &field.kind {
            FieldKind::Text { min, max, .. } => text(&current, field.required, *min, *max),
            FieldKind::Number { min, max, only_int } => number(&current, field.required, *min, *max, *only_int),
            FieldKind::Bool => boolean(&current, field.required),
            FieldKind::Other(_) => Ok(current),
            FieldKind::File { .. } | FieldKind::Autodate { .. } => unreachable!("skipped above"),
        };
        match result {
            Ok(value) => {
                record.insert(field.name.clone(), value);
            }
            Err(error) => {
                errors.insert(field.name.clone(), error.into());
            }
        }
    }
    if errors.is_empty() {
        Ok(record)
    } else {
        Err(errors)
    }
}

fn required() -> FieldError {
    FieldError::new("validation_required", "Cannot be blank.")
}

fn text(value: &Value, is_required: bool, min: u64, max: u64) -> Result<Value, FieldError> {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Err(FieldError::new("validation_invalid_value", "Invalid value.")),
    };
    let length = text.chars().count() as u64;
    if length == 0 {
        return if is_required { Err(required()) } else { Ok(json!("")) };
    }
    if min > 0 && length < min {
        return Err(FieldError::new(
            "validation_min_text_constraint",
            format!("Must be at least {min} character(s)."),
        ));
    }
    let max = if max == 0 { DEFAULT_TEXT_MAX } else { max };
    if length > max {
        return Err(FieldError::new(
            "validation_max_text_constraint",
            format!("Must be no more than {max} character(s)."),
        ));
    }
    Ok(Value::String(text))
}

fn number(
    value: &Value,
    is_required: bool,
    min: Option<f64>,
    max: Option<f64>,
    only_int: bool,
) -> Result<Value, FieldError> {
    let n = match value {
        Value::Null => 0.0,
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) if s.trim().is_empty() => 0.0,
        Value::String(s) => crate::numbers::parse(s.trim()).ok_or_else(not_a_number)?,
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => return Err(not_a_number()),
    };
    if !n.is_finite() {
        return Err(not_a_number());
    }
    if n == 0.0 {
        return if is_required { Err(required()) } else { Ok(json!(0)) };
    }
    if only_int && n.fract() != 0.0 {
        return Err(FieldError::new(
            "validation_only_int_constraint",
            "Decimal numbers are not allowed",
        ));
    }
    if let Some(min) = min.filter(|min| n < *min) {
        return Err(FieldError::new(
            "validation_min_number_constraint",
            format!("Must be greater or equal than {}", crate::numbers::format(min)),
        ));
    }
    if let Some(max) = max.filter(|max| n > *max) {
        return Err(FieldError::new(
            "validation_max_number_constraint",
            format!("Must be less or equal than {}", crate::numbers::format(max)),
        ));
    }
    // Whole numbers as integers (`3`, not `3.0`), as PocketBase writes them.
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return Ok(json!(n as i64));
    }
    Ok(serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(json!(0)))
}

fn not_a_number() -> FieldError {
    FieldError::new(
        "validation_not_a_number",
        "The submitted number is not properly formatted",
    )
}

fn boolean(value: &Value, is_required: bool) -> Result<Value, FieldError> {
    let b = match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().unwrap_or(0.0) != 0.0,
        Value::String(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "on" | "t"),
        _ => return Err(FieldError::new("validation_invalid_value", "Invalid value.")),
    };
    if !b && is_required {
        return Err(required());
    }
    Ok(Value::Bool(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collections::{object, Collections};

    #[test]
    fn normalizes_and_validates_like_pocketbase() {
        let collections = Collections::defaults();
        let documents = collections.get("documents").unwrap();
        let record = normalize(
            documents,
            &object(json!({"name": "A", "owner": "u1", "pages": "12", "extra": 1})),
            None,
        )
        .unwrap();
        assert_eq!(record["pages"], json!(12));
        assert!(!record.contains_key("extra"), "unknown keys are ignored");

        let errors = normalize(documents, &object(json!({"pages": 1.5})), None).unwrap_err();
        assert_eq!(
            errors["name"],
            Value::from(FieldError::new("validation_required", "Cannot be blank."))
        );
        assert_eq!(errors["owner"]["code"], "validation_required");
        assert_eq!(errors["pages"]["code"], "validation_only_int_constraint");
        let errors = normalize(
            documents,
            &object(json!({"name": "A", "owner": "u", "pages": -1})),
            None,
        )
        .unwrap_err();
        assert_eq!(errors["pages"]["code"], "validation_min_number_constraint");
        let errors = normalize(
            documents,
            &object(json!({"name": "A", "owner": "u", "pages": "x"})),
            None,
        )
        .unwrap_err();
        assert_eq!(errors["pages"]["code"], "validation_not_a_number");

        let posts = collections.get("posts").unwrap();
        let long = "x".repeat(201);
        let errors = normalize(posts, &object(json!({"title": long})), None).unwrap_err();
        assert_eq!(errors["title"]["code"], "validation_max_text_constraint");
    }

    #[test]
    fn updates_keep_fields_not_given() {
        let collections = Collections::defaults();
        let posts = collections.get("posts").unwrap();
        let existing = object(json!({"id": "abc", "title": "old", "author": "u1", "published": true}));
        let updated = normalize(posts, &object(json!({"title": "new"})), Some(&existing)).unwrap();
        assert_eq!(
            (updated["title"].as_str(), updated["author"].as_str()),
            (Some("new"), Some("u1"))
        );
        assert_eq!(updated["published"], json!(true));
        assert_eq!(updated["id"], "abc");
    }
}
