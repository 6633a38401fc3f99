//! PocketBase's list parameters: `page`, `perPage` (30 by default, at most 1000),
//! `sort` (`-created,title`), `filter` (the rules language) and `skipTotal`.

use super::Record;
use crate::error::Quoted;
use crate::rules::{Context, Rule};
use serde::Serialize;
use serde_json::Value;
use std::cmp::Ordering;

pub const DEFAULT_PER_PAGE: usize = 30;
pub const MAX_PER_PAGE: usize = 1000;
/// PocketBase's `MaxFilterLength`: a longer `filter` is a 400.
pub const MAX_FILTER_LENGTH: usize = 3500;
/// PocketBase's `DefaultSortExprLimit` and `MaxSortFieldLength`.
pub const MAX_SORT_FIELDS: usize = 8;
pub const MAX_SORT_FIELD_LENGTH: usize = 255;

/// One `sort` key: `-created` is `created`, descending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sort {
    /// The field to sort by.
    pub field: String,
    /// Largest first.
    pub descending: bool,
}

/// A listing's parameters, as PocketBase reads them from the query string. The default
/// is page 1 of 30 records, by `created` then `id`, unfiltered.
#[derive(Clone, Debug)]
pub struct ListQuery {
    /// 64 bits on every target: `page=4294967296` is a page, not page 0 (wasm32's
    /// `usize` is 32 bits).
    pub page: u64,
    /// Records per page: 1 to 1000.
    pub per_page: usize,
    /// Sort keys, first the most significant; empty sorts by `created`, then `id`.
    pub sort: Vec<Sort>,
    /// The `filter`, in the rules language; the empty rule keeps every record.
    pub filter: Rule,
    /// Leave out the totals (they are -1), as PocketBase's `skipTotal` does.
    pub skip_total: bool,
}

/// A page, in PocketBase's shape; with `skipTotal` the totals are -1.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ListResult {
    /// The page, from 1.
    pub page: u64,
    /// Records per page.
    pub per_page: usize,
    /// Records that match, over all pages; -1 with `skipTotal`.
    pub total_items: i64,
    /// Pages that hold them; -1 with `skipTotal`.
    pub total_pages: i64,
    /// The records of this page.
    pub items: Vec<Record>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            sort: Vec::new(),
            filter: Rule::default(),
            skip_total: false,
        }
    }
}

/// `perPage` as PocketBase reads it: zero and negatives are the default, at most 1000.
pub fn page_size(requested: i64) -> usize {
    if requested <= 0 {
        DEFAULT_PER_PAGE
    } else {
        requested.min(MAX_PER_PAGE as i64) as usize
    }
}

/// The items of page `page` (from 1) of `per_page`, as a range of `0..total`.
pub fn page_range(page: u64, per_page: usize, total: usize) -> std::ops::Range<usize> {
    let start = page.saturating_sub(1).saturating_mul(per_page as u64).min(total as u64) as usize;
    start..start.saturating_add(per_page).min(total)
}

/// An integer query parameter; an empty one is 0.
fn whole(value: &str) -> Result<i64, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(0);
    }
    value
        .parse::<i64>()
        .map_err(|_| format!("{value} is not a whole number", value = Quoted(value)))
}

impl ListQuery {
    /// Reads the query parameters; a filter or sort that does not parse is an error
    /// (PocketBase answers it with a 400).
    pub fn from_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<ListQuery, String> {
        let mut query = ListQuery::default();
        for (name, value) in params {
            match name {
                // As PocketBase: a number that is not an integer (or overflows) is a 400;
                // zero and negatives fall back to the defaults.
                "page" => query.page = whole(value)?.max(1) as u64,
                // Clamped while still 64 bits: `n as usize` first would truncate on wasm32.
                "perPage" => query.per_page = page_size(whole(value)?),
                "skipTotal" => query.skip_total = matches!(value.trim(), "1" | "true" | "t" | "TRUE" | "True"),
                "filter" => {
                    if value.len() > MAX_FILTER_LENGTH {
                        return Err(format!("the filter is longer than {MAX_FILTER_LENGTH} bytes"));
                    }
                    query.filter = Rule::parse(value).map_err(|e| format!("invalid filter: {e}"))?
                }
                "sort" => query.sort = parse_sort(value)?,
                _ => {}
            }
        }
        Ok(query)
    }

    /// Filters (with the caller's `context` for `@request.*`), sorts and pages.
    /// `allowed` is the collection's list rule, already decided per record.
    pub fn apply(&self, records: Vec<Record>, context: &Context<'_>, allowed: impl Fn(&Record) -> bool) -> ListResult {
        let mut matching: Vec<Record> = records
            .into_iter()
            .filter(|record| {
                allowed(record)
                    && self.filter.allows(&Context {
                        record: Some(record),
                        ..*context
                    })
            })
            .collect();
        let sort = if self.sort.is_empty() {
            default_sort()
        } else {
            self.sort.clone()
        };
        crate::sorting::sort_by(&mut matching, |a, b| {
            for key in &sort {
                let ordering = compare(a.get(&key.field), b.get(&key.field));
                let ordering = if key.descending { ordering.reverse() } else { ordering };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            Ordering::Equal
        });
        let total = matching.len();
        let range = page_range(self.page, self.per_page, total);
        let items: Vec<Record> = matching.into_iter().skip(range.start).take(range.len()).collect();
        let (total_items, total_pages) = if self.skip_total {
            (-1, -1)
        } else {
            (total as i64, total.div_ceil(self.per_page.max(1)) as i64)
        };
        ListResult {
            page: self.page,
            per_page: self.per_page,
            total_items,
            total_pages,
            items,
        }
    }
}

fn parse_sort(value: &str) -> Result<Vec<Sort>, String> {
    let mut sort = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if sort.len() == MAX_SORT_FIELDS {
            return Err(format!("more than {MAX_SORT_FIELDS} sort fields"));
        }
        let (descending, field) = match part.strip_prefix('-') {
            Some(field) => (true, field),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        if field.is_empty()
            || field.len() > MAX_SORT_FIELD_LENGTH
            || !field.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(format!("invalid sort field {field}", field = Quoted(field)));
        }
        sort.push(Sort {
            field: field.to_owned(),
            descending,
        });
    }
    Ok(sort)
}

/// Missing and null first, then booleans, numbers, text; lists and objects by their JSON.
fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(value: Option<&Value>) -> u8 {
        match value {
            None | Some(Value::Null) => 0,
            Some(Value::Bool(_)) => 1,
            Some(Value::Number(_)) => 2,
            Some(Value::String(_)) => 3,
            _ => 4,
        }
    }
    match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(x), Some(y)) if rank(a) == 4 && rank(b) == 4 => x.to_string().cmp(&y.to_string()),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// The order of a list that asks for none: by creation, then by id.
pub(crate) fn default_sort() -> Vec<Sort> {
    ["created", "id"]
        .map(|field| Sort {
            field: field.into(),
            descending: false,
        })
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records() -> Vec<Record> {
        (1..=7)
            .map(|i| {
                crate::collections::object(json!({
                    "id": format!("id{i}"), "title": format!("post {}", 8 - i), "n": i % 3, "owner": if i % 2 == 0 { "u1" } else { "u2" },
                    "created": format!("2024-01-0{i} 00:00:00.000Z"),
                }))
            })
            .collect()
    }

    fn ids(result: &ListResult) -> Vec<&str> {
        result.items.iter().map(|r| r["id"].as_str().unwrap()).collect()
    }

    #[test]
    fn pages_sorts_and_filters() {
        let query = ListQuery::from_params([("perPage", "3"), ("page", "2")]).unwrap();
        let result = query.apply(records(), &Context::default(), |_| true);
        assert_eq!(ids(&result), ["id4", "id5", "id6"]);
        assert_eq!((result.total_items, result.total_pages), (7, 3));

        let query = ListQuery::from_params([("sort", "-n,title")]).unwrap();
        assert_eq!(
            ids(&query.apply(records(), &Context::default(), |_| true)),
            ["id5", "id2", "id7", "id4", "id1", "id6", "id3"]
        );

        let query = ListQuery::from_params([("filter", "n >= 1 && title ~ 'post'"), ("skipTotal", "1")]).unwrap();
        let result = query.apply(records(), &Context::default(), |r| r["owner"] == "u1");
        assert_eq!(ids(&result), ["id2", "id4"], "the list rule and the filter both apply");
        assert_eq!((result.total_items, result.total_pages), (-1, -1));
    }

    #[test]
    fn parameters_like_pocketbase() {
        let query = ListQuery::from_params([("perPage", "5000"), ("page", "0")]).unwrap();
        assert_eq!((query.page, query.per_page), (1, MAX_PER_PAGE));
        assert!(ListQuery::from_params([("filter", "title =")]).is_err());
        assert!(ListQuery::from_params([("sort", "-nope;drop")]).is_err());
        let result = ListQuery::default().apply(Vec::new(), &Context::default(), |_| true);
        assert_eq!((result.total_items, result.total_pages), (0, 0));
    }

    #[test]
    fn huge_paging_numbers_are_clamped_in_64_bits() {
        // 2^32 truncated to wasm32's usize was 0, and div_ceil(0) panicked the Worker.
        let query = ListQuery::from_params([("perPage", "4294967296"), ("page", "4294967296")]).unwrap();
        assert_eq!((query.page, query.per_page), (4_294_967_296, MAX_PER_PAGE));
        let result = query.apply(records(), &Context::default(), |_| true);
        assert_eq!(
            (result.page, result.items.len(), result.total_pages),
            (4_294_967_296, 0, 1)
        );
        let query =
            ListQuery::from_params([("page", "9223372036854775807"), ("perPage", "9223372036854775807")]).unwrap();
        assert!(query.apply(records(), &Context::default(), |_| true).items.is_empty());
        assert_eq!(page_range(u64::MAX, MAX_PER_PAGE, 10), 10..10);
        assert_eq!(page_range(2, 3, 7), 3..6);
        assert_eq!(page_range(3, 3, 7), 6..7);
    }

    #[test]
    fn pocketbases_filter_and_sort_limits() {
        let long = format!("title = '{}'", "x".repeat(MAX_FILTER_LENGTH));
        assert!(ListQuery::from_params([("filter", long.as_str())]).is_err());
        let nine = ["title"; 9].join(",");
        assert!(ListQuery::from_params([("sort", nine.as_str())]).is_err());
        let eight = ["title"; 8].join(",");
        assert!(ListQuery::from_params([("sort", eight.as_str())]).is_ok());
        let long_field = "a".repeat(MAX_SORT_FIELD_LENGTH + 1);
        assert!(ListQuery::from_params([("sort", long_field.as_str())]).is_err());
    }
}
