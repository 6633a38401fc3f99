//! The record tables: one per collection, a column per field (PocketBase's model), each
//! holding its value as JSON text; and the statements that create them and follow a
//! collections import (fields added, renamed by id, removed; collections removed),
//! keeping the rows that stay.

use super::compile::{quote, SqlValue, Statement};
use crate::collections::{Collection, Collections};
use serde_json::Value;

/// The column of a row's version, for compare-and-swap writes (a name no field can
/// have: field names are letters, digits and `_`).
pub const VERSION: &str = "edgefs:version";

/// The table of a collection's records, by id (a rename keeps its table).
pub fn table(collection: &Collection) -> String {
    quote(&format!("edgefs:records:{}", collection.id))
}

/// The record's own columns besides `id`: `created` and `updated` are always there
/// (edgefs's own timestamps, or the fields of those names), then every other field.
pub fn columns(collection: &Collection) -> Vec<String> {
    let mut columns = vec!["created".to_owned(), "updated".to_owned()];
    for field in &collection.fields {
        if field.name != "id" && !columns.contains(&field.name) {
            columns.push(field.name.clone());
        }
    }
    columns
}

/// How a column holds its field's values. Fields whose values the API always gives one
/// type (text, number, boolean, autodate; edgefs's own `created`/`updated`) are plain
/// SQLite values, so that a comparison with them is a plain comparison; every other
/// field (JSON, select, relation, file…) holds its value as JSON text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// A text (`TEXT`), or `NULL` for none.
    Text,
    /// An `INTEGER` (a whole number) or a `REAL`, or `NULL`.
    Number,
    /// `0` or `1`, or `NULL`.
    Bool,
    /// The value's JSON text, or `NULL`.
    Json,
}

/// The kind of the column `name` (besides `id`, always a text).
pub fn column_kind(collection: &Collection, name: &str) -> ColumnKind {
    use crate::collections::FieldKind;
    match collection.field(name).map(|f| &f.kind) {
        None => ColumnKind::Text, // edgefs's own created/updated
        Some(FieldKind::Text { .. } | FieldKind::Autodate { .. }) => ColumnKind::Text,
        Some(FieldKind::Number { .. }) => ColumnKind::Number,
        Some(FieldKind::Bool) => ColumnKind::Bool,
        Some(FieldKind::File { .. } | FieldKind::Other(_)) => ColumnKind::Json,
    }
}

/// True when the collection's records have a column `name` besides `id`.
pub fn has_column(collection: &Collection, name: &str) -> bool {
    matches!(name, "created" | "updated") || (name != "id" && collection.field(name).is_some())
}

fn statement(sql: String) -> Statement {
    Statement {
        sql,
        params: Vec::new(),
    }
}

/// A column's declared type: none for numbers (so `5` stays an integer and `2.5` a
/// real, as PocketBase shows them), `TEXT` otherwise.
fn declared(collection: &Collection, name: &str) -> &'static str {
    match column_kind(collection, name) {
        ColumnKind::Number | ColumnKind::Bool => "",
        ColumnKind::Text | ColumnKind::Json => " TEXT",
    }
}

/// Creates the collection's table if it is missing, with every column.
pub fn create(collection: &Collection) -> Vec<Statement> {
    let columns: Vec<String> = columns(collection)
        .iter()
        .map(|c| format!(", {}{}", quote(c), declared(collection, c)))
        .collect();
    vec![statement(format!(
        "CREATE TABLE IF NOT EXISTS {} (\"id\" TEXT PRIMARY KEY NOT NULL, {} INTEGER NOT NULL DEFAULT 1{})",
        table(collection),
        quote(VERSION),
        columns.concat()
    ))]
}

/// The columns a table has, from `PRAGMA table_info`'s rows.
pub fn table_info(collection: &Collection) -> Statement {
    // The statement form: D1 allows `PRAGMA table_info`, not the pragma functions.
    statement(format!("PRAGMA table_info({})", table(collection)))
}

/// The `ALTER TABLE`s that give a table whose columns are `existing` the collection's
/// columns: a field renamed since `before` (the same field id under another name)
/// has its column renamed, a new field gets a column, a removed field's column goes.
pub fn alter(before: Option<&Collection>, after: &Collection, existing: &[String]) -> Vec<Statement> {
    let table = table(after);
    let wanted = columns(after);
    let mut present: Vec<String> = existing.to_vec();
    let mut statements = Vec::new();
    // Renames go through a temporary name, so that two fields swapping names work.
    let mut renames = Vec::new();
    if let Some(before) = before {
        // A column never holds values of another kind than its field's: should a field's
        // type change under the same id (imports refuse it, as PocketBase does; this
        // keeps the store's guarantee whatever the caller), its column starts empty.
        for field in &after.fields {
            let Some(old) = before.fields.iter().find(|f| f.id == field.id) else {
                continue;
            };
            if column_kind(before, &old.name) != column_kind(after, &field.name) && present.contains(&old.name) {
                statements.push(statement(format!(
                    "ALTER TABLE {table} DROP COLUMN {}",
                    quote(&old.name)
                )));
                present.retain(|c| c != &old.name);
            }
        }
        for field in &after.fields {
            let Some(old) = before.fields.iter().find(|f| f.id == field.id && f.name != field.name) else {
                continue;
            };
            if old.name == "id" || field.name == "id" || !present.contains(&old.name) {
                continue;
            }
            if matches!(old.name.as_str(), "created" | "updated") {
                continue; // edgefs's own column stays; the renamed field gets a new one
            }
            let temporary = format!("edgefs:renaming:{}", field.id);
            statements.push(statement(format!(
                "ALTER TABLE {table} RENAME COLUMN {} TO {}",
                quote(&old.name),
                quote(&temporary)
            )));
            present.retain(|c| c != &old.name);
            renames.push((temporary, field.name.clone()));
        }
    }
    for (temporary, name) in renames {
        if present.contains(&name) {
            // The new name's column belonged to a removed field: its values go.
            statements.push(statement(format!("ALTER TABLE {table} DROP COLUMN {}", quote(&name))));
            present.retain(|c| c != &name);
        }
        statements.push(statement(format!(
            "ALTER TABLE {table} RENAME COLUMN {} TO {}",
            quote(&temporary),
            quote(&name)
        )));
        present.push(name);
    }
    for name in &wanted {
        if !present.contains(name) {
            statements.push(statement(format!(
                "ALTER TABLE {table} ADD COLUMN {}{}",
                quote(name),
                declared(after, name)
            )));
        }
    }
    for name in &present {
        if name != "id" && name != VERSION && !wanted.contains(name) {
            statements.push(statement(format!("ALTER TABLE {table} DROP COLUMN {}", quote(name))));
        }
    }
    statements
}

/// Drops the tables of collections that `after` no longer has.
pub fn drop_removed(before: &Collections, after: &Collections) -> Vec<Statement> {
    before
        .iter()
        .filter(|c| after.get(&c.id).is_none())
        .map(|c| statement(format!("DROP TABLE IF EXISTS {}", table(c))))
        .collect()
}

/// A value as its column holds it (a missing or `null` value is `NULL`): a plain text,
/// number or 0/1 in a typed column — a value of another type there is refused, since the
/// compiled comparisons rely on it — and JSON text otherwise, with whole numbers written
/// as integers (`5`, not `5.0`, as PocketBase writes them), so that SQLite's text of a
/// number is the evaluator's.
pub fn cell(kind: ColumnKind, name: &str, value: Option<&Value>) -> Result<SqlValue, String> {
    let wrong = |what: &str| format!("the field {name:?} holds {what}, not a {kind:?} value");
    Ok(match (kind, value) {
        (_, None | Some(Value::Null)) => SqlValue::Null,
        (ColumnKind::Json, Some(value)) => SqlValue::Text(whole_numbers(value).to_string()),
        (ColumnKind::Text, Some(Value::String(text))) => SqlValue::Text(text.clone()),
        (ColumnKind::Number, Some(Value::Number(n))) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => SqlValue::Integer(i),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => SqlValue::Integer(f as i64),
            (None, Some(f)) => SqlValue::Real(f),
            (None, None) => return Err(wrong("a number out of range")),
        },
        (ColumnKind::Bool, Some(Value::Bool(b))) => SqlValue::Integer(i64::from(*b)),
        (_, Some(other)) => return Err(wrong(&other.to_string())),
    })
}

/// A column's value (as the database answered it, in JSON) as the record's field.
pub fn field_value(kind: ColumnKind, cell: &Value) -> Option<Value> {
    match (kind, cell) {
        (_, Value::Null) => None,
        (ColumnKind::Json, Value::String(json)) => serde_json::from_str(json).ok(),
        (ColumnKind::Bool, Value::Number(n)) => Some(Value::Bool(n.as_i64() == Some(1))),
        (_, value) => Some(value.clone()),
    }
}

fn whole_numbers(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                Value::from(f as i64)
            } else {
                value.clone()
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(whole_numbers).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), whole_numbers(v))).collect()),
        other => other.clone(),
    }
}
