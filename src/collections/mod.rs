//! Collections in PocketBase's JSON shape: fields, the five rules, and edgefs's
//! `enforceViewRuleOnFiles`.
//!
//! Every rule is parsed when collections load or are imported; a rule that does not
//! parse, or that names a field the collection does not have, rejects the whole set
//! with PocketBase's error document, naming the collection, the rule and the position.
//! Ids follow PocketBase: `pbc_` + CRC-32 of type and name for a collection, the field
//! type + CRC-32 of its name for a field, unless given.

mod model;

pub use model::{Collection, Field, FieldKind, SYSTEM_FIELDS};

use crate::error::Quoted;
use crate::rules::{Operand, Rule};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Who may do something: `null` in JSON is superusers only, `""` anyone, else a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// `null`: superusers only.
    SuperusersOnly,
    /// A rule the caller must satisfy; the empty rule (`""`) lets anyone through.
    /// Superusers always pass.
    Rule(Rule),
}

/// A set of collections, addressed by id or by name.
#[derive(Clone, Debug, Default)]
pub struct Collections {
    list: Vec<Collection>,
}

/// Why a set of collections was refused: PocketBase's 400 "Failed to import
/// collections." with `data.collections`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportError {
    /// The collection at fault (name and id).
    pub collection: String,
    /// Field or rule name → problem.
    pub problems: BTreeMap<String, String>,
}

impl ImportError {
    /// PocketBase's message: the collection and its problems.
    pub fn message(&self) -> String {
        // `fields.1` is PocketBase's `{"fields": {"1": …}}`.
        let mut nested = Map::new();
        for (key, problem) in &self.problems {
            match key.split_once('.') {
                Some((outer, inner)) => {
                    let entry = nested
                        .entry(outer.to_owned())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(inner_map) = entry {
                        inner_map.insert(inner.to_owned(), Value::String(problem.clone()));
                    }
                }
                None => {
                    nested.insert(key.clone(), Value::String(problem.clone()));
                }
            }
        }
        let problems = serde_json::to_string_pretty(&nested).unwrap_or_default();
        format!(
            "Data validations failed for collection {}:\n{problems}.",
            self.collection
        )
    }

    /// The `data` of the error answer.
    pub fn data(&self) -> Value {
        json!({"collections": {"code": "validation_collections_import_failure", "message": self.message()}})
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ImportError {}

/// The collections bundled with the Worker: `posts` (public files) and `documents`
/// (protected files).
pub const DEFAULT_JSON: &str = include_str!("default.json");

impl Collections {
    /// Parses and validates a JSON array of collections (or `{collections: [...]}`).
    pub fn from_json(json: &str) -> Result<Collections, ImportError> {
        let value: Value = serde_json::from_str(json).map_err(|e| ImportError {
            collection: "(the collections file)".into(),
            problems: BTreeMap::from([("json".to_owned(), format!("Invalid JSON: {e}"))]),
        })?;
        let items = match value {
            Value::Array(items) => items,
            Value::Object(mut object) => match object.remove("collections") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        Collections::from_values(items)
    }

    /// The collections bundled with the Worker ([`DEFAULT_JSON`]).
    pub fn defaults() -> Collections {
        // No `Result::expect`: it would link `Debug` of the rules' syntax tree into the Worker.
        match Collections::from_json(DEFAULT_JSON) {
            Ok(collections) => collections,
            Err(e) => panic!("the bundled collections are invalid: {e}"),
        }
    }

    /// Validates collections already parsed from JSON, one value each. Names and ids must
    /// be unique (names case-insensitively).
    pub fn from_values(items: Vec<Value>) -> Result<Collections, ImportError> {
        let mut list = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let collection = Collection::from_value(item, index)?;
            if let Some(other) = list
                .iter()
                .find(|c: &&Collection| c.name.eq_ignore_ascii_case(&collection.name) || c.id == collection.id)
            {
                return Err(ImportError {
                    collection: collection.label(),
                    problems: BTreeMap::from([(
                        "name".to_owned(),
                        format!(
                            "Collection name or id must be unique (already used by {}).",
                            other.label()
                        ),
                    )]),
                });
            }
            list.push(collection);
        }
        Ok(Collections { list })
    }

    /// A collection by id or by name (names case-insensitively, as PocketBase).
    pub fn get(&self, id_or_name: &str) -> Option<&Collection> {
        self.list
            .iter()
            .find(|c| c.id == id_or_name)
            .or_else(|| self.list.iter().find(|c| c.name.eq_ignore_ascii_case(id_or_name)))
    }

    /// The collections, in the order they were given.
    pub fn iter(&self) -> impl Iterator<Item = &Collection> {
        self.list.iter()
    }

    /// How many collections there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are no collections.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// PocketBase's import: `deleteMissing` drops the collections not in `incoming`;
    /// otherwise incoming collections replace those with the same id or name and the
    /// others stay.
    pub fn import(&self, incoming: Vec<Value>, delete_missing: bool) -> Result<Collections, ImportError> {
        let given = incoming.clone();
        let incoming = Collections::from_values(incoming)?;
        // PocketBase refuses to change a field's type (its column holds the old type's
        // values); a field is the same field by id.
        for collection in &incoming.list {
            let Some(existing) = self.get(&collection.id).or_else(|| self.get(&collection.name)) else {
                continue;
            };
            let type_of = |field: &model::Field| field.to_value().get("type").cloned();
            let mut problems = BTreeMap::new();
            // Numbered as the request lists them (the `id` field may have been added).
            let listed: Vec<Value> = given
                .iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(collection.name.as_str()))
                .and_then(|c| c.get("fields"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for field in &collection.fields {
                if let Some(old) = existing.fields.iter().find(|old| old.id == field.id) {
                    if type_of(old) != type_of(field) {
                        let index = listed
                            .iter()
                            .position(|f| f.get("name").and_then(Value::as_str) == Some(field.name.as_str()))
                            .unwrap_or_default();
                        problems.insert(format!("fields.{index}"), "Field type cannot be changed.".to_owned());
                    }
                }
            }
            if !problems.is_empty() {
                return Err(ImportError {
                    collection: collection.label(),
                    problems,
                });
            }
        }
        if delete_missing {
            return Ok(incoming);
        }
        let mut merged: Vec<Value> = Vec::new();
        for existing in &self.list {
            if incoming
                .list
                .iter()
                .all(|c| c.id != existing.id && !c.name.eq_ignore_ascii_case(&existing.name))
            {
                merged.push(existing.to_value());
            }
        }
        merged.extend(incoming.list.iter().map(Collection::to_value));
        Collections::from_values(merged)
    }

    /// The JSON array, as `GET /api/collections` lists it and `from_json` reads it back.
    pub fn to_json(&self) -> String {
        Value::Array(self.list.iter().map(Collection::to_value).collect()).to_string()
    }
}

/// Checks a rule text: it parses, and every record field it names exists.
pub(crate) fn parse_access(text: Option<&str>, fields: &[Field]) -> Result<Access, String> {
    let Some(text) = text else {
        return Ok(Access::SuperusersOnly);
    };
    let rule = Rule::parse(text).map_err(|e| format!("Invalid rule. Raw error: {e}"))?;
    if let Some(expr) = rule.expr() {
        let mut unknown = None;
        visit_identifiers(expr, &mut |name| {
            let field = name.strip_prefix("@request.body.").unwrap_or(name);
            if unknown.is_none() && !name.starts_with("@request.auth.") && name != "@request.method" {
                let known = model::SYSTEM_FIELDS.contains(&field) || fields.iter().any(|f| f.name == field);
                if !known {
                    unknown = Some(field.to_owned());
                }
            }
        });
        if let Some(field) = unknown {
            return Err(format!(
                "Invalid rule. Raw error: invalid operand {field} - unknown field {field}",
                field = Quoted(&field)
            ));
        }
    }
    Ok(Access::Rule(rule))
}

fn visit_identifiers(expr: &crate::rules::Expr, visit: &mut dyn FnMut(&str)) {
    use crate::rules::Expr;
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            visit_identifiers(a, visit);
            visit_identifiers(b, visit);
        }
        Expr::Compare(left, _, right) => {
            for operand in [left, right] {
                if let Operand::Identifier(name) = operand {
                    visit(name);
                }
            }
        }
    }
}

/// `{"key": value}` helper for tests and callers.
pub fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_collections_load() {
        let collections = Collections::defaults();
        assert_eq!(collections.len(), 2);
        let posts = collections.get("posts").unwrap();
        assert_eq!(posts.id, "pbc_1125843985", "PocketBase's id: pbc_ + crc32(type + name)");
        assert!(collections.get(&posts.id).is_some());
        assert!(collections.get("POSTS").is_some());
        let documents = collections.get("documents").unwrap();
        let files = documents.field("files").unwrap();
        assert!(matches!(
            files.kind,
            FieldKind::File {
                protected: true,
                max_select: 5,
                ..
            }
        ));
        assert!(matches!(posts.list_rule, Access::Rule(_)));
    }

    #[test]
    fn a_bad_rule_names_the_collection_the_rule_and_the_position() {
        let error = Collections::from_json(
            r#"[{"name":"posts","type":"base","listRule":"","viewRule":"owner = ","fields":[{"name":"owner","type":"text"}]}]"#,
        )
        .unwrap_err();
        assert_eq!(
            error.message(),
            "Data validations failed for collection \"posts\" (pbc_1125843985):\n{\n  \"viewRule\": \"Invalid rule. Raw error: expected a value, found the end of the rule (at position 8)\"\n}."
        );
        assert_eq!(
            error.data()["collections"]["code"],
            "validation_collections_import_failure"
        );
    }

    #[test]
    fn a_rule_naming_an_unknown_field_is_refused() {
        let error = Collections::from_json(
            r#"[{"name":"posts","listRule":"ownr = @request.auth.id","fields":[{"name":"owner","type":"text"}]}]"#,
        )
        .unwrap_err();
        assert!(error.problems["listRule"].contains("unknown field \"ownr\""), "{error}");
    }

    #[test]
    fn a_collection_id_that_could_reach_other_keys_is_refused() {
        // Ids are key prefixes: `a/b` lists inside `a`'s objects, `.edgefs` inside edgefs's own.
        let long = "a".repeat(101);
        for id in ["a/b", ".edgefs", "../x", "pbc_1/..", "sp ace", "é", long.as_str()] {
            let items = vec![json!({"id": id, "name": "evil", "fields": []})];
            let error = Collections::from_values(items).unwrap_err();
            assert!(error.problems["id"].contains("Invalid collection id"), "{id}: {error}");
        }
        let fine = vec![json!({"id": "ok_Id_100", "name": "fine", "fields": []})];
        assert_eq!(
            Collections::from_values(fine).unwrap().get("fine").unwrap().id,
            "ok_Id_100"
        );
    }

    #[test]
    fn null_is_superusers_only_and_empty_is_anyone() {
        let collections =
            Collections::from_json(r#"[{"name":"notes","listRule":null,"viewRule":"","fields":[]}]"#).unwrap();
        let notes = collections.get("notes").unwrap();
        assert_eq!(notes.list_rule, Access::SuperusersOnly);
        assert_eq!(notes.create_rule, Access::SuperusersOnly, "a missing rule is null");
        assert!(matches!(&notes.view_rule, Access::Rule(rule) if rule.expr().is_none()));
    }

    #[test]
    fn import_merges_or_replaces() {
        let current = Collections::defaults();
        let incoming = vec![json!({"name":"notes","fields":[{"name":"text","type":"text"}]})];
        let merged = current.import(incoming.clone(), false).unwrap();
        assert_eq!(merged.len(), 3);
        let replaced = current.import(incoming, true).unwrap();
        assert_eq!(replaced.len(), 1);
        assert!(replaced.get("posts").is_none());
        let duplicate = Collections::from_values(vec![json!({"name":"a"}), json!({"name":"A"})]).unwrap_err();
        assert!(duplicate.problems["name"].contains("unique"));
    }

    #[test]
    fn a_fields_type_cannot_be_changed_as_in_pocketbase() {
        let field = |kind: &str| json!({"name": "c", "type": "base", "fields": [{"id": "fld000001", "name": "x", "type": kind}]});
        let before = Collections::from_values(vec![field("text")]).unwrap();
        let error = before.import(vec![field("number")], false).unwrap_err();
        assert_eq!(error.problems["fields.0"], "Field type cannot be changed.");
        assert!(
            error
                .message()
                .starts_with("Data validations failed for collection \"c\""),
            "{error}"
        );
        assert!(
            before.import(vec![field("text")], true).is_ok(),
            "the same type is fine"
        );
    }

    #[test]
    fn json_round_trips_in_pocketbase_shape() {
        let collections = Collections::defaults();
        let json = collections.to_json();
        let again = Collections::from_json(&json).unwrap();
        assert_eq!(again.to_json(), json);
        let value: Value = serde_json::from_str(&json).unwrap();
        let posts = &value[0];
        assert_eq!(posts["id"], "pbc_1125843985");
        assert_eq!(posts["type"], "base");
        assert_eq!(posts["createRule"], "@request.auth.id != ''");
        assert_eq!(posts["fields"][0]["name"], "id", "the system id field comes first");
        assert_eq!(
            posts["fields"][1]["id"], "text724990059",
            "field ids: type + crc32(name)"
        );
        assert_eq!(posts["fields"][4]["maxSelect"], 1);
        assert_eq!(posts["enforceViewRuleOnFiles"], false);
    }
}
