//! The rules language as SQLite: a rule or filter, once the request's auth, body and
//! method are known, becomes a parameterized condition that holds for exactly the
//! records the in-memory evaluator (`rules::eval`) lets through; a `sort` becomes the
//! `ORDER BY` that orders them as `ListQuery::apply` does.
//!
//! Every column of a record table holds its field's value as JSON text (the table
//! layout is `schema`'s), so a value's type is known only when the row is read: each
//! comparison with a column becomes a `CASE` over `json_type`, and a multi-valued field
//! a `NOT EXISTS` over `json_each` (every element must hold, as in the evaluator).
//! Everything else — literals, `@request.*` — is known when the query is compiled: it
//! is resolved here and bound as a parameter, never spliced into the SQL text.
//!
//! Where SQLite and Rust could disagree, the evaluator's meaning is spelled out in SQL:
//! a text is a number only as `numbers::parse` reads one (after trimming Unicode
//! whitespace), `~` is `LIKE … ESCAPE` with `_` and `\` escaped and `%` as the only
//! wildcard, and `null` takes the other side's zero value. Numbers become text through
//! SQLite's formatting, which is `numbers::format`'s for integers and for decimals of
//! up to 15 significant digits between 10^-4 and 10^15; outside that, `~` and a
//! comparison of a number with a non-numeric text may differ from the evaluator.

use super::schema::ColumnKind;
use crate::collections::Collection;
use crate::records::Sort;
use crate::rules::{Context, Expr, Operand, Operator, Value};

/// A value bound to a statement's `?N` parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    /// `NULL`
    Null,
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// A text.
    Text(String),
}

/// One SQL statement and its parameters (`?1` is the first).
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// The SQL text: no value from a request is ever part of it.
    pub sql: String,
    /// The values of `?1`, `?2`…
    pub params: Vec<SqlValue>,
}

/// The alias of the record table in every query the compiler writes for.
pub const ROW: &str = "r";

/// The characters Rust's `str::trim` removes (Unicode `White_Space`), so that SQL trims
/// a text exactly as `as_number` does before parsing it.
const WHITESPACE: &str = "\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}";

/// `"name"`: an identifier, quoted (a `"` inside doubled).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SQL text of a record column, `r."name"`.
pub fn column(name: &str) -> String {
    format!("{ROW}.{}", quote(name))
}

/// Compiles conditions for one collection and one request; the parameters it binds
/// are shared by every condition it compiles (a query's `WHERE` and its `COUNT`).
pub struct Compiler<'a> {
    collection: &'a Collection,
    context: Context<'a>,
    params: Vec<SqlValue>,
    aliases: usize,
}

/// A value as the evaluator compares it, in SQL: its kind (0 null, 1 boolean, 2 number,
/// 3 text), the number `as_number` gives it (or `NULL`), the text `as_text` gives it.
struct Triple {
    kind: String,
    number: String,
    text: String,
}

/// One side of a comparison.
enum Side {
    /// Known now: a literal, `@request.*`, or a field the collection lacks.
    Known(Value),
    /// A column of plain values of one kind (or `NULL`): `id`, texts, numbers, booleans.
    Typed(String, ColumnKind),
    /// A column's JSON text: a scalar, or a list compared element by element.
    Json(String),
}

impl<'a> Compiler<'a> {
    /// A compiler for `collection`, with the request's auth, body and method in
    /// `context` (its `record` is ignored: the rows are the records).
    pub fn new(collection: &'a Collection, context: Context<'a>) -> Self {
        Compiler {
            collection,
            context: Context {
                record: None,
                ..context
            },
            params: Vec::new(),
            aliases: 0,
        }
    }

    /// The parameters bound so far, for the statements using the compiled SQL.
    pub fn params(&self) -> &[SqlValue] {
        &self.params
    }

    /// Binds a value: the text of its `?N` (an equal value bound before is reused).
    pub fn bind(&mut self, value: SqlValue) -> String {
        let same = |bound: &SqlValue| match (bound, &value) {
            (SqlValue::Real(a), SqlValue::Real(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a == b,
        };
        let index = match self.params.iter().position(same) {
            Some(index) => index,
            None => {
                self.params.push(value);
                self.params.len() - 1
            }
        };
        format!("?{}", index + 1)
    }

    /// A condition that holds for the rows the expression allows; `None` (the empty
    /// rule) is `1`.
    pub fn condition(&mut self, expr: Option<&Expr>) -> String {
        match expr {
            None => "1".to_owned(),
            Some(Expr::And(left, right)) => {
                format!("({} AND {})", self.condition(Some(left)), self.condition(Some(right)))
            }
            Some(Expr::Or(left, right)) => {
                format!("({} OR {})", self.condition(Some(left)), self.condition(Some(right)))
            }
            Some(Expr::Compare(left, op, right)) => {
                let (left, right) = (self.side(left), self.side(right));
                self.compare(&left, *op, &right)
            }
        }
    }

    /// The `ORDER BY` terms of `ListQuery::apply`'s order: each key by the rank of its
    /// JSON type (missing and `null`, booleans, numbers, texts, then lists and objects
    /// by their JSON), then by value; ties by `id`, the order records are listed in.
    pub fn order_by(&self, sort: &[Sort]) -> String {
        let default = crate::records::query::default_sort();
        let keys = if sort.is_empty() { &default[..] } else { sort };
        let mut terms = Vec::new();
        for key in keys {
            let direction = if key.descending { " DESC" } else { "" };
            match self.source(&key.field) {
                // The same for every row (a constant, a field the collection lacks).
                Side::Known(_) => {}
                Side::Json(c) => {
                    let rank = format!(
                        "(CASE json_type({c}) WHEN 'true' THEN 1 WHEN 'false' THEN 1 WHEN 'integer' THEN 2 \
                         WHEN 'real' THEN 2 WHEN 'text' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 4 ELSE 0 END)"
                    );
                    terms.push(format!("{rank}{direction}"));
                    terms.push(format!(
                        "(CASE WHEN {rank} IN (1, 2, 3) THEN {c} ->> '$' END){direction}"
                    ));
                    terms.push(format!("(CASE WHEN {rank} = 4 THEN {c} END){direction}"));
                }
                // Plain values: SQLite's order is the evaluator's (`NULL` first, then
                // false before true, numbers, texts byte by byte).
                Side::Typed(c, _) => terms.push(format!("{c}{direction}")),
            }
        }
        terms.push(format!("{} ASC", column("id")));
        terms.join(", ")
    }

    /// Where a record field's value comes from: `id` is a plain text column, every
    /// other field a JSON column; `collectionId`/`collectionName` are the collection's.
    fn source(&self, name: &str) -> Side {
        match name {
            "id" => Side::Typed(column("id"), ColumnKind::Text),
            "collectionId" => Side::Known(Value::Text(self.collection.id.clone())),
            "collectionName" => Side::Known(Value::Text(self.collection.name.clone())),
            _ if super::schema::has_column(self.collection, name) => {
                match super::schema::column_kind(self.collection, name) {
                    ColumnKind::Json => Side::Json(column(name)),
                    kind => Side::Typed(column(name), kind),
                }
            }
            _ => Side::Known(Value::Null),
        }
    }

    fn side(&self, operand: &Operand) -> Side {
        match operand {
            Operand::Identifier(name) if !name.starts_with('@') => self.source(name),
            other => Side::Known(self.context.resolve(other)),
        }
    }

    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("e{}", self.aliases)
    }

    /// `left op right`, with the evaluator's meaning: lists element by element (every
    /// pair must hold), then the scalars.
    fn compare(&mut self, left: &Side, op: Operator, right: &Side) -> String {
        match (left, right) {
            (Side::Known(Value::List(items)), _) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|v| self.compare(&Side::Known(v.clone()), op, right))
                    .collect();
                all(parts)
            }
            (_, Side::Known(Value::List(items))) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|v| self.compare(left, op, &Side::Known(v.clone())))
                    .collect();
                all(parts)
            }
            (Side::Known(a), Side::Known(b)) => bool_sql(crate::rules::compare(a, op, b)).to_owned(),
            // The common case, kept plain so that SQLite compares values directly.
            (Side::Typed(c, kind), Side::Known(v)) => self.typed_with_known(c, *kind, op, v, false),
            (Side::Known(v), Side::Typed(c, kind)) => self.typed_with_known(c, *kind, op, v, true),
            _ => {
                // A text's number matters only against a side that may be a number or a
                // boolean (the comparison is by text otherwise).
                let numeric_side = |side: &Side| !matches!(side, Side::Known(Value::Text(_) | Value::Null));
                let (left_needs, right_needs) = (numeric_side(right), numeric_side(left));
                let lefts = self.shapes(left, left_needs);
                let rights = self.shapes(right, right_needs);
                // Every combination of what each side turns out to be, in a CASE.
                let mut cases = Vec::new();
                let mut fallback = None;
                for (l_when, l_each, l) in &lefts {
                    for (r_when, r_each, r) in &rights {
                        let each: Vec<&String> = [l_each, r_each].into_iter().flatten().collect();
                        let formula = formula(l, op, r);
                        let answer = if each.is_empty() {
                            formula
                        } else {
                            let from: Vec<&str> = each.iter().map(|s| s.as_str()).collect();
                            format!("NOT EXISTS (SELECT 1 FROM {} WHERE NOT {formula})", from.join(", "))
                        };
                        let when: Vec<&String> = [l_when, r_when].into_iter().flatten().collect();
                        if when.is_empty() {
                            fallback = Some(answer);
                        } else {
                            let when: Vec<&str> = when.iter().map(|s| s.as_str()).collect();
                            cases.push(format!("WHEN {} THEN {answer}", when.join(" AND ")));
                        }
                    }
                }
                // The shapes of a side are ordered list-first, so a combination with no
                // list on either side (no condition) comes last.
                let fallback = fallback.unwrap_or_else(|| "0".into());
                if cases.is_empty() {
                    fallback
                } else {
                    format!("(CASE {} ELSE {fallback} END)", cases.join(" "))
                }
            }
        }
    }

    /// What a side may be: `(when, from, triple)` — for a column, a non-empty list (its
    /// elements, one `json_each` row at a time) when it holds one, a scalar otherwise.
    fn shapes(&mut self, side: &Side, needs_number: bool) -> Vec<(Option<String>, Option<String>, Triple)> {
        match side {
            Side::Known(value) => vec![(None, None, self.known(value))],
            Side::Typed(c, kind) => {
                let (code, scalar) = typed_scalar(c, *kind, needs_number);
                vec![(
                    None,
                    None,
                    Triple {
                        kind: format!("(CASE WHEN {c} IS NULL THEN 0 ELSE {code} END)"),
                        number: scalar.number.unwrap_or_else(|| "NULL".into()),
                        text: scalar.text,
                    },
                )]
            }
            Side::Json(c) => {
                let e = self.alias();
                let list = format!("json_type({c}) = 'array' AND json_array_length({c}) > 0");
                vec![
                    (
                        Some(list),
                        Some(format!("json_each({c}) AS {e}")),
                        typed(
                            &format!("{e}.type"),
                            &format!("{e}.atom"),
                            &format!("{e}.value"),
                            needs_number,
                            true,
                        ),
                    ),
                    // An empty list is `null` (a non-empty one took the shape above).
                    (
                        None,
                        None,
                        typed(
                            &format!("json_type({c})"),
                            &format!("({c} ->> '$')"),
                            c,
                            needs_number,
                            false,
                        ),
                    ),
                ]
            }
        }
    }

    /// A typed column compared with a known scalar (`known_left`: the scalar is the left
    /// side): `NULL` gives what the evaluator gives `null` (decided here), a value the
    /// evaluator's comparison of the two kinds, written for these kinds only.
    fn typed_with_known(&mut self, c: &str, kind: ColumnKind, op: Operator, value: &Value, known_left: bool) -> String {
        let when_null = if known_left {
            crate::rules::compare(value, op, &Value::Null)
        } else {
            crate::rules::compare(&Value::Null, op, value)
        };
        let known_kind = match value {
            Value::Null | Value::List(_) => None,
            Value::Bool(_) => Some(ColumnKind::Bool),
            Value::Number(_) => Some(ColumnKind::Number),
            Value::Text(_) => Some(ColumnKind::Text),
        };
        let numeric = [Some(kind), known_kind]
            .iter()
            .any(|k| matches!(k, Some(ColumnKind::Number | ColumnKind::Bool)));
        let (_, column) = typed_scalar(c, kind, numeric);
        // The known side's number and text, bound only where the SQL uses them (SQLite
        // counts parameters by the highest one used: an unused one is an error).
        let (known_number, known_text) = match value {
            // `null` takes the column's zero value.
            Value::Null => match kind {
                ColumnKind::Number => (Some(Lit::Code("0")), Lit::Code("'0'")),
                ColumnKind::Bool => (Some(Lit::Code("0")), Lit::Code("'false'")),
                ColumnKind::Text | ColumnKind::Json => (None, Lit::Code("''")),
            },
            Value::Bool(b) => (
                Some(Lit::Code(bool_sql(*b))),
                Lit::Code(if *b { "'true'" } else { "'false'" }),
            ),
            Value::Number(n) => (
                Some(Lit::Value(SqlValue::Real(*n))),
                Lit::Value(SqlValue::Text(crate::rules::as_text(value))),
            ),
            Value::Text(t) => (
                crate::rules::as_number(value).map(|n| Lit::Value(SqlValue::Real(n))),
                Lit::Value(SqlValue::Text(t.clone())),
            ),
            Value::List(_) => (None, Lit::Code("''")),
        };
        let ordered = |known: String, column: String| if known_left { (known, column) } else { (column, known) };
        let compared = match op {
            Operator::Like | Operator::NotLike => {
                let found = if known_left {
                    let text = self.lit(&known_text);
                    like(&text, &column.text)
                } else {
                    // The pattern made here and bound: SQLite then matches directly.
                    let pattern = match (value, kind) {
                        // `null` is the column's zero value, as above.
                        (Value::Null, ColumnKind::Number) => "0".to_owned(),
                        (Value::Null, ColumnKind::Bool) => "false".to_owned(),
                        (other, _) => crate::rules::as_text(other),
                    };
                    let pattern = self.bind(SqlValue::Text(like_pattern(&pattern)));
                    format!("({} LIKE {pattern} ESCAPE '\\')", column.text)
                };
                if op == Operator::Like {
                    found
                } else {
                    format!("(NOT {found})")
                }
            }
            _ => {
                let symbol = sql_operator(op);
                match (numeric, &column.number, &known_number) {
                    (true, Some(number), Some(known)) if kind != ColumnKind::Text => {
                        let (a, b) = ordered(self.lit(known), number.clone());
                        format!("({a} {symbol} {b})")
                    }
                    // A text column's number exists only for texts that read as one.
                    (true, Some(_), Some(known)) => {
                        let n = number_of_text(c);
                        let (a, b) = ordered(self.lit(known), n.clone());
                        let (ta, tb) = ordered(self.lit(&known_text), column.text.clone());
                        format!("(CASE WHEN {n} IS NOT NULL THEN {a} {symbol} {b} ELSE ({ta} {symbol} {tb}) END)")
                    }
                    _ => {
                        let (ta, tb) = ordered(self.lit(&known_text), column.text.clone());
                        format!("({ta} {symbol} {tb})")
                    }
                }
            }
        };
        if c == self::column("id") {
            compared // never NULL
        } else if when_null {
            format!("({c} IS NULL OR {compared})")
        } else {
            format!("({c} IS NOT NULL AND {compared})")
        }
    }

    /// The SQL of a literal: its code, or its value bound.
    fn lit(&mut self, lit: &Lit) -> String {
        match lit {
            Lit::Code(code) => (*code).to_owned(),
            Lit::Value(value) => self.bind(value.clone()),
        }
    }

    /// A known scalar (lists were expanded before), bound.
    fn known(&mut self, value: &Value) -> Triple {
        match value {
            Value::Null | Value::List(_) => Triple {
                kind: "0".into(),
                number: "NULL".into(),
                text: "''".into(),
            },
            Value::Bool(b) => Triple {
                kind: "1".into(),
                number: bool_sql(*b).into(),
                text: if *b { "'true'" } else { "'false'" }.into(),
            },
            Value::Number(n) => Triple {
                kind: "2".into(),
                number: self.bind(SqlValue::Real(*n)),
                text: self.bind(SqlValue::Text(crate::rules::as_text(value))),
            },
            Value::Text(t) => Triple {
                kind: "3".into(),
                number: match crate::rules::as_number(value) {
                    Some(n) => self.bind(SqlValue::Real(n)),
                    None => "NULL".into(),
                },
                text: self.bind(SqlValue::Text(t.clone())),
            },
        }
    }
}

/// A known value's part: SQL code, or a value to bind when it is used.
enum Lit {
    Code(&'static str),
    Value(SqlValue),
}

/// A scalar's number (if it may have one) and text, in SQL.
struct Plain {
    number: Option<String>,
    text: String,
}

/// A typed column's kind code and, when not `NULL`, its number and text; a text's
/// number is computed only if `needs_number` (and is `NULL` for a text that is none).
fn typed_scalar(c: &str, kind: ColumnKind, needs_number: bool) -> (&'static str, Plain) {
    match kind {
        ColumnKind::Bool => (
            "1",
            Plain {
                number: Some(c.to_owned()),
                text: format!("(CASE {c} WHEN 1 THEN 'true' ELSE 'false' END)"),
            },
        ),
        ColumnKind::Number => (
            "2",
            Plain {
                number: Some(c.to_owned()),
                text: format!("CAST({c} AS TEXT)"),
            },
        ),
        ColumnKind::Text | ColumnKind::Json => (
            "3",
            Plain {
                number: needs_number.then(|| number_of_text(c)),
                text: c.to_owned(),
            },
        ),
    }
}

/// The evaluator's `like` pattern as SQL LIKE's: `_` and `\` escaped, `%` kept, and a
/// pattern without `%` matching anywhere.
fn like_pattern(pattern: &str) -> String {
    let escaped = pattern.replace('\\', "\\\\").replace('_', "\\_");
    if pattern.contains('%') {
        escaped
    } else {
        format!("%{escaped}%")
    }
}

/// The triple of a JSON value whose `json_type` is `kind`, whose SQL value is `atom`
/// and whose JSON text is `json` (a column, or a `json_each` row: a nested list or
/// object is its JSON text, as `rules::Value::element` has it; a column's list here is
/// the empty one, `null`).
fn typed(kind: &str, atom: &str, json: &str, needs_number: bool, element: bool) -> Triple {
    let text_number = if needs_number {
        number_of_text(atom)
    } else {
        "NULL".into()
    };
    let (list_kind, list_text) = if element { ("3", json) } else { ("0", "''") };
    Triple {
        kind: format!(
            "(CASE {kind} WHEN 'true' THEN 1 WHEN 'false' THEN 1 WHEN 'integer' THEN 2 WHEN 'real' THEN 2 \
             WHEN 'text' THEN 3 WHEN 'array' THEN {list_kind} WHEN 'object' THEN 3 ELSE 0 END)"
        ),
        number: format!(
            "(CASE {kind} WHEN 'true' THEN 1 WHEN 'false' THEN 0 WHEN 'integer' THEN {atom} WHEN 'real' THEN {atom} \
             WHEN 'text' THEN {text_number} END)"
        ),
        text: format!(
            "(CASE {kind} WHEN 'text' THEN {atom} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
             WHEN 'integer' THEN CAST({atom} AS TEXT) WHEN 'real' THEN CAST({atom} AS TEXT) \
             WHEN 'array' THEN {list_text} WHEN 'object' THEN {json} ELSE '' END)"
        ),
    }
}

fn bool_sql(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

fn all(parts: Vec<String>) -> String {
    if parts.is_empty() {
        "1".to_owned()
    } else {
        format!("({})", parts.join(" AND "))
    }
}

fn sql_operator(op: Operator) -> &'static str {
    match op {
        Operator::Equal => "=",
        Operator::NotEqual => "<>",
        Operator::Greater => ">",
        Operator::GreaterOrEqual => ">=",
        Operator::Less => "<",
        Operator::LessOrEqual => "<=",
        Operator::Like | Operator::NotLike => unreachable!("LIKE is compiled apart"),
    }
}

/// The evaluator's `scalar` over two triples, each computed once: `null` takes the
/// other side's zero value; `~` is LIKE; numbers when either side is a number or a
/// boolean and both read as numbers; otherwise the texts, byte by byte.
fn formula(left: &Triple, op: Operator, right: &Triple) -> String {
    let answer = match op {
        Operator::Like => like("t1", "t2"),
        Operator::NotLike => format!("(NOT {})", like("t1", "t2")),
        _ => {
            let symbol = sql_operator(op);
            format!(
                "(CASE WHEN (k1 IN (1, 2) OR k2 IN (1, 2)) AND n1 IS NOT NULL AND n2 IS NOT NULL \
                 THEN n1 {symbol} n2 ELSE t1 {symbol} t2 END)"
            )
        }
    };
    let zero = |k: &str, n: &str, t: &str, other: &str, suffix: &str| {
        format!(
            "CASE WHEN {k} = 0 THEN (CASE WHEN {other} IN (1, 2) THEN {other} ELSE 3 END) ELSE {k} END AS k{suffix}, \
             CASE WHEN {k} = 0 THEN (CASE WHEN {other} IN (1, 2) THEN 0 END) ELSE {n} END AS n{suffix}, \
             CASE WHEN {k} = 0 THEN (CASE {other} WHEN 1 THEN 'false' WHEN 2 THEN '0' ELSE '' END) ELSE {t} END AS t{suffix}"
        )
    };
    format!(
        "(SELECT {answer} FROM (SELECT {}, {} FROM (SELECT {} AS lk, {} AS ln, {} AS lt, {} AS rk, {} AS rn, {} AS rt)))",
        zero("lk", "ln", "lt", "rk", "1"),
        zero("rk", "rn", "rt", "lk", "2"),
        left.kind,
        left.number,
        left.text,
        right.kind,
        right.number,
        right.text
    )
}

/// The evaluator's `like`: case-insensitive for ASCII (SQLite's LIKE), `%` the only
/// wildcard, and a pattern without one matches anywhere.
fn like(text: &str, pattern: &str) -> String {
    let escaped = format!("replace(replace({pattern}, '\\', '\\\\'), '_', '\\_')");
    format!(
        "({text} LIKE (CASE WHEN instr({pattern}, '%') = 0 THEN '%' || {escaped} || '%' ELSE {escaped} END) ESCAPE '\\')"
    )
}

/// The number `numbers::parse` reads in `text` once trimmed, or `NULL`: an optional
/// sign, digits with at most one point (at least one digit), an optional exponent of
/// digits with an optional sign, within `f64`'s range.
fn number_of_text(text: &str) -> String {
    format!(
        "(SELECT CASE WHEN m GLOB '*[0-9]*' AND m NOT GLOB '*[^0-9.]*' AND m NOT GLOB '*.*.*' \
         AND (p = 0 OR (x <> '' AND x NOT GLOB '*[^0-9]*')) \
         AND abs(CAST(s AS REAL)) <= 1.7976931348623157e308 THEN CAST(s AS REAL) END \
         FROM (SELECT s, p, CASE WHEN p > 0 THEN substr(u, 1, p - 1) ELSE u END AS m, \
         CASE WHEN p > 0 THEN (CASE WHEN substr(u, p + 1, 1) IN ('+', '-') THEN substr(u, p + 2) ELSE substr(u, p + 1) END) \
         ELSE '' END AS x \
         FROM (SELECT s, u, instr(lower(u), 'e') AS p \
         FROM (SELECT s, CASE WHEN substr(s, 1, 1) IN ('+', '-') THEN substr(s, 2) ELSE s END AS u \
         FROM (SELECT trim({text}, '{WHITESPACE}') AS s)))))"
    )
}
