//! Records in SQLite (Cloudflare D1 in the Worker): a table per collection, and lists,
//! filters, sorts and pages answered by one query each, with the collection's rules
//! compiled into it.
//!
//! The database is reached through [`Database`], one method that runs statements in a
//! transaction, so this module is plain Rust: the Worker implements it over a D1
//! binding, tests over SQLite itself.

pub mod compile;
pub mod schema;

pub use compile::{Compiler, SqlValue, Statement};

use super::{valid_id, ListQuery, ListResult, Record, RecordStore, Versioned};
use crate::collections::{Collection, Collections};
use crate::error::Error;
use crate::rules::{Context, Rule};
use crate::storage::WriteCondition;
use crate::transport::{BoxFuture, MaybeSendSync};
use compile::{column, quote, ROW};
use serde_json::{Map, Value};

/// What a statement of a batch gave: the rows it selected, the rows it changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Each row: its columns by name, as JSON (`NULL` is `null`).
    pub rows: Vec<Map<String, Value>>,
    /// How many rows an `INSERT`, `UPDATE` or `DELETE` changed.
    pub changes: u64,
}

/// A SQLite database.
pub trait Database: MaybeSendSync {
    /// Runs the statements in order in one transaction (all or none: D1's `batch`), and
    /// gives each one's outcome.
    fn batch<'a>(&'a self, statements: &'a [Statement]) -> BoxFuture<'a, Result<Vec<Outcome>, Error>>;

    /// The name errors give (`d1`, `sqlite`).
    fn name(&self) -> &'static str;
}

/// The most parameters a D1 query may bind.
pub const MAX_PARAMETERS: usize = 100;
/// The longest SQL statement D1 runs, in bytes.
pub const MAX_SQL_LENGTH: usize = 100_000;

/// Records in a [`Database`], one table per collection.
pub struct SqlRecords<D> {
    db: D,
}

impl<D: AsRef<dyn Database> + MaybeSendSync> SqlRecords<D> {
    /// Records kept in `db` (its tables are made by [`SqlRecords::sync`] or on first use).
    pub fn new(db: D) -> Self {
        SqlRecords { db }
    }

    fn db(&self) -> &dyn Database {
        self.db.as_ref()
    }

    /// Runs statements; a table or column that is missing (a collection imported before
    /// the database was bound, a migration that did not finish) is made, and the
    /// statements run once more.
    async fn run(&self, collection: &Collection, statements: &[Statement]) -> Result<Vec<Outcome>, Error> {
        match self.db().batch(statements).await {
            Err(e) if missing_schema(&e) => {
                self.ensure(collection).await?;
                self.db().batch(statements).await
            }
            other => other,
        }
    }

    /// Makes the collection's table and any column it lacks.
    pub async fn ensure(&self, collection: &Collection) -> Result<(), Error> {
        self.migrate(None, collection).await
    }

    async fn migrate(&self, before: Option<&Collection>, after: &Collection) -> Result<(), Error> {
        self.db().batch(&schema::create(after)).await?;
        let info = self.db().batch(&[schema::table_info(after)]).await?;
        let existing: Vec<String> = info
            .first()
            .map(|outcome| {
                outcome
                    .rows
                    .iter()
                    .filter_map(|row| row.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let alter = schema::alter(before, after, &existing);
        if !alter.is_empty() {
            self.db().batch(&alter).await?;
        }
        Ok(())
    }

    /// Follows a collections import: tables for new collections, columns added,
    /// renamed and removed, tables of removed collections dropped.
    pub async fn sync(&self, before: &Collections, after: &Collections) -> Result<(), Error> {
        for collection in after.iter() {
            self.migrate(before.get(&collection.id), collection).await?;
        }
        let dropped = schema::drop_removed(before, after);
        if !dropped.is_empty() {
            self.db().batch(&dropped).await?;
        }
        Ok(())
    }

    /// A page of the collection's records that pass `rule` (the list rule; `None` for a
    /// superuser) and the query's filter, in its order: one query for the page and one
    /// for the total (none with `skipTotal`), in one transaction.
    pub async fn list_page(
        &self,
        collection: &Collection,
        query: &ListQuery,
        rule: Option<&Rule>,
        context: &Context<'_>,
    ) -> Result<ListResult, Error> {
        let mut compiler = Compiler::new(collection, *context);
        let allowed = compiler.condition(rule.and_then(Rule::expr));
        let filter = compiler.condition(query.filter.expr());
        let order = compiler.order_by(&query.sort);
        let condition = format!("{allowed} AND {filter}");
        let per_page = query.per_page.max(1) as u64;
        let offset = query
            .page
            .saturating_sub(1)
            .saturating_mul(per_page)
            .min(i64::MAX as u64);
        let page = format!(
            "SELECT {} FROM {} AS {ROW} WHERE {condition} ORDER BY {order} LIMIT {per_page} OFFSET {offset}",
            select_list(collection),
            schema::table(collection)
        );
        let mut statements = vec![checked(page, compiler.params())?];
        if !query.skip_total {
            let count = format!(
                "SELECT COUNT(*) AS total FROM {} AS {ROW} WHERE {condition}",
                schema::table(collection)
            );
            statements.push(checked(count, compiler.params())?);
        }
        let outcomes = self.run(collection, &statements).await?;
        let items = outcomes
            .first()
            .map(|o| o.rows.iter().map(|row| record_of(collection, row).0).collect())
            .unwrap_or_default();
        let (total_items, total_pages) = if query.skip_total {
            (-1, -1)
        } else {
            let total = outcomes
                .get(1)
                .and_then(|o| o.rows.first())
                .and_then(|row| row.get("total"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            (total, (total as u64).div_ceil(per_page) as i64)
        };
        Ok(ListResult {
            page: query.page,
            per_page: query.per_page,
            total_items,
            total_pages,
            items,
        })
    }

    /// The record `id` and its version if `rule` (`None`: no rule) lets the caller see
    /// it: the rule is checked in the query that reads the row.
    pub async fn get_allowed(
        &self,
        collection: &Collection,
        id: &str,
        rule: Option<&Rule>,
        context: &Context<'_>,
    ) -> Result<Option<Versioned>, Error> {
        if !valid_id(id) {
            return Ok(None);
        }
        let mut compiler = Compiler::new(collection, *context);
        let allowed = compiler.condition(rule.and_then(Rule::expr));
        let id_param = compiler.bind(SqlValue::Text(id.to_owned()));
        let sql = format!(
            "SELECT {} FROM {} AS {ROW} WHERE {} = {id_param} AND {allowed}",
            select_list(collection),
            schema::table(collection),
            column("id")
        );
        let statement = checked(sql, compiler.params())?;
        let outcomes = self.run(collection, std::slice::from_ref(&statement)).await?;
        Ok(outcomes
            .first()
            .and_then(|o| o.rows.first())
            .map(|row| record_of(collection, row))
            .map(|(record, version)| (record, Some(version))))
    }
}

/// A statement within D1's limits, or a clear error naming the limit.
fn checked(sql: String, params: &[SqlValue]) -> Result<Statement, Error> {
    if params.len() > MAX_PARAMETERS {
        return Err(Error::InvalidInput(format!(
            "the filter and rule need {} values, more than the {MAX_PARAMETERS} a D1 query may bind: use fewer literals",
            params.len()
        )));
    }
    if sql.len() > MAX_SQL_LENGTH {
        return Err(Error::InvalidInput(format!(
            "the filter compiles to {} bytes of SQL, more than D1's {MAX_SQL_LENGTH}: use fewer comparisons",
            sql.len()
        )));
    }
    Ok(Statement {
        sql,
        params: params.to_vec(),
    })
}

fn missing_schema(error: &Error) -> bool {
    let text = error.to_string();
    text.contains("no such table") || text.contains("no such column") || text.contains("has no column")
}

fn select_list(collection: &Collection) -> String {
    let mut names = vec![column("id"), column(schema::VERSION)];
    names.extend(schema::columns(collection).iter().map(|c| column(c)));
    names.join(", ")
}

/// A row as PocketBase's record JSON, and its version as a quoted ETag.
fn record_of(collection: &Collection, row: &Map<String, Value>) -> (Record, String) {
    let mut record = Record::new();
    record.insert("id".into(), row.get("id").cloned().unwrap_or(Value::Null));
    record.insert("collectionId".into(), Value::String(collection.id.clone()));
    record.insert("collectionName".into(), Value::String(collection.name.clone()));
    for name in schema::columns(collection) {
        let kind = schema::column_kind(collection, &name);
        if let Some(value) = row.get(&name).and_then(|cell| schema::field_value(kind, cell)) {
            record.insert(name, value);
        }
    }
    let version = row.get(schema::VERSION).and_then(Value::as_i64).unwrap_or(0);
    (record, format!("\"{version}\""))
}

/// The version a quoted ETag names (`"3"` is 3).
fn version_of(etag: &str) -> Option<i64> {
    etag.trim_matches('"').parse().ok()
}

impl<D: AsRef<dyn Database> + MaybeSendSync> RecordStore for SqlRecords<D> {
    fn get<'a>(&'a self, collection: &'a Collection, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, Error>> {
        Box::pin(async move {
            Ok(self
                .get_allowed(collection, id, None, &Context::default())
                .await?
                .map(|(record, _)| record))
        })
    }

    fn get_versioned<'a>(
        &'a self,
        collection: &'a Collection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Versioned>, Error>> {
        Box::pin(async move { self.get_allowed(collection, id, None, &Context::default()).await })
    }

    fn put_if<'a>(
        &'a self,
        collection: &'a Collection,
        record: &'a Record,
        condition: Option<WriteCondition>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let id = record.get("id").and_then(Value::as_str).unwrap_or_default();
            if !valid_id(id) {
                return Err(Error::InvalidInput(format!(
                    "invalid record id {}",
                    crate::error::Quoted(id)
                )));
            }
            let table = schema::table(collection);
            let columns = schema::columns(collection);
            let mut params = vec![SqlValue::Text(id.to_owned())];
            for name in &columns {
                let kind = schema::column_kind(collection, name);
                params.push(schema::cell(kind, name, record.get(name)).map_err(Error::InvalidInput)?);
            }
            let names: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            let placeholders: Vec<String> = (2..=columns.len() + 1).map(|i| format!("?{i}")).collect();
            let assignments: Vec<String> = names
                .iter()
                .zip(&placeholders)
                .map(|(name, p)| format!("{name} = {p}"))
                .collect();
            let version = quote(schema::VERSION);
            let insert = format!(
                "INSERT INTO {table} (\"id\", {}) VALUES (?1, {})",
                names.join(", "),
                placeholders.join(", ")
            );
            let sql = match &condition {
                None => format!(
                    "{insert} ON CONFLICT(\"id\") DO UPDATE SET {}, {version} = {version} + 1",
                    assignments.join(", ")
                ),
                Some(WriteCondition::Absent) => format!("{insert} ON CONFLICT(\"id\") DO NOTHING"),
                Some(WriteCondition::Matches(etag)) => {
                    params.push(SqlValue::Integer(version_of(etag).unwrap_or(-1)));
                    format!(
                        "UPDATE {table} SET {}, {version} = {version} + 1 WHERE \"id\" = ?1 AND {version} = ?{}",
                        assignments.join(", "),
                        params.len()
                    )
                }
            };
            let outcomes = self.run(collection, &[Statement { sql, params }]).await?;
            let changed = outcomes.first().map(|o| o.changes).unwrap_or(0);
            if condition.is_some() && changed == 0 {
                return Err(Error::Conflict {
                    backend: self.db().name(),
                    key: format!("{}/{id}", collection.id),
                });
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, collection: &'a Collection, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let statement = Statement {
                sql: format!("DELETE FROM {} WHERE \"id\" = ?1", schema::table(collection)),
                params: vec![SqlValue::Text(id.to_owned())],
            };
            self.run(collection, std::slice::from_ref(&statement)).await?;
            Ok(())
        })
    }

    fn conditional_writes(&self) -> bool {
        true
    }

    fn list<'a>(
        &'a self,
        collection: &'a Collection,
        query: &'a ListQuery,
        rule: Option<&'a Rule>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<ListResult, Error>> {
        Box::pin(self.list_page(collection, query, rule, context))
    }

    fn all<'a>(&'a self, collection: &'a Collection) -> BoxFuture<'a, Result<Vec<Record>, Error>> {
        Box::pin(async move {
            let statement = Statement {
                sql: format!(
                    "SELECT {} FROM {} AS {ROW} ORDER BY {} ASC",
                    select_list(collection),
                    schema::table(collection),
                    column("id")
                ),
                params: Vec::new(),
            };
            let outcomes = self.run(collection, std::slice::from_ref(&statement)).await?;
            Ok(outcomes
                .first()
                .map(|o| o.rows.iter().map(|row| record_of(collection, row).0).collect())
                .unwrap_or_default())
        })
    }
}
