//! Query-string parsing: dot and bracket forms of `pagination` and indexed arrays, and page slicing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::reply::ApiError;

/// Default page size when `pagination` is omitted.
pub(crate) const DEFAULT_COUNT: usize = 200;
/// Largest accepted page size.
pub(crate) const MAX_COUNT: usize = 1000;

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space, as in Node's `qs`).
pub(crate) fn decode_component(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Decoded query pairs, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pub(crate) pairs: Vec<(String, String)>,
}

/// A validated pagination request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageReq {
    pub(crate) count: usize,
    pub(crate) offset: usize,
}

/// How the last page signals its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LastPage {
    /// `next` is absent.
    Omit,
    /// `next` is `null`.
    Null,
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (decode_component(k), decode_component(v)),
                None => (decode_component(p), String::new()),
            })
            .collect();
        Self { pairs }
    }

    /// First value of the first key present among `keys`.
    pub(crate) fn get_any(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| {
            self.pairs
                .iter()
                .find(|(pk, _)| pk == k)
                .map(|(_, v)| v.as_str())
        })
    }

    /// An array parameter sent as `name.0=..&name.1=..` or `name[0]=..`; `None` when absent.
    pub(crate) fn array(&self, name: &str) -> Option<Vec<String>> {
        let mut items: Vec<(usize, &str)> = self
            .pairs
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(name)?;
                let idx = if let Some(i) = rest.strip_prefix('.') {
                    i
                } else {
                    rest.strip_prefix('[')?.strip_suffix(']')?
                };
                if idx.is_empty() || !idx.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                Some((idx.parse().ok()?, v.as_str()))
            })
            .collect();
        if items.is_empty() {
            return None;
        }
        items.sort_by_key(|(i, _)| *i);
        items.dedup_by_key(|(i, _)| *i);
        Some(items.into_iter().map(|(_, v)| v.to_owned()).collect())
    }

    /// The pagination request (dot or bracket form), defaulting to 200 items from the start.
    pub(crate) fn pagination(&self) -> Result<PageReq, ApiError> {
        let count = self.get_any(&["pagination.count", "pagination[count]"]);
        let cursor = self.get_any(&["pagination.cursor", "pagination[cursor]"]);
        let count = match (count, cursor) {
            (None, None) => {
                return Ok(PageReq {
                    count: DEFAULT_COUNT,
                    offset: 0,
                });
            }
            (None, Some(_)) => {
                return Err(ApiError::validation(
                    "\"count\" is required",
                    "pagination.count",
                ));
            }
            (Some(c), _) => c,
        };
        let count = count
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|c| usize::try_from(c).ok())
            .filter(|c| (1..=MAX_COUNT).contains(c))
            .ok_or_else(|| {
                ApiError::validation(
                    "\"count\" must be an integer between 1 and 1000",
                    "pagination.count",
                )
            })?;
        let offset = match cursor {
            None | Some("") => 0,
            Some(c) => decode_cursor(c).ok_or_else(|| {
                ApiError::validation("\"cursor\" is not a valid cursor", "pagination.cursor")
            })?,
        };
        Ok(PageReq { count, offset })
    }
}

/// `base64(offset)`, like Segment's `MA==`, `Mg==`...
pub(crate) fn encode_cursor(offset: usize) -> String {
    STANDARD.encode(offset.to_string())
}

fn decode_cursor(c: &str) -> Option<usize> {
    let bytes = STANDARD.decode(c.trim()).ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

/// Slices a page out of `items` and builds its `pagination` object.
pub(crate) fn page<T>(items: &[T], req: PageReq, total: bool, last: LastPage) -> (&[T], Value) {
    let start = req.offset.min(items.len());
    let end = req.offset.saturating_add(req.count).min(items.len());
    let mut p = Map::new();
    p.insert("current".into(), json!(encode_cursor(req.offset)));
    if end < items.len() {
        p.insert("next".into(), json!(encode_cursor(end)));
    } else if last == LastPage::Null {
        p.insert("next".into(), Value::Null);
    }
    if req.offset > 0 {
        p.insert(
            "previous".into(),
            json!(encode_cursor(req.offset.saturating_sub(req.count))),
        );
    }
    if total {
        p.insert("totalEntries".into(), json!(items.len()));
    }
    (&items[start..end], Value::Object(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_in_both_forms() {
        let q = Query::parse(Some("emails.1=b%40x.com&emails%5B0%5D=a%40x.com&emailsX=z"));
        assert_eq!(
            q.array("emails"),
            Some(vec!["a@x.com".into(), "b@x.com".into()])
        );
        assert_eq!(q.array("userIds"), None);
    }

    #[test]
    fn cursors_are_base64_offsets() {
        assert_eq!(encode_cursor(0), "MA==");
        assert_eq!(encode_cursor(3), "Mw==");
        assert_eq!(decode_cursor("Mg=="), Some(2));
    }
}
