//! Hand-built URL pieces: percent-encoded path segments and Segment's dotted query keys.
//!
//! Segment documents `pagination.count`, `pagination.cursor`, `userIds.0`, `emails.0` and
//! `resourceType`; no generic serializer produces those, so they are written here by hand.
//! Every byte outside the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`) is
//! percent-encoded, so no value can add a path segment, a query parameter or a fragment.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::Error;

/// Everything except RFC 3986 "unreserved" characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Encodes one path segment (an id).
///
/// Empty, `.` and `..` are refused: an empty segment changes the route (`/users/` is
/// the list), and WHATWG URL parsing (which `reqwest` applies) removes `.`/`..`
/// segments even when written `%2E`, so such ids cannot be addressed at all.
pub(crate) fn path_segment(
    operation: &'static str,
    what: &str,
    value: &str,
) -> Result<String, Error> {
    match value {
        "" => Err(Error::InvalidArgument {
            operation,
            reason: format!("{what} is empty"),
        }),
        "." | ".." => Err(Error::InvalidArgument {
            operation,
            reason: format!("{what} {value:?} cannot be addressed in a URL path"),
        }),
        _ => Ok(utf8_percent_encode(value, COMPONENT).to_string()),
    }
}

/// A query string under construction (`a=1&b=2`, without the leading `?`).
#[derive(Debug, Default)]
pub(crate) struct Query(String);

impl Query {
    /// Appends `key=value`, percent-encoding both.
    pub(crate) fn push(&mut self, key: &str, value: &str) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        self.0.extend(utf8_percent_encode(key, COMPONENT));
        self.0.push('=');
        self.0.extend(utf8_percent_encode(value, COMPONENT));
        self
    }

    /// Appends `pagination.count` and, when given, `pagination.cursor`.
    pub(crate) fn pagination(&mut self, count: u16, cursor: Option<&str>) -> &mut Self {
        self.push("pagination.count", &count.to_string());
        if let Some(cursor) = cursor {
            self.push("pagination.cursor", cursor);
        }
        self
    }

    /// Appends an array as indexed dot keys: `name.0=..&name.1=..`. Refuses an empty list
    /// or an empty element (the parameter is required and an empty value is meaningless).
    pub(crate) fn indexed(
        &mut self,
        operation: &'static str,
        name: &str,
        values: &[&str],
    ) -> Result<&mut Self, Error> {
        if values.is_empty() {
            return Err(Error::InvalidArgument {
                operation,
                reason: format!("{name} is empty"),
            });
        }
        for (i, value) in values.iter().enumerate() {
            if value.is_empty() {
                return Err(Error::InvalidArgument {
                    operation,
                    reason: format!("{name}[{i}] is empty"),
                });
            }
            self.push(&format!("{name}.{i}"), value);
        }
        Ok(self)
    }

    /// The query string (no leading `?`).
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pagination_and_cursor_are_dotted_and_encoded() {
        let mut q = Query::default();
        q.pagination(1000, Some("Mw=="));
        assert_eq!(
            q.as_str(),
            "pagination.count=1000&pagination.cursor=Mw%3D%3D"
        );
        let mut q = Query::default();
        q.pagination(2, None);
        assert_eq!(q.as_str(), "pagination.count=2");
        let mut q = Query::default();
        q.pagination(5, Some("a+b/c="));
        assert_eq!(
            q.as_str(),
            "pagination.count=5&pagination.cursor=a%2Bb%2Fc%3D"
        );
    }

    #[test]
    fn arrays_use_indexed_dot_keys() {
        let mut q = Query::default();
        q.indexed("deleteInvites", "emails", &["foo@example.com", "a+b&c=d#e"])
            .unwrap();
        assert_eq!(
            q.as_str(),
            "emails.0=foo%40example.com&emails.1=a%2Bb%26c%3Dd%23e"
        );
        let mut q = Query::default();
        q.indexed("deleteUsers", "userIds", &["dLPzv57d5nRGz8U5iegLKp"])
            .unwrap();
        assert_eq!(q.as_str(), "userIds.0=dLPzv57d5nRGz8U5iegLKp");
        assert!(matches!(
            Query::default().indexed("deleteUsers", "userIds", &[]),
            Err(Error::InvalidArgument {
                operation: "deleteUsers",
                ..
            })
        ));
        assert!(Query::default().indexed("x", "emails", &["a", ""]).is_err());
    }

    #[test]
    fn resource_type_and_unicode() {
        let mut q = Query::default();
        q.push("resourceType", "INSERT_SOURCE")
            .pagination(1000, None);
        assert_eq!(
            q.as_str(),
            "resourceType=INSERT_SOURCE&pagination.count=1000"
        );
        let mut q = Query::default();
        q.push("emails.0", "zoë @ü.example");
        assert_eq!(q.as_str(), "emails.0=zo%C3%AB%20%40%C3%BC.example");
    }

    #[test]
    fn path_segments_cannot_change_the_route() {
        let seg = |v| path_segment("getUser", "userId", v).unwrap();
        assert_eq!(seg("sgJDWk3K21k6LE3tLU9nRK"), "sgJDWk3K21k6LE3tLU9nRK");
        assert_eq!(seg("../groups"), "..%2Fgroups");
        assert_eq!(seg("a/b?c#d%e f"), "a%2Fb%3Fc%23d%25e%20f");
        assert_eq!(seg("...").as_str(), "...");
        assert_eq!(seg("%2e%2e"), "%252e%252e");
        assert_eq!(seg("a\\b"), "a%5Cb");
        for bad in ["", ".", ".."] {
            assert!(matches!(
                path_segment("getUser", "userId", bad),
                Err(Error::InvalidArgument {
                    operation: "getUser",
                    ..
                })
            ));
        }
    }
}
