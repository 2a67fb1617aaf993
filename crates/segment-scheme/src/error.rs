//! [`SchemeError`]: the one error type of the identifier scheme.

use baton_model::ids::IdError;

/// Errors of the identifier scheme. Messages quote ids (never secrets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemeError {
    /// The string is not a Baton id at all (wrong number of parts, empty part, `:`).
    #[error(transparent)]
    Id(#[from] IdError),
    /// The entitlement's resource type is not one this connector emits entitlements on.
    #[error(
        "{id:?} is not a Segment entitlement: resource type {resource_type:?} has no entitlements"
    )]
    UnknownResourceType {
        /// The whole id.
        id: String,
        /// Its resource type.
        resource_type: String,
    },
    /// The slug is not one this connector emits for that resource type.
    #[error("{id:?} is not a Segment entitlement: {reason}")]
    InvalidSlug {
        /// The whole id.
        id: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A label set is not in canonical encoding.
    #[error("invalid label set {encoded:?}: {reason}")]
    InvalidLabels {
        /// The encoded label set.
        encoded: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The principal type is not `user`, `group` or `invite`.
    #[error("unknown principal type {0:?} (expected user, group or invite)")]
    UnknownPrincipalType(String),
    /// The resource type is not `source`, `warehouse`, `function` or `space`.
    #[error("unknown scope type {0:?} (expected source, warehouse, function or space)")]
    UnknownScopeType(String),
    /// No role has this slug (fail closed: nothing is granted or revoked).
    #[error("no Segment role has the slug {slug:?}; the role may have been renamed or deleted")]
    UnknownRoleSlug {
        /// The slug looked up.
        slug: String,
    },
    /// Several roles have this slug; none is picked.
    #[error("{} Segment roles have the slug {slug:?}: {}", candidates.len(), describe_roles(candidates))]
    AmbiguousRoleSlug {
        /// The slug looked up.
        slug: String,
        /// `(role id, role name)` of every candidate, in the API's order.
        candidates: Vec<(String, String)>,
    },
}

fn describe_roles(candidates: &[(String, String)]) -> String {
    candidates
        .iter()
        .map(|(id, name)| format!("{name:?} ({id})"))
        .collect::<Vec<_>>()
        .join(", ")
}
