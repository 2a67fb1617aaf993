//! The crate's error type and the classification of Segment error responses.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Everything that can go wrong when talking to the Segment Public API.
///
/// Every variant raised by an API call names the operation (Segment's `operationId`,
/// e.g. `"getUser"`) and, where Segment answered with an error body, quotes its
/// `errors[].message` texts. No variant ever contains the API token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HTTP 401: the token is missing, invalid, or lacks permission for the resource.
    #[error("Segment {operation}: unauthorized (HTTP 401){}", Quoted(messages))]
    Unauthorized {
        /// The operation (`operationId`).
        operation: &'static str,
        /// Segment's `errors[].message` texts.
        messages: Vec<String>,
    },
    /// HTTP 403: the token may not do this.
    #[error("Segment {operation}: forbidden (HTTP 403){}", Quoted(messages))]
    Forbidden {
        /// The operation (`operationId`).
        operation: &'static str,
        /// Segment's `errors[].message` texts.
        messages: Vec<String>,
    },
    /// HTTP 404: the resource (or route) does not exist.
    #[error("Segment {operation}: not found (HTTP 404){}", Quoted(messages))]
    NotFound {
        /// The operation (`operationId`).
        operation: &'static str,
        /// Segment's `errors[].message` texts.
        messages: Vec<String>,
    },
    /// The workspace's plan does not include the feature ("Your plan does not include
    /// User Groups..."), typically HTTP 400. Callers should skip the feature, not fail.
    #[error(
        "Segment {operation}: the workspace plan lacks this feature (HTTP {status}){}",
        Quoted(messages)
    )]
    PlanLacksFeature {
        /// The operation (`operationId`).
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// Segment's `errors[].message` texts.
        messages: Vec<String>,
    },
    /// The email was already invited to, or is already a member of, the workspace
    /// (HTTP 400 "One or more email address was already invited to join workspace.").
    #[error(
        "Segment {operation}: already invited or already a member (HTTP {status}){}",
        Quoted(messages)
    )]
    AlreadyExists {
        /// The operation (`operationId`).
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// Segment's `errors[].message` texts.
        messages: Vec<String>,
    },
    /// HTTP 400 or 422 for any other reason: the request was rejected as invalid.
    #[error(
        "Segment {operation}: request rejected as invalid (HTTP {status}){}",
        Quoted(messages)
    )]
    Validation {
        /// The operation (`operationId`).
        operation: &'static str,
        /// HTTP status (400 or 422).
        status: u16,
        /// Segment's `errors[].message` texts.
        messages: Vec<String>,
    },
    /// HTTP 429, after the client's own retries were used up.
    #[error(
        "Segment {operation}: rate limited (HTTP 429){}{}",
        RetryAfter(retry_after),
        Quoted(messages)
    )]
    RateLimited {
        /// The operation (`operationId`).
        operation: &'static str,
        /// How long Segment asked to wait (`msBeforeNext`, `X-RateLimit-Reset` or
        /// `Retry-After`), when it said.
        retry_after: Option<Duration>,
        /// Segment's `errors[].message` texts.
        messages: Vec<String>,
    },
    /// HTTP 5xx, after any retries the client was allowed to make.
    #[error(
        "Segment {operation}: server error (HTTP {status}){}",
        Quoted(messages)
    )]
    Server {
        /// The operation (`operationId`).
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// Segment's `errors[].message` texts.
        messages: Vec<String>,
    },
    /// Any other non-success status (e.g. 409, 413, a redirect).
    #[error(
        "Segment {operation}: unexpected HTTP status {status}{}",
        Quoted(messages)
    )]
    UnexpectedStatus {
        /// The operation (`operationId`).
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// Segment's `errors[].message` texts.
        messages: Vec<String>,
    },
    /// The request failed below HTTP (connect, TLS, reset, timeout, broken body).
    #[error(
        "Segment {operation}: transport error ({})",
        if *may_have_reached_server { "the request may have reached the server" } else { "the request did not reach the server" }
    )]
    Transport {
        /// The operation (`operationId`).
        operation: &'static str,
        /// `false` only when the failure certainly happened before the request was sent
        /// (a connect failure); a write that failed with `true` may have been applied.
        may_have_reached_server: bool,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A success response that is not what the API documents (malformed JSON, missing
    /// `data` or `pagination`, unexpected content type, ...).
    #[error("Segment {operation}: undecodable response: {reason}")]
    Decode {
        /// The operation (`operationId`).
        operation: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The argument cannot be sent (e.g. an empty list of emails, an id that cannot be
    /// put in a URL path). Nothing was sent.
    #[error("Segment {operation}: invalid argument: {reason}")]
    InvalidArgument {
        /// The operation (`operationId`).
        operation: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The client configuration is invalid (base URL, page size, token shape, ...).
    #[error("invalid Segment client configuration: {reason}")]
    InvalidConfig {
        /// What was wrong.
        reason: String,
    },
}

impl Error {
    /// The operation (`operationId`) that failed; `None` for [`Error::InvalidConfig`].
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::Unauthorized { operation, .. }
            | Error::Forbidden { operation, .. }
            | Error::NotFound { operation, .. }
            | Error::PlanLacksFeature { operation, .. }
            | Error::AlreadyExists { operation, .. }
            | Error::Validation { operation, .. }
            | Error::RateLimited { operation, .. }
            | Error::Server { operation, .. }
            | Error::UnexpectedStatus { operation, .. }
            | Error::Transport { operation, .. }
            | Error::Decode { operation, .. }
            | Error::InvalidArgument { operation, .. } => Some(operation),
            Error::InvalidConfig { .. } => None,
        }
    }

    /// The HTTP status Segment answered with, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::NotFound { .. } => Some(404),
            Error::RateLimited { .. } => Some(429),
            Error::PlanLacksFeature { status, .. }
            | Error::AlreadyExists { status, .. }
            | Error::Validation { status, .. }
            | Error::Server { status, .. }
            | Error::UnexpectedStatus { status, .. } => Some(*status),
            Error::Transport { .. }
            | Error::Decode { .. }
            | Error::InvalidArgument { .. }
            | Error::InvalidConfig { .. } => None,
        }
    }

    /// Segment's `errors[].message` texts (empty when there was no error body).
    pub fn messages(&self) -> &[String] {
        match self {
            Error::Unauthorized { messages, .. }
            | Error::Forbidden { messages, .. }
            | Error::NotFound { messages, .. }
            | Error::PlanLacksFeature { messages, .. }
            | Error::AlreadyExists { messages, .. }
            | Error::Validation { messages, .. }
            | Error::RateLimited { messages, .. }
            | Error::Server { messages, .. }
            | Error::UnexpectedStatus { messages, .. } => messages,
            Error::Transport { .. }
            | Error::Decode { .. }
            | Error::InvalidArgument { .. }
            | Error::InvalidConfig { .. } => &[],
        }
    }

    /// Whether the condition is transient (429, 5xx, transport), so that trying again
    /// later may succeed. The client already retried within its [`RetryPolicy`](crate::RetryPolicy).
    ///
    /// Transient, but not necessarily safe: check [`is_safe_to_repeat`](Self::is_safe_to_repeat)
    /// before repeating a write (a POST that failed with a 5xx or after it may have reached
    /// the server may have been applied).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. } | Error::Server { .. } | Error::Transport { .. }
        )
    }

    /// Whether the failed operation may simply be sent again later: the condition is
    /// transient ([`is_retryable`](Self::is_retryable)) AND repeating cannot apply a change
    /// twice. True for a 429 (Segment did not process the request), for a transport failure
    /// that certainly happened before the request was sent, and for a 5xx or any transport
    /// failure of an operation that is not a POST (GET, PUT and DELETE are idempotent).
    /// False for a POST (`createInvites`, `addPermissionsToUser`, `addUsersToUserGroup`,
    /// `addPermissionsToUserGroup`) that got a 5xx or may have reached the server: check
    /// the current state first. Always false for non-transient errors.
    pub fn is_safe_to_repeat(&self) -> bool {
        match self {
            Error::RateLimited { .. }
            | Error::Transport {
                may_have_reached_server: false,
                ..
            } => true,
            Error::Server { operation, .. } | Error::Transport { operation, .. } => {
                !is_post_operation(operation)
            }
            _ => false,
        }
    }
}

/// Operations sent as POST (not idempotent). `Call::new` checks every call against this
/// list in debug builds, so it cannot silently drift from the operations.
const POST_OPERATIONS: &[&str] = &[
    "addPermissionsToUser",
    "addPermissionsToUserGroup",
    "addUsersToUserGroup",
    "createInvites",
];

/// Whether the operation (`operationId`) is sent as a POST.
pub(crate) fn is_post_operation(operation: &str) -> bool {
    POST_OPERATIONS.contains(&operation)
}

/// Formats `: "m1"; "m2"` (or nothing) after an error headline.
struct Quoted<'a>(&'a [String]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, message) in self.0.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            write!(f, "{message:?}")?;
        }
        Ok(())
    }
}

/// Formats `, retry after 1.5s` (or nothing).
struct RetryAfter<'a>(&'a Option<Duration>);

impl fmt::Display for RetryAfter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, ", retry after {d:?}"),
            None => Ok(()),
        }
    }
}

/// What the client extracts from an `{"errors":[...]}` body.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ErrorBody {
    /// `errors[].message` (or `errors[].type` when there is no message).
    pub(crate) messages: Vec<String>,
    /// `errors[].data.msBeforeNext` of the first entry that has it.
    pub(crate) ms_before_next: Option<u64>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    data: Option<serde_json::Value>,
}

/// Parses an error body leniently: anything undecodable yields an empty [`ErrorBody`].
/// The raw body is never kept (it is not ours to echo).
pub(crate) fn parse_error_body(body: &[u8]) -> ErrorBody {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(body) else {
        return ErrorBody::default();
    };
    let mut out = ErrorBody::default();
    for entry in envelope.errors {
        if out.ms_before_next.is_none() {
            out.ms_before_next = entry
                .data
                .as_ref()
                .and_then(|d| d.get("msBeforeNext"))
                .and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_f64().map(|f| f.max(0.0).ceil() as u64))
                });
        }
        if let Some(text) = entry.message.or(entry.kind) {
            out.messages.push(text);
        }
    }
    out
}

const PLAN_MARKER: &str = "your plan does not include";
const ALREADY_INVITED_MARKER: &str = "already invited to join workspace";

fn mentions(messages: &[String], marker: &str) -> bool {
    messages
        .iter()
        .any(|m| m.to_ascii_lowercase().contains(marker))
}

/// Maps a non-success status (plus the parsed body) to an [`Error`]. Branches on the
/// HTTP status first; the only texts inspected are the two documented markers
/// (plan gating and duplicate invite), since Segment's `type` strings are inconsistent.
pub(crate) fn classify(
    operation: &'static str,
    status: u16,
    body: ErrorBody,
    retry_after: Option<Duration>,
) -> Error {
    let messages = body.messages;
    match status {
        401 => Error::Unauthorized {
            operation,
            messages,
        },
        404 => Error::NotFound {
            operation,
            messages,
        },
        429 => Error::RateLimited {
            operation,
            retry_after,
            messages,
        },
        400..=499 if mentions(&messages, PLAN_MARKER) => Error::PlanLacksFeature {
            operation,
            status,
            messages,
        },
        400..=499 if mentions(&messages, ALREADY_INVITED_MARKER) => Error::AlreadyExists {
            operation,
            status,
            messages,
        },
        403 => Error::Forbidden {
            operation,
            messages,
        },
        400 | 422 => Error::Validation {
            operation,
            status,
            messages,
        },
        500..=599 => Error::Server {
            operation,
            status,
            messages,
        },
        _ => Error::UnexpectedStatus {
            operation,
            status,
            messages,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn body(json: &str) -> ErrorBody {
        parse_error_body(json.as_bytes())
    }

    #[test]
    fn parses_messages_and_ms_before_next() {
        let b = body(
            r#"{"errors":[{"type":"RequestError","message":"Too many requests","data":{"remainingPoints":0,"msBeforeNext":57647,"consumedPoints":21}}]}"#,
        );
        assert_eq!(b.messages, vec!["Too many requests".to_owned()]);
        assert_eq!(b.ms_before_next, Some(57647));
        let b =
            body(r#"{"errors":[{"type":"RateLimited"},{"type":"x","message":"m","data":null}]}"#);
        assert_eq!(b.messages, vec!["RateLimited".to_owned(), "m".to_owned()]);
        assert_eq!(b.ms_before_next, None);
        assert_eq!(body("<html>oops</html>"), ErrorBody::default());
        assert_eq!(body(""), ErrorBody::default());
        assert_eq!(
            body(r#"{"errors":[{"data":{"msBeforeNext":12.2}}]}"#).ms_before_next,
            Some(13)
        );
    }

    #[test]
    fn classifies_by_status_and_documented_markers() {
        let c = |status, json: &str| classify("op", status, body(json), None);
        assert!(matches!(c(401, "{}"), Error::Unauthorized { .. }));
        assert!(matches!(c(403, "{}"), Error::Forbidden { .. }));
        assert!(matches!(
            c(
                404,
                r#"{"errors":[{"type":"NotFound","message":"Resource not found"}]}"#
            ),
            Error::NotFound { .. }
        ));
        let plan = r#"{"errors":[{"type":"bad-request","message":"Your plan does not include User Groups. Contact sales to upgrade to business tier."}]}"#;
        assert!(matches!(
            c(400, plan),
            Error::PlanLacksFeature { status: 400, .. }
        ));
        assert!(matches!(
            c(403, plan),
            Error::PlanLacksFeature { status: 403, .. }
        ));
        let dup = r#"{"errors":[{"type":"bad-request","message":"One or more email address was already invited to join workspace."}]}"#;
        assert!(matches!(
            c(400, dup),
            Error::AlreadyExists { status: 400, .. }
        ));
        assert!(matches!(
            c(
                400,
                r#"{"errors":[{"type":"bad-request","message":"nope"}]}"#
            ),
            Error::Validation { status: 400, .. }
        ));
        assert!(matches!(
            c(
                422,
                r#"{"errors":[{"type":"ValidationFailure","message":"Validation failure"}]}"#
            ),
            Error::Validation { status: 422, .. }
        ));
        assert!(matches!(c(429, "{}"), Error::RateLimited { .. }));
        assert!(matches!(c(500, "{}"), Error::Server { status: 500, .. }));
        assert!(matches!(
            c(503, "not json"),
            Error::Server { status: 503, .. }
        ));
        assert!(matches!(
            c(409, "{}"),
            Error::UnexpectedStatus { status: 409, .. }
        ));
        assert!(matches!(
            c(302, "{}"),
            Error::UnexpectedStatus { status: 302, .. }
        ));
    }

    #[test]
    fn server_errors_of_posts_are_transient_but_not_safe_to_repeat() {
        for post in POST_OPERATIONS {
            let e = classify(post, 503, ErrorBody::default(), None);
            assert!(e.is_retryable() && !e.is_safe_to_repeat(), "{post}");
            let e = classify(post, 429, ErrorBody::default(), None);
            assert!(e.is_retryable() && e.is_safe_to_repeat(), "{post}");
        }
        for other in [
            "getWorkspace",
            "replacePermissionsForUser",
            "deleteInvites",
            "removeUsersFromUserGroup",
        ] {
            let e = classify(other, 500, ErrorBody::default(), None);
            assert!(e.is_retryable() && e.is_safe_to_repeat(), "{other}");
        }
        for permanent in [400, 401, 403, 404, 409, 422] {
            let e = classify("getWorkspace", permanent, ErrorBody::default(), None);
            assert!(!e.is_retryable() && !e.is_safe_to_repeat(), "{permanent}");
        }
    }

    #[test]
    fn display_names_operation_and_quotes_messages() {
        let e = classify(
            "createInvites",
            400,
            body(
                r#"{"errors":[{"type":"bad-request","message":"One or more email address was already invited to join workspace."}]}"#,
            ),
            None,
        );
        assert_eq!(
            e.to_string(),
            "Segment createInvites: already invited or already a member (HTTP 400): \"One or more email address was already invited to join workspace.\""
        );
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.operation(), Some("createInvites"));
        assert_eq!(e.messages().len(), 1);
        assert!(!e.is_retryable());
        let e = classify(
            "listUsers",
            429,
            body(r#"{"errors":[{"message":"Too many requests"}]}"#),
            Some(Duration::from_millis(1500)),
        );
        assert_eq!(
            e.to_string(),
            "Segment listUsers: rate limited (HTTP 429), retry after 1.5s: \"Too many requests\""
        );
        assert!(e.is_retryable());
        let e = classify("getWorkspace", 401, ErrorBody::default(), None);
        assert_eq!(
            e.to_string(),
            "Segment getWorkspace: unauthorized (HTTP 401)"
        );
    }
}
