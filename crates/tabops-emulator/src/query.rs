//! List query options as Tableau implements them: `filter=field:op:value,...` (ANDed), `sort=field:dir,...`,
//! and paging (`pageSize` default 100, max 1000 → 403014; `pageNumber` past the end → 400006).

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::error::{ApiError, ApiResult};
use crate::xml::Elem;

/// A field value as filters and sorts see it.
pub enum Field {
    Text(String),
    List(Vec<String>),
}

/// Anything that can be filtered and sorted by field name.
pub trait Queryable {
    fn field(&self, name: &str) -> Option<Field>;
}

struct Filter {
    field: String,
    op: String,
    values: Vec<String>,
}

fn parse_filters(raw: &str) -> ApiResult<Vec<Filter>> {
    let mut filters = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        // A bracketed `in` list may contain commas; split only on commas outside brackets.
        let mut depth = 0;
        let mut end = rest.len();
        for (i, ch) in rest.char_indices() {
            match ch {
                '[' => depth += 1,
                ']' => depth -= 1,
                ',' if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let expr = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        let mut parts = expr.splitn(3, ':');
        let (Some(field), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ApiError::new(400000, "Bad Request", format!("Invalid filter expression '{expr}'.")));
        };
        if !matches!(op, "eq" | "cieq" | "in" | "gt" | "gte" | "lt" | "lte" | "has") {
            return Err(ApiError::new(400000, "Bad Request", format!("Invalid filter operator '{op}' in '{expr}'.")));
        }
        let values = if op == "in" {
            let inner = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')).ok_or_else(|| {
                ApiError::new(400000, "Bad Request", format!("The 'in' operator needs a [list] in '{expr}'."))
            })?;
            inner.split(',').map(str::to_owned).collect()
        } else {
            vec![value.to_owned()]
        };
        filters.push(Filter { field: field.to_owned(), op: op.to_owned(), values });
    }
    Ok(filters)
}

fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

fn matches(filter: &Filter, field: &Field) -> bool {
    let candidates: Vec<&str> = match field {
        Field::Text(text) => vec![text.as_str()],
        Field::List(items) => items.iter().map(String::as_str).collect(),
    };
    candidates.iter().any(|candidate| {
        filter.values.iter().any(|value| match filter.op.as_str() {
            // Names compare case-insensitively on Tableau (tabcmd looks up `Default` for `default`).
            "eq" | "cieq" | "in" => candidate.eq_ignore_ascii_case(value),
            "has" => candidate.to_lowercase().contains(&value.to_lowercase()),
            "gt" => compare(candidate, value) == Ordering::Greater,
            "gte" => compare(candidate, value) != Ordering::Less,
            "lt" => compare(candidate, value) == Ordering::Less,
            _ => compare(candidate, value) != Ordering::Greater,
        })
    })
}

/// Apply `filter` and `sort` from the query to `items`.
pub fn filter_sort<T: Queryable>(mut items: Vec<T>, query: &HashMap<String, String>) -> ApiResult<Vec<T>> {
    if let Some(raw) = query.get("filter").filter(|f| !f.is_empty()) {
        let filters = parse_filters(raw)?;
        for filter in &filters {
            if items.first().is_some_and(|item| item.field(&filter.field).is_none()) {
                return Err(ApiError::new(
                    400000,
                    "Bad Request",
                    format!("Filtering by field '{}' is not supported.", filter.field),
                ));
            }
        }
        items.retain(|item| filters.iter().all(|f| item.field(&f.field).is_some_and(|v| matches(f, &v))));
    }
    if let Some(raw) = query.get("sort").filter(|s| !s.is_empty()) {
        let mut keys = Vec::new();
        for expr in raw.split(',') {
            let (field, dir) = expr.split_once(':').unwrap_or((expr, "asc"));
            if !matches!(dir, "asc" | "desc") {
                return Err(ApiError::new(400000, "Bad Request", format!("Invalid sort direction in '{expr}'.")));
            }
            keys.push((field.to_owned(), dir == "desc"));
        }
        items.sort_by(|a, b| {
            for (field, desc) in &keys {
                let text = |item: &T| match item.field(field) {
                    Some(Field::Text(t)) => t,
                    Some(Field::List(l)) => l.join(","),
                    None => String::new(),
                };
                let ord = compare(&text(a), &text(b));
                let ord = if *desc { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
    Ok(items)
}

fn page_param(query: &HashMap<String, String>, key: &str, default: usize, code: u32) -> ApiResult<usize> {
    match query.get(key) {
        None => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(value) if value >= 1 => Ok(value),
            _ => Err(ApiError::new(code, "Bad Request", format!("Invalid {key} '{raw}'."))),
        },
    }
}

/// Select the requested page; returns the page and the `<pagination>` element.
pub fn paginate<T>(items: Vec<T>, query: &HashMap<String, String>) -> ApiResult<(Vec<T>, Elem)> {
    let size = page_param(query, "pageSize", 100, 400007)?;
    if size > 1000 {
        return Err(ApiError::new(
            403014,
            "Page Size Limit Exceeded",
            format!("The page size '{size}' exceeds the maximum of 1000."),
        ));
    }
    let number = page_param(query, "pageNumber", 1, 400006)?;
    let total = items.len();
    let skip = (number - 1).saturating_mul(size);
    if number > 1 && skip >= total {
        return Err(ApiError::new(
            400006,
            "Bad Request",
            format!("Page number '{number}' is beyond the last page of results."),
        ));
    }
    let page: Vec<T> = items.into_iter().skip(skip).take(size).collect();
    let pagination =
        Elem::new("pagination").attr("pageNumber", number).attr("pageSize", size).attr("totalAvailable", total);
    Ok((page, pagination))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Item(&'static str, Vec<String>);
    impl Queryable for Item {
        fn field(&self, name: &str) -> Option<Field> {
            match name {
                "name" => Some(Field::Text(self.0.to_owned())),
                "tags" => Some(Field::List(self.1.clone())),
                _ => None,
            }
        }
    }

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn filters_are_anded_and_in_lists_split_inside_brackets() {
        let items =
            vec![Item("Alpha", vec!["a".into(), "b c".into()]), Item("beta", vec!["a".into()]), Item("Gamma", vec![])];
        let out = filter_sort(items, &q(&[("filter", "tags:in:[x,b c],name:eq:alpha")])).expect("valid filter");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, "Alpha");
    }

    #[test]
    fn sorts_descending_case_insensitively() {
        let items = vec![Item("b", vec![]), Item("C", vec![]), Item("a", vec![])];
        let out = filter_sort(items, &q(&[("sort", "name:desc")])).expect("valid sort");
        let names: Vec<_> = out.iter().map(|i| i.0).collect();
        assert_eq!(names, ["C", "b", "a"]);
    }

    #[test]
    fn paging_limits() {
        let err = paginate(vec![1; 5], &q(&[("pageSize", "1001")])).expect_err("too big");
        assert_eq!(err.code, "403014");
        let err = paginate(vec![1; 5], &q(&[("pageSize", "5"), ("pageNumber", "2")])).expect_err("past end");
        assert_eq!(err.code, "400006");
        let (page, _) = paginate(vec![1, 2, 3], &q(&[("pageSize", "2"), ("pageNumber", "2")])).expect("page 2");
        assert_eq!(page, [3]);
        assert!(paginate(Vec::<u8>::new(), &q(&[])).is_ok());
    }
}
