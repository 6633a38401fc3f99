//! One collection and its fields, read from and written to PocketBase's JSON.

use super::{parse_access, Access, ImportError};
use crate::error::Quoted;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Fields every record has, which rules may name.
pub const SYSTEM_FIELDS: &[&str] = &["id", "collectionId", "collectionName", "created", "updated"];

const RULES: [&str; 5] = ["listRule", "viewRule", "createRule", "updateRule", "deleteRule"];

/// A field's type and the options edgefs reads from PocketBase's JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldKind {
    /// `text`.
    Text {
        /// The fewest characters a non-empty value may have; 0 for no minimum.
        min: u64,
        /// The most characters; 0 for PocketBase's default of 5000.
        max: u64,
        /// `pattern`: kept in the JSON, not checked by edgefs.
        pattern: String,
        /// `autogeneratePattern`: kept in the JSON, not applied by edgefs.
        autogenerate_pattern: String,
        /// True for the `id` field.
        primary_key: bool,
    },
    /// `number`.
    Number {
        /// The smallest value allowed; `None` for no minimum.
        min: Option<f64>,
        /// The largest value allowed; `None` for no maximum.
        max: Option<f64>,
        /// Only whole numbers.
        only_int: bool,
    },
    /// `bool`.
    Bool,
    /// `autodate`: the time the record was created (`onCreate`) and/or last updated
    /// (`onUpdate`), set by the server; a value in a request body is ignored.
    Autodate {
        /// Set when the record is created.
        on_create: bool,
        /// Set every time the record is updated.
        on_update: bool,
    },
    /// `file`: one or more files stored beside the record.
    File {
        /// The most files the field holds; 1 makes it a single file (a string, not a list).
        max_select: u32,
        /// The largest file in bytes; 0 for PocketBase's default of 5 MiB.
        max_size: u64,
        /// The MIME types accepted, as sniffed from the file's first bytes; empty for any.
        mime_types: Vec<String>,
        /// Files are served only to a `?token=` file token whose caller passes the view rule,
        /// and never to shared caches.
        protected: bool,
        /// `thumbs`: kept in the JSON; edgefs makes no thumbnails.
        thumbs: Vec<String>,
    },
    /// Another PocketBase field type (email, url, date, json, select…): stored as given,
    /// without validation.
    Other(String),
}

/// A field of a collection.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field's id: as given, or its type followed by the CRC-32 of its name.
    pub id: String,
    /// The field's name: letters, digits and `_`.
    pub name: String,
    /// Its type and options.
    pub kind: FieldKind,
    /// A value is required: not empty, not zero, not false.
    pub required: bool,
    /// Only superusers see the value.
    pub hidden: bool,
    /// A system field (`id`): never set from a request body.
    pub system: bool,
    /// The field's JSON as given, for the properties edgefs does not interpret.
    raw: Map<String, Value>,
}

/// A collection: its fields and the five rules of PocketBase's base collections.
#[derive(Clone, Debug, PartialEq)]
pub struct Collection {
    /// The collection's id: as given, or `pbc_` followed by the CRC-32 of its type and
    /// name. It is the first segment of its records' and files' keys.
    pub id: String,
    /// The collection's name: letters, digits and `_`, unique case-insensitively.
    pub name: String,
    /// Its fields, `id` first when it was not given.
    pub fields: Vec<Field>,
    /// Who may list the records (`listRule`).
    pub list_rule: Access,
    /// Who may view a record (`viewRule`), and so its protected files.
    pub view_rule: Access,
    /// Who may create a record (`createRule`).
    pub create_rule: Access,
    /// Who may update a record (`updateRule`).
    pub update_rule: Access,
    /// Who may delete a record (`deleteRule`).
    pub delete_rule: Access,
    /// edgefs: apply the view rule to every file, not only protected ones.
    pub enforce_view_rule_on_files: bool,
    rule_texts: [Option<String>; 5],
    created: String,
    updated: String,
}

fn crc32(text: &str) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(text.as_bytes());
    hasher.finalize()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// PocketBase's `DefaultIdRegex` (`^\w+$`, ASCII) with its 100-character limit.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 100 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// PocketBase's date format: `2026-11-25 07:14:44.186Z`.
fn now_text() -> String {
    crate::clock::iso8601(crate::clock::now()).replacen('T', " ", 1)
}

impl Field {
    fn system_id() -> Field {
        Field {
            id: "text3208210256".into(),
            name: "id".into(),
            kind: FieldKind::Text {
                min: 15,
                max: 15,
                pattern: "^[a-z0-9]+$".into(),
                autogenerate_pattern: "[a-z0-9]{15}".into(),
                primary_key: true,
            },
            required: true,
            hidden: false,
            system: true,
            raw: Map::new(),
        }
    }

    fn from_value(value: &Value) -> Result<Field, String> {
        let raw = value.as_object().cloned().ok_or("a field must be an object")?;
        let text = |key: &str| raw.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let flag = |key: &str| raw.get(key).and_then(Value::as_bool).unwrap_or(false);
        let unsigned = |key: &str| raw.get(key).and_then(Value::as_u64).unwrap_or(0);
        let name = text("name");
        if !valid_name(&name) {
            return Err(format!(
                "Invalid field name {name}: use letters, digits and _.",
                name = Quoted(&name)
            ));
        }
        let kind_name = text("type");
        let kind = match kind_name.as_str() {
            "text" => FieldKind::Text {
                min: unsigned("min"),
                max: unsigned("max"),
                pattern: text("pattern"),
                autogenerate_pattern: text("autogeneratePattern"),
                primary_key: flag("primaryKey"),
            },
            "number" => FieldKind::Number {
                min: raw.get("min").and_then(Value::as_f64),
                max: raw.get("max").and_then(Value::as_f64),
                only_int: flag("onlyInt"),
            },
            "bool" => FieldKind::Bool,
            "autodate" => FieldKind::Autodate {
                on_create: flag("onCreate"),
                on_update: flag("onUpdate"),
            },
            "file" => FieldKind::File {
                max_select: unsigned("maxSelect").clamp(1, u64::from(u32::MAX)) as u32,
                max_size: unsigned("maxSize"),
                mime_types: string_list(raw.get("mimeTypes")),
                protected: flag("protected"),
                thumbs: string_list(raw.get("thumbs")),
            },
            "" => return Err(format!("The field {name} has no type.", name = Quoted(&name))),
            other => FieldKind::Other(other.to_owned()),
        };
        let id = match text("id") {
            id if id.is_empty() => format!("{kind_name}{}", crc32(&name)),
            id => id,
        };
        Ok(Field {
            id,
            name,
            kind,
            required: flag("required"),
            hidden: flag("hidden"),
            system: flag("system"),
            raw,
        })
    }

    /// PocketBase's JSON for the field, with the properties edgefs does not interpret as
    /// they were given.
    pub fn to_value(&self) -> Value {
        let mut out = self.raw.clone();
        let mut set = |key: &str, value: Value| {
            out.insert(key.to_owned(), value);
        };
        set("id", json!(self.id));
        set("name", json!(self.name));
        set("required", json!(self.required));
        set("hidden", json!(self.hidden));
        set("system", json!(self.system));
        set(
            "presentable",
            self.raw.get("presentable").cloned().unwrap_or(json!(false)),
        );
        set("help", self.raw.get("help").cloned().unwrap_or(json!("")));
        match &self.kind {
            FieldKind::Text {
                min,
                max,
                pattern,
                autogenerate_pattern,
                primary_key,
            } => {
                set("type", json!("text"));
                set("min", json!(min));
                set("max", json!(max));
                set("pattern", json!(pattern));
                set("autogeneratePattern", json!(autogenerate_pattern));
                set("primaryKey", json!(primary_key));
            }
            FieldKind::Number { min, max, only_int } => {
                set("type", json!("number"));
                set("min", json!(min));
                set("max", json!(max));
                set("onlyInt", json!(only_int));
            }
            FieldKind::Bool => set("type", json!("bool")),
            FieldKind::Autodate { on_create, on_update } => {
                set("type", json!("autodate"));
                set("onCreate", json!(on_create));
                set("onUpdate", json!(on_update));
            }
            FieldKind::File {
                max_select,
                max_size,
                mime_types,
                protected,
                thumbs,
            } => {
                set("type", json!("file"));
                set("maxSelect", json!(max_select));
                set("maxSize", json!(max_size));
                set("mimeTypes", json!(mime_types));
                set("protected", json!(protected));
                set("thumbs", json!(thumbs));
            }
            FieldKind::Other(kind) => set("type", json!(kind)),
        }
        Value::Object(out)
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

impl Collection {
    /// `"name" (id)`, as PocketBase names a collection in messages.
    pub fn label(&self) -> String {
        format!("{} ({})", Quoted(&self.name), self.id)
    }

    /// The field named `name` (case-sensitive).
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The file fields.
    pub fn file_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| matches!(f.kind, FieldKind::File { .. }))
    }

    pub(crate) fn from_value(value: Value, index: usize) -> Result<Collection, ImportError> {
        let object = value.as_object().cloned().unwrap_or_default();
        let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let name = text("name");
        let kind = match text("type") {
            kind if kind.is_empty() => "base".to_owned(),
            kind => kind,
        };
        let id = match text("id") {
            id if id.is_empty() => format!("pbc_{}", crc32(&format!("{kind}{name}"))),
            id => id,
        };
        let label = if name.is_empty() {
            format!("#{index}")
        } else {
            format!("{name} ({id})", name = Quoted(&name))
        };
        let mut problems = BTreeMap::new();
        if !valid_name(&name) {
            problems.insert(
                "name".to_owned(),
                "Invalid collection name: use letters, digits and _.".to_owned(),
            );
        }
        // The id is the first segment of every key of the collection's records and files
        // (`{collectionId}/{recordId}/…`, `.edgefs/records/{collectionId}/…`): a `/` or a
        // leading `.` would let one collection's listing reach another's objects.
        // PocketBase's own rule for a new collection: `^\w+$`, 1–100 characters.
        if !valid_id(&id) {
            problems.insert(
                "id".to_owned(),
                "Invalid collection id: use 1 to 100 letters, digits and _.".to_owned(),
            );
        }
        if kind != "base" {
            problems.insert(
                "type".to_owned(),
                format!("Only base collections are supported, not {kind}.", kind = Quoted(&kind)),
            );
        }
        let mut fields = Vec::new();
        for (i, field) in object
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            match Field::from_value(field) {
                Ok(field) if fields.iter().any(|f: &Field| f.name == field.name) => {
                    problems.insert(
                        format!("fields.{i}"),
                        format!("Duplicated field name {}.", Quoted(&field.name)),
                    );
                }
                Ok(field) => fields.push(field),
                Err(problem) => {
                    problems.insert(format!("fields.{i}"), problem);
                }
            }
        }
        if !fields.iter().any(|f| f.name == "id") {
            fields.insert(0, Field::system_id());
        }
        let mut rule_texts: [Option<String>; 5] = Default::default();
        let mut access = Vec::with_capacity(5);
        for (slot, rule) in RULES.iter().enumerate() {
            let given = object.get(*rule).and_then(Value::as_str).map(str::to_owned);
            match parse_access(given.as_deref(), &fields) {
                Ok(parsed) => access.push(parsed),
                Err(problem) => {
                    problems.insert((*rule).to_owned(), problem);
                    access.push(Access::SuperusersOnly);
                }
            }
            rule_texts[slot] = given;
        }
        if !problems.is_empty() {
            return Err(ImportError {
                collection: label,
                problems,
            });
        }
        // No `Result::expect`: it would link `Debug` of the rules' syntax tree into the Worker.
        let Ok([list_rule, view_rule, create_rule, update_rule, delete_rule]) = <[Access; 5]>::try_from(access) else {
            unreachable!("five rules")
        };
        let created = match text("created") {
            created if created.is_empty() => now_text(),
            created => created,
        };
        let updated = match text("updated") {
            updated if updated.is_empty() => created.clone(),
            updated => updated,
        };
        Ok(Collection {
            id,
            name,
            fields,
            list_rule,
            view_rule,
            create_rule,
            update_rule,
            delete_rule,
            enforce_view_rule_on_files: object
                .get("enforceViewRuleOnFiles")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            rule_texts,
            created,
            updated,
        })
    }

    /// PocketBase's JSON for the collection.
    pub fn to_value(&self) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(self.id));
        for (rule, text) in RULES.iter().zip(&self.rule_texts) {
            out.insert((*rule).into(), json!(text));
        }
        out.insert("name".into(), json!(self.name));
        out.insert("type".into(), json!("base"));
        out.insert(
            "fields".into(),
            Value::Array(self.fields.iter().map(Field::to_value).collect()),
        );
        out.insert("indexes".into(), json!([]));
        out.insert("created".into(), json!(self.created));
        out.insert("updated".into(), json!(self.updated));
        out.insert("system".into(), json!(false));
        out.insert("enforceViewRuleOnFiles".into(), json!(self.enforce_view_rule_on_files));
        Value::Object(out)
    }
}
