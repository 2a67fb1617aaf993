//! Decoding of `{"data": ...}` success envelopes without building intermediate JSON trees.
//!
//! The item list of a list response sits under a per-operation key (`users`, `userGroups`,
//! `emails`, ...); small serde seeds pick that key and `pagination` out of `data` and skip
//! everything else.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::{Error, Page};

/// `data.pagination` of a list response (`current`/`previous` are not needed).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaginationWire {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    total_entries: Option<u64>,
}

/// Picks the value under `key` out of a JSON object with `seed`, skipping other keys.
struct Field<S> {
    key: &'static str,
    seed: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Field<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Field<S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with `{}`", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<S::Value, A::Error> {
        let mut seed = Some(self.seed);
        let mut value = None;
        while let Some(key) = map.next_key::<String>()? {
            match seed.take() {
                Some(s) if key == self.key => value = Some(map.next_value_seed(s)?),
                other => {
                    seed = other;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        value.ok_or_else(|| serde::de::Error::missing_field(self.key))
    }
}

/// The two parts of a list `data` object.
struct ListParts<T> {
    items: Option<Vec<T>>,
    pagination: Option<PaginationWire>,
}

struct ListSeed<T> {
    key: &'static str,
    marker: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for ListSeed<T> {
    type Value = ListParts<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ListParts<T>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListSeed<T> {
    type Value = ListParts<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with `{}` and `pagination`", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListParts<T>, A::Error> {
        let mut parts = ListParts {
            items: None,
            pagination: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            if key == self.key && parts.items.is_none() {
                parts.items = Some(map.next_value()?);
            } else if key == "pagination" && parts.pagination.is_none() {
                parts.pagination = map.next_value::<Option<PaginationWire>>()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(parts)
    }
}

/// A `Decode` error from a serde_json error. serde_json's messages can quote values of the
/// response (`invalid type: string "..."`, `unknown variant ...`), which are not ours to
/// echo into logs: only the category and the position are reported.
fn decode_error(operation: &'static str, err: serde_json::Error) -> Error {
    use serde_json::error::Category;
    let category = match err.classify() {
        Category::Io => "I/O error",
        Category::Syntax => "malformed JSON",
        Category::Data => "JSON not of the documented shape",
        Category::Eof => "truncated JSON",
    };
    Error::Decode {
        operation,
        reason: format!("{category} at line {} column {}", err.line(), err.column()),
    }
}

fn run<'de, S: DeserializeSeed<'de>>(
    operation: &'static str,
    body: &'de [u8],
    seed: S,
) -> Result<S::Value, Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = seed
        .deserialize(&mut de)
        .map_err(|e| decode_error(operation, e))?;
    de.end().map_err(|e| decode_error(operation, e))?;
    Ok(value)
}

/// Decodes `{"data":{"<key>": T}}`.
pub(crate) fn object<T: DeserializeOwned>(
    operation: &'static str,
    body: &[u8],
    key: &'static str,
) -> Result<T, Error> {
    run(
        operation,
        body,
        Field {
            key: "data",
            seed: Field {
                key,
                seed: PhantomData::<T>,
            },
        },
    )
}

/// Decodes `{"data":{...}}` where only success matters (deletes answer `{"status":"SUCCESS"}`).
pub(crate) fn ack(operation: &'static str, body: &[u8]) -> Result<(), Error> {
    run(
        operation,
        body,
        Field {
            key: "data",
            seed: PhantomData::<IgnoredAny>,
        },
    )
    .map(|_| ())
}

/// Decodes `{"data":{"<key>": [T], "pagination": {...}}}`. A missing list or a missing
/// `pagination` is an error, never a silent last page. `next` that is null, absent or
/// `""` means last page.
pub(crate) fn list<T: DeserializeOwned>(
    operation: &'static str,
    body: &[u8],
    key: &'static str,
) -> Result<Page<T>, Error> {
    let parts = run(
        operation,
        body,
        Field {
            key: "data",
            seed: ListSeed::<T> {
                key,
                marker: PhantomData,
            },
        },
    )?;
    let Some(items) = parts.items else {
        return Err(Error::Decode {
            operation,
            reason: format!("list response without `data.{key}`"),
        });
    };
    let Some(pagination) = parts.pagination else {
        return Err(Error::Decode {
            operation,
            reason: "list response without `data.pagination`".to_owned(),
        });
    };
    Ok(Page {
        items,
        next: pagination.next.filter(|n| !n.is_empty()),
        total_entries: pagination.total_entries,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::User;

    #[test]
    fn list_pages() {
        let body = br#"{"data":{"users":[{"id":"a","name":"","email":"e"}],"extra":1,
            "pagination":{"current":"MA==","next":"MQ==","totalEntries":2}}}"#;
        let page: Page<User> = list("listUsers", body, "users").unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next.as_deref(), Some("MQ=="));
        assert_eq!(page.total_entries, Some(2));
        for last in [
            r#"{"data":{"invites":[],"pagination":{"current":"MA==","next":null}}}"#,
            r#"{"data":{"invites":[],"pagination":{"current":"MA=="}}}"#,
            r#"{"data":{"invites":[],"pagination":{"current":"","next":""}}}"#,
        ] {
            let page: Page<String> = list("listInvites", last.as_bytes(), "invites").unwrap();
            assert_eq!(page.next, None);
            assert_eq!(page.total_entries, None);
        }
    }

    #[test]
    fn list_without_pagination_or_items_is_an_error() {
        for bad in [
            r#"{"data":{"invites":["a"]}}"#,
            r#"{"data":{"invites":["a"],"pagination":null}}"#,
            r#"{"data":{"pagination":{"current":"MA=="}}}"#,
            r#"{"errors":[]}"#,
            r#"{"data":{"invites":["a"],"pagination":{"current":"MA=="}}"#,
            r#"{"data":{"invites":["a"],"pagination":{"current":"MA=="}}} trailing"#,
            "[]",
        ] {
            let err = list::<String>("listInvites", bad.as_bytes(), "invites").unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Decode {
                        operation: "listInvites",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn decode_reasons_never_quote_response_values() {
        for (body, category) in [
            (
                r#"{"data":{"users":[],"pagination":{"totalEntries":"s3cr3t-value"}}}"#,
                "not of the documented shape",
            ),
            (
                r#"{"data":{"users":[{"id":"a","name":"n","email":"e"}],"pagination":{"next":{"s3cr3t-value":1}}}}"#,
                "not of the documented shape",
            ),
            (
                r#"{"data":{"users":[],"pagination":{}}} s3cr3t-value"#,
                "malformed JSON",
            ),
            (r#"{"data":{"users":["s3cr3t-value"#, "truncated JSON"),
        ] {
            let err = list::<User>("listUsers", body.as_bytes(), "users").unwrap_err();
            let Error::Decode { reason, .. } = &err else {
                panic!("{err}");
            };
            assert!(!err.to_string().contains("s3cr3t"), "{err}");
            assert!(reason.contains(category), "{reason}");
            assert!(reason.contains("line 1 column "), "{reason}");
        }
        let err = object::<crate::Role>(
            "getRole",
            br#"{"data":{"role":{"id":"r","name":987654321}}}"#,
            "role",
        )
        .unwrap_err();
        assert!(!err.to_string().contains("987654321"), "{err}");
    }

    #[test]
    fn objects_and_acks() {
        let ws: crate::Workspace = object(
            "getWorkspace",
            br#"{"data":{"workspace":{"id":"w","name":"n","slug":"s"}}}"#,
            "workspace",
        )
        .unwrap();
        assert_eq!(ws.id, "w");
        assert!(
            object::<crate::Workspace>("getWorkspace", br#"{"data":{}}"#, "workspace").is_err()
        );
        ack("deleteInvites", br#"{"data":{"status":"SUCCESS"}}"#).unwrap();
        assert!(ack("deleteInvites", b"not json").is_err());
    }
}
