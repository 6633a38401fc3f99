//! The SQL record store on SQLite itself (the engine D1 runs): lists answered by one
//! query select the same records, in the same order, as the in-memory evaluator over
//! random records, rules, filters and sorts; writes are compare-and-swap; imports alter
//! the tables and keep their rows; hostile filter text changes nothing.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use edgefs::collections::{Collection, Collections};
use edgefs::records::sql::SqlRecords;
use edgefs::records::{ListQuery, Record, RecordStore, Sort};
use edgefs::rules::{Context, Expr, Operand, Operator, Rule};
use edgefs::storage::WriteCondition;
use futures::executor::block_on;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use support::sqlite::Sqlite;

fn store() -> SqlRecords<Arc<dyn edgefs::records::sql::Database>> {
    SqlRecords::new(Arc::new(Sqlite::new()) as Arc<dyn edgefs::records::sql::Database>)
}

const FIELDS: [&str; 6] = ["title", "n", "flag", "tags", "owner", "data"];

fn things() -> Collections {
    Collections::from_values(vec![json!({
        "name": "things",
        "type": "base",
        "listRule": "",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "n", "type": "number"},
            {"name": "flag", "type": "bool"},
            {"name": "tags", "type": "select", "maxSelect": 3, "values": ["a", "b", "c"]},
            {"name": "owner", "type": "text"},
            {"name": "data", "type": "json"}
        ]
    })])
    .unwrap()
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

// --- generators ---------------------------------------------------------------------

/// Texts that probe the evaluator's corners: LIKE's `_` and `\`, `%`, case, texts that
/// read as numbers (or almost), Unicode and whitespace.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[abAB%_\\\\ é5]{0,4}",
        prop::sample::select(vec![
            "",
            "5",
            " 5 ",
            "+.5",
            "5.",
            "007",
            "1e2",
            "1E+2",
            "-3",
            "2.5",
            "1e400",
            "1e",
            ".",
            "+",
            "1.2.3",
            "0x10",
            "\u{a0}7\u{3000}",
            "u1",
            "u2",
            "true",
            "false",
            "null",
            "a",
            "b",
            "A",
        ])
        .prop_map(str::to_owned),
    ]
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-20i32..20).prop_map(f64::from),
        (-40i32..40).prop_map(|n| f64::from(n) / 4.0)
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-20i64..20).prop_map(Value::from),
        number().prop_map(|n| json!(n)),
        text().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar(),
        2 => prop::collection::vec(scalar(), 0..4).prop_map(Value::Array),
        1 => (scalar(), scalar()).prop_map(|(a, b)| json!([a, [b]])),
        1 => scalar().prop_map(|v| json!({"k": v})),
    ]
}

/// A value a field of this type can hold once the API has validated it (or null): the
/// typed columns hold only those; select and JSON fields hold any JSON.
fn field_value(field: &str) -> BoxedStrategy<Value> {
    let or_null = |values: BoxedStrategy<Value>| prop_oneof![1 => Just(Value::Null), 6 => values].boxed();
    match field {
        "title" | "owner" => or_null(text().prop_map(Value::String).boxed()),
        "n" => or_null(prop_oneof![(-20i64..20).prop_map(Value::from), number().prop_map(|n| json!(n))].boxed()),
        "flag" => or_null(any::<bool>().prop_map(Value::Bool).boxed()),
        _ => value().boxed(),
    }
}

fn record() -> impl Strategy<Value = Map<String, Value>> {
    (
        FIELDS.map(|field| prop::option::of(field_value(field))).to_vec(),
        0u8..4,
        "[a-z0-9]{15}",
    )
        .prop_map(|(values, day, id)| {
            let mut record = Map::new();
            record.insert("id".into(), json!(id));
            // Few distinct dates: ties must fall back to the id.
            record.insert("created".into(), json!(format!("2026-01-0{} 10:00:00.000Z", day + 1)));
            for (name, value) in FIELDS.iter().zip(values) {
                if let Some(value) = value {
                    record.insert((*name).into(), value);
                }
            }
            record
        })
}

fn identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["id", "created", "collectionName", "missing"]).prop_map(str::to_owned),
        2 => prop::sample::select(vec!["@request.auth.id", "@request.auth.name", "@request.auth.roles", "@request.body.x", "@request.method"])
            .prop_map(str::to_owned),
    ]
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        3 => identifier().prop_map(Operand::Identifier),
        2 => text().prop_map(Operand::Text),
        1 => number().prop_map(Operand::Number),
        1 => any::<bool>().prop_map(Operand::Bool),
        1 => Just(Operand::Null),
    ]
}

fn operator() -> impl Strategy<Value = Operator> {
    prop::sample::select(vec![
        Operator::Equal,
        Operator::NotEqual,
        Operator::Greater,
        Operator::GreaterOrEqual,
        Operator::Less,
        Operator::LessOrEqual,
        Operator::Like,
        Operator::NotLike,
    ])
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = (operand(), operator(), operand()).prop_map(|(l, op, r)| Expr::Compare(l, op, r));
    leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
        ]
    })
}

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        1 => Just(Rule::default()),
        4 => expr().prop_map(|e| Rule::parse(&e.to_string()).expect("a printed rule parses")),
    ]
}

fn sort() -> impl Strategy<Value = Vec<Sort>> {
    prop::collection::vec(
        (
            prop::sample::select(vec!["title", "n", "flag", "tags", "owner", "data", "id", "created"]),
            any::<bool>(),
        )
            .prop_map(|(field, descending)| Sort {
                field: field.into(),
                descending,
            }),
        0..3,
    )
}

fn auths() -> Vec<Option<Map<String, Value>>> {
    vec![
        None,
        Some(object(json!({"id": "u1", "name": "a", "roles": ["a", "b"]}))),
        Some(object(json!({"id": "5", "name": "", "roles": []}))),
    ]
}

fn ids(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("EDGEFS_SQL_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300)))]

    /// The heart of the store: what SQL selects and orders is what the evaluator does.
    #[test]
    fn sql_lists_what_the_evaluator_lists(
        records in prop::collection::vec(record(), 0..14),
        list_rule in rule(),
        filter in rule(),
        sort in sort(),
        per_page in 1usize..7,
        page in 1u64..4,
        skip_total in any::<bool>(),
    ) {
        let collections = things();
        let things = collections.get("things").unwrap();
        let store = store();
        block_on(async {
            for record in &records {
                store.put(things, &record.clone()).await.unwrap();
            }
            // The evaluator runs on the records as the store gives them back.
            let stored = store.all(things).await.unwrap();
            let query = ListQuery { page, per_page, sort: sort.clone(), filter: filter.clone(), skip_total };
            for auth in auths() {
                let context = Context { auth: auth.as_ref(), body: None, method: "GET", record: None };
                let expected = query.apply(stored.clone(), &context, |record| {
                    list_rule.allows(&Context { record: Some(record), ..context })
                });
                let got = store.list_page(things, &query, Some(&list_rule), &context).await.unwrap();
                prop_assert_eq!(
                    ids(&got.items), ids(&expected.items),
                    "rule {:?}, filter {:?}, sort {:?}, auth {:?}", list_rule.to_string(), filter.to_string(), sort, auth
                );
                prop_assert_eq!((got.total_items, got.total_pages), (expected.total_items, expected.total_pages));
                prop_assert_eq!(&got.items, &expected.items);
            }
            Ok(())
        })?;
    }
}

/// A collection like the bundled `documents`, for the deterministic tests.
fn documents() -> (Collections, Collection) {
    let collections = Collections::defaults();
    let documents = collections.get("documents").unwrap().clone();
    (collections, documents)
}

#[test]
fn records_round_trip_and_writes_are_compare_and_swap() {
    let (_, documents) = documents();
    let store = store();
    block_on(async {
        let record = object(
            json!({"id": "doc000000000001", "name": "a", "owner": "u1", "pages": 3, "files": ["x.txt"], "created": "2026-01-01 00:00:00.000Z"}),
        );
        store
            .put_if(&documents, &record, Some(WriteCondition::Absent))
            .await
            .unwrap();
        let (read, version) = store
            .get_versioned(&documents, "doc000000000001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read["name"], "a");
        assert_eq!(read["files"], json!(["x.txt"]));
        assert_eq!(read["collectionName"], "documents");
        let version = version.unwrap();
        assert!(
            store
                .put_if(&documents, &record, Some(WriteCondition::Absent))
                .await
                .unwrap_err()
                .is_conflict(),
            "creating an id that exists is a conflict"
        );
        let mut changed = read.clone();
        changed.insert("pages".into(), json!(4));
        store
            .put_if(&documents, &changed, Some(WriteCondition::Matches(version.clone())))
            .await
            .unwrap();
        assert!(
            store
                .put_if(&documents, &changed, Some(WriteCondition::Matches(version)))
                .await
                .unwrap_err()
                .is_conflict(),
            "a write on a version read before another write is a conflict"
        );
        assert_eq!(
            store.get(&documents, "doc000000000001").await.unwrap().unwrap()["pages"],
            4
        );
        assert_eq!(
            store.get(&documents, "../../etc").await.unwrap(),
            None,
            "ids never reach SQL unchecked"
        );
        store.delete(&documents, "doc000000000001").await.unwrap();
        assert_eq!(store.get(&documents, "doc000000000001").await.unwrap(), None);
        store.delete(&documents, "doc000000000001").await.unwrap();
    });
}

#[test]
fn a_value_of_the_wrong_type_for_its_column_is_refused_by_name_and_not_written() {
    let collections = things();
    let things = collections.get("things").unwrap();
    let store = store();
    block_on(async {
        let record = object(json!({"id": "thing0000000001", "title": "a", "n": "five"}));
        let error = store.put(things, &record).await.unwrap_err().to_string();
        assert!(error.contains("\"n\"") && error.contains("\"five\""), "{error}");
        assert_eq!(store.get(things, "thing0000000001").await.unwrap(), None);
        assert!(store.all(things).await.unwrap().is_empty());
    });
}

#[test]
fn the_view_rule_is_checked_in_the_query_that_reads_the_row() {
    let (_, documents) = documents();
    let store = store();
    block_on(async {
        let record = object(json!({"id": "doc000000000001", "name": "a", "owner": "u1"}));
        store.put(&documents, &record).await.unwrap();
        let edgefs::collections::Access::Rule(rule) = documents.view_rule.clone() else {
            unreachable!("documents have a view rule")
        };
        let owner = object(json!({"id": "u1"}));
        let other = object(json!({"id": "u2"}));
        let seen = store
            .get_allowed(
                &documents,
                "doc000000000001",
                Some(&rule),
                &Context {
                    auth: Some(&owner),
                    body: None,
                    method: "GET",
                    record: None,
                },
            )
            .await
            .unwrap();
        assert!(seen.is_some(), "the owner sees it");
        let hidden = store
            .get_allowed(
                &documents,
                "doc000000000001",
                Some(&rule),
                &Context {
                    auth: Some(&other),
                    body: None,
                    method: "GET",
                    record: None,
                },
            )
            .await
            .unwrap();
        assert!(hidden.is_none(), "another user does not");
    });
}

#[test]
fn an_import_alters_the_table_and_keeps_its_rows() {
    let before = Collections::from_values(vec![json!({
        "id": "pbc_notes", "name": "notes", "type": "base",
        "fields": [
            {"id": "f_title", "name": "title", "type": "text"},
            {"id": "f_body", "name": "body", "type": "text"},
            {"id": "f_old", "name": "old", "type": "text"}
        ]
    })])
    .unwrap();
    let after = Collections::from_values(vec![json!({
        "id": "pbc_notes", "name": "notes", "type": "base",
        "fields": [
            {"id": "f_title", "name": "heading", "type": "text"},
            {"id": "f_body", "name": "body", "type": "text"},
            {"id": "f_new", "name": "stars", "type": "number"}
        ]
    })])
    .unwrap();
    let store = store();
    block_on(async {
        store
            .sync(&Collections::from_values(vec![]).unwrap(), &before)
            .await
            .unwrap();
        let notes = before.get("notes").unwrap();
        store
            .put(
                notes,
                &object(json!({"id": "note00000000001", "title": "kept", "body": "text", "old": "gone"})),
            )
            .await
            .unwrap();
        store.sync(&before, &after).await.unwrap();
        let notes = after.get("notes").unwrap();
        let record = store.get(notes, "note00000000001").await.unwrap().unwrap();
        assert_eq!(record["heading"], "kept", "a renamed field keeps its values");
        assert_eq!(record["body"], "text");
        assert!(
            record.get("old").is_none() && record.get("title").is_none(),
            "a removed field's column is gone"
        );
        assert!(record.get("stars").is_none(), "a new field is empty");
        let mut starred = record.clone();
        starred.insert("stars".into(), json!(5));
        store.put(notes, &starred).await.unwrap();
        let query = ListQuery::from_params([("filter", "stars > 4 && heading = 'kept'")]).unwrap();
        let page = store.list_page(notes, &query, None, &Context::default()).await.unwrap();
        assert_eq!(page.total_items, 1);
        // A collection removed by the import (deleteMissing) takes its table with it.
        let empty = Collections::from_values(vec![]).unwrap();
        store.sync(&after, &empty).await.unwrap();
        store.ensure(notes).await.unwrap();
        assert!(
            store.get(notes, "note00000000001").await.unwrap().is_none(),
            "the old rows went with the table"
        );
    });
}

#[test]
fn a_collection_imported_before_the_database_existed_gets_its_table_on_first_use() {
    let (_, documents) = documents();
    let store = store();
    block_on(async {
        let page = store
            .list(&documents, &ListQuery::default(), None, &Context::default())
            .await
            .unwrap();
        assert_eq!(page.total_items, 0);
    });
}

/// Classic SQL injection strings as filter literals, sort-like text and ids: each is a
/// value bound to a parameter, so the table is unchanged and nothing else matches.
#[test]
fn injection_strings_are_values_never_sql() {
    let (_, documents) = documents();
    let store = store();
    let corpus = [
        "' OR '1'='1",
        "'; DROP TABLE \"edgefs:records:pbc_documents\"; --",
        "\" OR \"\"=\"",
        "1; DELETE FROM sqlite_master",
        "x') UNION SELECT name, sql FROM sqlite_master --",
        "%' OR 1=1 --",
        "\\'; SELECT 1; --",
        "admin'--",
        "' OR 1=1#",
        "1' AND SLEEP(5)#",
        "') OR ('a'='a",
        "\0'",
        "]]; DROP TABLE x; [[",
        "?1",
        "$1",
        ":name",
    ];
    block_on(async {
        for i in 0..3 {
            store
                .put(
                    &documents,
                    &object(json!({"id": format!("doc00000000000{i}"), "name": format!("n{i}"), "owner": "u1"})),
                )
                .await
                .unwrap();
        }
        for text in corpus {
            let quoted = text.replace('\\', "\\\\").replace('"', "\\\"");
            for filter in [
                format!("name = \"{quoted}\""),
                format!("name ~ \"{quoted}\""),
                format!("owner != \"{quoted}\" && name = \"{quoted}\""),
            ] {
                let query = ListQuery::from_params([("filter", filter.as_str())]).unwrap();
                let auth = object(json!({"id": text}));
                let rule = Rule::parse("owner = @request.auth.id").unwrap();
                let context = Context {
                    auth: Some(&auth),
                    body: None,
                    method: "GET",
                    record: None,
                };
                let page = store
                    .list_page(&documents, &query, Some(&rule), &context)
                    .await
                    .unwrap();
                assert_eq!(page.total_items, 0, "{filter}: matched nothing");
            }
            assert_eq!(store.get(&documents, text).await.unwrap(), None);
        }
        let all = store.all(&documents).await.unwrap();
        assert_eq!(all.len(), 3, "every record is still there, unchanged");
        assert!(all.iter().all(|r| r["owner"] == "u1"));
    });
}

#[test]
fn the_sqlite_under_test_has_what_the_store_needs() {
    // `->>` and json_each's `atom` came with SQLite 3.38; D1 runs a newer one.
    let version: Vec<u32> = Sqlite::version().split('.').map(|p| p.parse().unwrap()).collect();
    assert!(version >= vec![3, 38, 0], "SQLite {} is too old", Sqlite::version());
}
