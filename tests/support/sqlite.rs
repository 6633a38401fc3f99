//! SQLite itself (rusqlite, bundled) as a [`Database`]: the engine D1 runs, for the SQL
//! record store's tests.

use edgefs::error::Error;
use edgefs::records::sql::{Database, Outcome, SqlValue, Statement};
use edgefs::transport::BoxFuture;
use rusqlite::types::{Value as Cell, ValueRef};
use serde_json::{Map, Value};
use std::sync::Mutex;

/// An in-memory SQLite database.
pub struct Sqlite {
    connection: Mutex<rusqlite::Connection>,
}

impl Sqlite {
    pub fn new() -> Sqlite {
        Sqlite {
            connection: Mutex::new(rusqlite::Connection::open_in_memory().expect("SQLite opens in memory")),
        }
    }

    /// The SQLite version the tests run on.
    pub fn version() -> &'static str {
        rusqlite::version()
    }

    fn run(&self, statements: &[Statement]) -> Result<Vec<Outcome>, rusqlite::Error> {
        let mut connection = self.connection.lock().unwrap();
        let transaction = connection.transaction()?;
        let mut outcomes = Vec::new();
        for statement in statements {
            let params: Vec<Cell> = statement
                .params
                .iter()
                .map(|p| match p {
                    SqlValue::Null => Cell::Null,
                    SqlValue::Integer(i) => Cell::Integer(*i),
                    SqlValue::Real(f) => Cell::Real(*f),
                    SqlValue::Text(t) => Cell::Text(t.clone()),
                })
                .collect();
            let mut prepared = transaction.prepare(&statement.sql)?;
            if prepared.column_count() == 0 {
                let changes = prepared.execute(rusqlite::params_from_iter(params))? as u64;
                outcomes.push(Outcome {
                    rows: Vec::new(),
                    changes,
                });
                continue;
            }
            let names: Vec<String> = prepared.column_names().iter().map(|s| s.to_string()).collect();
            let mut rows = prepared.query(rusqlite::params_from_iter(params))?;
            let mut collected = Vec::new();
            while let Some(row) = rows.next()? {
                let mut object = Map::new();
                for (i, name) in names.iter().enumerate() {
                    let value = match row.get_ref(i)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(n) => Value::from(n),
                        ValueRef::Real(f) => serde_json::Number::from_f64(f)
                            .map(Value::Number)
                            .unwrap_or(Value::Null),
                        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(_) => Value::Null,
                    };
                    object.insert(name.clone(), value);
                }
                collected.push(object);
            }
            outcomes.push(Outcome {
                rows: collected,
                changes: 0,
            });
        }
        transaction.commit()?;
        Ok(outcomes)
    }
}

impl Database for Sqlite {
    fn batch<'a>(&'a self, statements: &'a [Statement]) -> BoxFuture<'a, Result<Vec<Outcome>, Error>> {
        Box::pin(async move {
            self.run(statements)
                .map_err(|e| Error::backend("sqlite", e.to_string()))
        })
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}
