//! Turning a failure into the one line printed on stderr.
//!
//! Known causes get a message that says what to do (no token, token rejected, missing
//! permission, network unreachable, disk full); everything else is the error chain on one line.
//! No message ever contains the API token: none of the errors carry it.

use std::io;

use segment_provision::ProvisionError;

/// The API error at the bottom of a failure, if there is one.
pub(crate) fn api_error(err: &anyhow::Error) -> Option<&segment_api::Error> {
    err.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<segment_api::Error>() {
            return Some(e);
        }
        if let Some(e) = cause.downcast_ref::<segment_cache::Error>() {
            return e.api();
        }
        if let Some(e) = cause.downcast_ref::<ProvisionError>() {
            return e.api_error();
        }
        if let Some(e) = cause.downcast_ref::<segment_connector::SyncError>() {
            return e.api_error();
        }
        None
    })
}

/// Whether a review command stopped because its output was closed (`segment-cli ... | head`).
pub(crate) fn is_closed_output(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<baton_access::AccessError>()
            .is_some_and(baton_access::AccessError::is_closed_output)
    })
}

/// Whether the failure is a full disk.
fn is_disk_full(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(28))
    }) || chain_line(err).contains("No space left on device")
}

/// ` ("message"; "message")` from Segment's error texts, or nothing.
fn quoted(messages: &[String]) -> String {
    if messages.is_empty() {
        String::new()
    } else {
        let joined = messages
            .iter()
            .map(|m| format!("{m:?}"))
            .collect::<Vec<_>>()
            .join("; ");
        format!(": {joined}")
    }
}

/// The chain of causes joined with `: `, leaving out a cause whose text an earlier message
/// already quotes (many errors print their source inline and also return it as `source()`).
fn chain_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// The one line describing a failure. `base_url` is the API being talked to.
pub(crate) fn describe(err: &anyhow::Error, base_url: Option<&str>) -> String {
    let line = if let Some(api) = api_error(err) {
        let op = api.operation().unwrap_or("request");
        match api {
            segment_api::Error::Unauthorized { messages, .. } => format!(
                "the Segment API rejected the token (HTTP 401 Unauthorized on {op}{}): \
                 check --token / BATON_TOKEN",
                quoted(messages)
            ),
            segment_api::Error::Forbidden { messages, .. } => format!(
                "the token lacks permission for {op} (HTTP 403 Forbidden{}): \
                 use a Workspace Owner token with the needed scopes",
                quoted(messages)
            ),
            segment_api::Error::Transport { .. } => {
                let at = base_url.map(|u| format!(" at {u}")).unwrap_or_default();
                format!(
                    "cannot reach the Segment API{at} ({op}): {}",
                    err.root_cause()
                )
            }
            _ => chain_line(err),
        }
    } else if is_disk_full(err) {
        format!("no space left on device: {}", chain_line(err))
    } else {
        chain_line(err)
    };
    // One line, whatever the causes contain.
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_failures_get_a_clear_line() {
        let err = anyhow::Error::new(segment_connector::SyncError::Session(
            segment_cache::Error::from(segment_api::Error::Unauthorized {
                operation: "getWorkspace",
                messages: vec!["bad token".into()],
            }),
        ));
        let line = describe(&err, None);
        assert!(
            line.starts_with("the Segment API rejected the token (HTTP 401"),
            "{line}"
        );
        assert!(line.contains("BATON_TOKEN"));

        let err = anyhow::Error::new(segment_api::Error::Forbidden {
            operation: "listUsers",
            messages: vec!["no\naccess".into()],
        })
        .context("sync failed");
        let line = describe(&err, None);
        assert!(
            line.starts_with("the token lacks permission for listUsers (HTTP 403"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn other_failures_are_the_chain_on_one_line() {
        let err = anyhow::anyhow!("first\nsecond").context("outer");
        assert_eq!(describe(&err, None), "outer: first second");
        let repeated = anyhow::Error::new(io::Error::other("inner"))
            .context("middle: inner")
            .context("outer");
        assert_eq!(describe(&repeated, None), "outer: middle: inner");
        let disk = anyhow::Error::new(io::Error::from(io::ErrorKind::StorageFull))
            .context("cannot write sync.c1z");
        assert!(
            describe(&disk, None).starts_with("no space left on device: cannot write sync.c1z")
        );
    }
}
