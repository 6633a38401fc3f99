//! Evaluating a parsed rule.
//!
//! Values follow PocketBase's (SQL-like) comparisons: a missing value or `null`
//! compares as the other side's zero value (`""`, `0`, `false`), so
//! `@request.auth.id != ""` is false for a visitor who is not signed in. Numbers
//! compare as numbers when both sides are numeric; a multi-valued field satisfies a
//! comparison when every one of its values does (PocketBase's `=`), and an empty one
//! compares as `null`.

use super::ast::{Expr, Operand, Operator};
use serde_json::{Map, Value as Json};

/// What a rule can see.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    /// The signed-in caller's claims (`@request.auth.*`); `None` for visitors.
    pub auth: Option<&'a Map<String, Json>>,
    /// The submitted fields (`@request.body.*`).
    pub body: Option<&'a Map<String, Json>>,
    /// `@request.method` (`GET`, `POST`…).
    pub method: &'a str,
    /// The record's fields.
    pub record: Option<&'a Map<String, Json>>,
}

/// A value as rules compare it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, a missing field, or an empty list.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string (a JSON object is compared as its JSON text).
    Text(String),
    /// The values of a multi-valued field.
    List(Vec<Value>),
}

impl Value {
    /// The value of a JSON field.
    pub fn from_json(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            Json::String(s) => Value::Text(s.clone()),
            Json::Array(items) if items.is_empty() => Value::Null,
            Json::Array(items) => Value::List(items.iter().map(Value::element).collect()),
            Json::Object(_) => Value::Text(json.to_string()),
        }
    }

    /// A value inside a multi-valued field: one level only, as PocketBase's `json_each`
    /// reads it — a nested list or object compares as its JSON text, `null` as `null`.
    fn element(json: &Json) -> Value {
        match json {
            Json::Array(_) => Value::Text(json.to_string()),
            _ => Value::from_json(json),
        }
    }
}

impl Context<'_> {
    pub(crate) fn resolve(&self, operand: &Operand) -> Value {
        match operand {
            Operand::Text(text) => Value::Text(text.clone()),
            Operand::Number(n) => Value::Number(*n),
            Operand::Bool(b) => Value::Bool(*b),
            Operand::Null => Value::Null,
            Operand::Identifier(name) => {
                let lookup = |map: Option<&Map<String, Json>>, field: &str| {
                    map.and_then(|m| m.get(field))
                        .map(Value::from_json)
                        .unwrap_or(Value::Null)
                };
                if name == "@request.method" {
                    Value::Text(self.method.to_owned())
                } else if let Some(field) = name.strip_prefix("@request.auth.") {
                    lookup(self.auth, field)
                } else if let Some(field) = name.strip_prefix("@request.body.") {
                    lookup(self.body, field)
                } else {
                    lookup(self.record, name)
                }
            }
        }
    }
}

impl Expr {
    /// True when `context` satisfies the expression.
    pub fn evaluate(&self, context: &Context<'_>) -> bool {
        match self {
            Expr::And(left, right) => left.evaluate(context) && right.evaluate(context),
            Expr::Or(left, right) => left.evaluate(context) || right.evaluate(context),
            Expr::Compare(left, op, right) => compare(&context.resolve(left), *op, &context.resolve(right)),
        }
    }
}

/// `left op right` for resolved values: lists compare element by element (every pair
/// must hold), `null` as the other side's zero value.
pub(crate) fn compare(left: &Value, op: Operator, right: &Value) -> bool {
    match (left, right) {
        (Value::List(items), _) => items.iter().all(|item| compare(item, op, right)),
        (_, Value::List(items)) => items.iter().all(|item| compare(left, op, item)),
        _ => {
            let (left, right) = (zero_for_null(left, right), zero_for_null(right, left));
            scalar(&left, op, &right)
        }
    }
}

fn zero_for_null(value: &Value, other: &Value) -> Value {
    match (value, other) {
        (Value::Null, Value::Bool(_)) => Value::Bool(false),
        (Value::Null, Value::Number(_)) => Value::Number(0.0),
        (Value::Null, _) => Value::Text(String::new()),
        _ => value.clone(),
    }
}

pub(crate) fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => Some(*n),
        Value::Text(t) => crate::numbers::parse(t.trim()),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

pub(crate) fn as_text(value: &Value) -> String {
    match value {
        Value::Text(t) => t.clone(),
        Value::Number(n) => crate::numbers::format(*n),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn scalar(left: &Value, op: Operator, right: &Value) -> bool {
    use std::cmp::Ordering;
    if matches!(op, Operator::Like | Operator::NotLike) {
        let found = like(&as_text(left), &as_text(right));
        return if op == Operator::Like { found } else { !found };
    }
    let numeric =
        matches!(left, Value::Number(_) | Value::Bool(_)) || matches!(right, Value::Number(_) | Value::Bool(_));
    let ordering = match (numeric, as_number(left), as_number(right)) {
        (true, Some(a), Some(b)) => a.partial_cmp(&b),
        _ => Some(as_text(left).cmp(&as_text(right))),
    };
    let Some(ordering) = ordering else { return false };
    match op {
        Operator::Equal => ordering == Ordering::Equal,
        Operator::NotEqual => ordering != Ordering::Equal,
        Operator::Greater => ordering == Ordering::Greater,
        Operator::GreaterOrEqual => ordering != Ordering::Less,
        Operator::Less => ordering == Ordering::Less,
        Operator::LessOrEqual => ordering != Ordering::Greater,
        Operator::Like | Operator::NotLike => unreachable!("handled above"),
    }
}

/// SQL LIKE, `%` for any run; a pattern without `%` matches anywhere. Case-insensitive
/// for ASCII letters only, like SQLite's LIKE under PocketBase (`É` does not match `é`).
fn like(text: &str, pattern: &str) -> bool {
    let text = text.to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    let pattern = if pattern.contains('%') {
        pattern
    } else {
        format!("%{pattern}%")
    };
    let parts: Vec<&str> = pattern.split('%').collect();
    let mut rest = text.as_str();
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Rule};
    use super::*;
    use serde_json::json;

    fn map(value: Json) -> Map<String, Json> {
        value.as_object().cloned().unwrap()
    }

    fn allows(rule: &str, auth: Option<Json>, record: Json) -> bool {
        let auth = auth.map(map);
        let record = map(record);
        let body = map(json!({"title": "new title", "count": 3}));
        let context = Context {
            auth: auth.as_ref(),
            body: Some(&body),
            method: "GET",
            record: Some(&record),
        };
        Rule::parse(rule).unwrap().allows(&context)
    }

    #[test]
    fn every_operator() {
        let r = json!({"n": 5, "s": "Hello World", "b": true});
        assert!(allows("n = 5", None, r.clone()));
        assert!(allows("n != 4", None, r.clone()));
        assert!(allows("n > 4 && n >= 5 && n < 6 && n <= 5", None, r.clone()));
        assert!(!allows("n > 5", None, r.clone()));
        assert!(allows("s ~ 'world'", None, r.clone()));
        assert!(allows("s ~ 'Hel%ld'", None, r.clone()));
        assert!(!allows("s ~ 'xyz'", None, r.clone()));
        assert!(allows("s !~ 'xyz'", None, r.clone()));
        assert!(allows("b = true", None, r.clone()));
        assert!(allows(
            "missing = null && missing = '' && missing != 'x'",
            None,
            r.clone()
        ));
        assert!(allows("n = '5'", None, r.clone()), "numeric text compares as a number");
        assert!(allows("s > 'Apple' && s < 'Zebra'", None, r));
    }

    #[test]
    fn request_values() {
        let record = json!({"owner": "u1", "public": false});
        let owner_rule = "@request.auth.id != '' && owner = @request.auth.id";
        assert!(allows(owner_rule, Some(json!({"id": "u1"})), record.clone()));
        assert!(!allows(owner_rule, Some(json!({"id": "u2"})), record.clone()));
        assert!(!allows(owner_rule, None, record.clone()), "visitors have an empty id");
        assert!(allows("@request.method = 'GET'", None, record.clone()));
        assert!(allows(
            "@request.body.title ~ 'new' && @request.body.count = 3",
            None,
            record
        ));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let r = json!({"a": 1, "b": 0, "c": 1});
        assert!(allows("a = 1 || b = 1 && c = 0", None, r.clone()));
        assert!(!allows("(a = 1 || b = 1) && c = 0", None, r.clone()));
        let parsed = parse("a = 1 || b = 1 && c = 0").unwrap();
        assert_eq!(parsed.to_string(), "a = 1 || b = 1 && c = 0");
        assert_eq!(
            parse("(a = 1 || b = 1) && c = 0").unwrap().to_string(),
            "(a = 1 || b = 1) && c = 0"
        );
    }

    #[test]
    fn lists_need_every_value() {
        assert!(allows("tags = 'a'", None, json!({"tags": ["a", "a"]})));
        assert!(!allows("tags = 'a'", None, json!({"tags": ["a", "b"]})));
        assert!(allows("tags = ''", None, json!({"tags": []})));
    }

    #[test]
    fn errors_name_the_position() {
        let error = Rule::parse("owner = ").unwrap_err();
        assert_eq!(error.position, 8);
        assert!(error.message.contains("expected a value"), "{error}");
        let error = Rule::parse("owner == 'x'").unwrap_err();
        assert_eq!(error.position, 7, "{error}");
        let error = Rule::parse("(a = 1").unwrap_err();
        assert_eq!(
            (error.position, error.message.as_str()),
            (0, "this \"(\" is not closed")
        );
        let error = Rule::parse("@request.user.id = 1").unwrap_err();
        assert!(error.message.contains("unknown identifier"), "{error}");
        let error = Rule::parse("a = 'open").unwrap_err();
        assert_eq!(error.position, 4);
        assert!(Rule::parse("a = 1 b = 2").is_err());
        assert!(Rule::parse("a = 1 &&").is_err());
    }

    #[test]
    fn empty_rule_allows_everyone() {
        assert!(Rule::parse("  ").unwrap().allows(&Context::default()));
    }
}
