//! The `GrantExpandable` annotation of a grant: holders of the listed (source) entitlements
//! inherit the grant's entitlement; `shallow` limits that to direct holders of a source, and a
//! non-empty list of resource types to principals of those types.

use baton_model::{annotations, pb};

/// What a `GrantExpandable` annotation says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expansion {
    /// The source entitlement ids.
    pub(crate) sources: Vec<String>,
    /// Only direct holders of a source inherit.
    pub(crate) shallow: bool,
    /// Only principals of these types inherit (all when empty).
    pub(crate) types: Vec<String>,
}

impl Expansion {
    /// Whether a principal of type `principal_type` inherits.
    pub(crate) fn admits(&self, principal_type: &str) -> bool {
        self.types.is_empty() || self.types.iter().any(|t| t == principal_type)
    }
}

/// The expansion of `grant`, if it carries a (decodable) `GrantExpandable` with sources.
pub(crate) fn of(grant: &pb::Grant) -> Option<Expansion> {
    let e = annotations::pick::<pb::GrantExpandable>(&grant.annotations).ok()??;
    if e.entitlement_ids.is_empty() {
        return None;
    }
    Some(Expansion {
        sources: e.entitlement_ids,
        shallow: e.shallow,
        types: e.resource_type_ids,
    })
}
