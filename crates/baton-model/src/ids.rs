//! Typed Baton IDs and their string forms (c1z-format.md §4).
//!
//! | Type | String form |
//! |---|---|
//! | [`ResourceTypeId`] | `<resource_type>` |
//! | [`ResourceRef`] | `<resource_type>:<resource_id>` (the c1z `external_id` of a resource) |
//! | [`EntitlementId`] | `<resource_type>:<resource_id>:<slug>` |
//! | [`GrantId`] | `<entitlement_id>:<principal_type>:<principal_id>` |
//!
//! `resource_type`, `resource_id`, `slug` and `principal_type` are non-empty and contain no
//! `:`; `principal_id` is non-empty and may contain `:` (it is the tail). `Display` and
//! `FromStr` are exact inverses.

use std::fmt;
use std::str::FromStr;

use crate::pb;

/// Which part of an ID is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdPart {
    /// The resource type (`<resource_type>`).
    ResourceType,
    /// The resource's id in the source system.
    ResourceId,
    /// The entitlement slug.
    Slug,
    /// The principal's resource type.
    PrincipalType,
    /// The principal's id in the source system.
    PrincipalId,
}

impl fmt::Display for IdPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ResourceType => "resource type",
            Self::ResourceId => "resource id",
            Self::Slug => "slug",
            Self::PrincipalType => "principal type",
            Self::PrincipalId => "principal id",
        })
    }
}

/// Why a part of an ID is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdProblem {
    /// The string ends before this part (too few `:`-separated parts).
    Missing,
    /// The part is empty.
    Empty,
    /// The part contains a `:` although it may not.
    ContainsColon,
}

impl fmt::Display for IdProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "is missing",
            Self::Empty => "is empty",
            Self::ContainsColon => "contains ':'",
        })
    }
}

/// An ID, or a part of one, breaks the ID rules. Never contains the offending value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("invalid id: {part} {problem}")]
pub struct IdError {
    part: IdPart,
    problem: IdProblem,
}

impl IdError {
    /// Creates an error about `part`.
    pub fn new(part: IdPart, problem: IdProblem) -> Self {
        Self { part, problem }
    }

    /// The part that is wrong.
    pub fn part(&self) -> IdPart {
        self.part
    }

    /// Why it is wrong.
    pub fn problem(&self) -> IdProblem {
        self.problem
    }
}

/// Checks a part that must be non-empty and free of `:`.
fn check_segment(part: IdPart, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        Err(IdError::new(part, IdProblem::Empty))
    } else if value.contains(':') {
        Err(IdError::new(part, IdProblem::ContainsColon))
    } else {
        Ok(())
    }
}

/// Checks the tail part (may contain `:`).
fn check_tail(part: IdPart, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        Err(IdError::new(part, IdProblem::Empty))
    } else {
        Ok(())
    }
}

/// Splits `s` at the first `n - 1` colons and validates each part in order;
/// the last part is checked as a segment or, if `tail` is true, as a tail.
fn split_parts<const N: usize>(
    s: &str,
    parts: [IdPart; N],
    tail: bool,
) -> Result<[&str; N], IdError> {
    let mut out = [""; N];
    let mut pieces = s.splitn(N, ':');
    for (i, part) in parts.into_iter().enumerate() {
        let piece = pieces
            .next()
            .ok_or(IdError::new(part, IdProblem::Missing))?;
        if tail && i == N - 1 {
            check_tail(part, piece)?;
        } else {
            check_segment(part, piece)?;
        }
        out[i] = piece;
    }
    Ok(out)
}

/// A resource type id, e.g. `user`. Non-empty, no `:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceTypeId(String);

impl ResourceTypeId {
    /// Validates `id` as a resource type id.
    pub fn new(id: impl Into<String>) -> Result<Self, IdError> {
        Self::with_part(id.into(), IdPart::ResourceType)
    }

    fn with_part(id: String, part: IdPart) -> Result<Self, IdError> {
        check_segment(part, &id)?;
        Ok(Self(id))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceTypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ResourceTypeId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::new(s)
    }
}

impl AsRef<str> for ResourceTypeId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A reference to one resource: `<resource_type>:<resource_id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceRef {
    resource_type: ResourceTypeId,
    resource: String,
}

impl ResourceRef {
    /// Validates `resource` (non-empty, no `:`) and pairs it with its type.
    pub fn new(
        resource_type: ResourceTypeId,
        resource: impl Into<String>,
    ) -> Result<Self, IdError> {
        let resource = resource.into();
        check_segment(IdPart::ResourceId, &resource)?;
        Ok(Self {
            resource_type,
            resource,
        })
    }

    /// The resource type.
    pub fn resource_type(&self) -> &ResourceTypeId {
        &self.resource_type
    }

    /// The resource's id in the source system.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The wire form.
    pub fn to_pb(&self) -> pb::ResourceId {
        pb::ResourceId {
            resource_type: self.resource_type.0.clone(),
            resource: self.resource.clone(),
            baton_resource: false,
        }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource_type, self.resource)
    }
}

impl FromStr for ResourceRef {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, IdError> {
        let [rt, rid] = split_parts(s, [IdPart::ResourceType, IdPart::ResourceId], false)?;
        Ok(Self {
            resource_type: ResourceTypeId(rt.to_owned()),
            resource: rid.to_owned(),
        })
    }
}

impl TryFrom<&pb::ResourceId> for ResourceRef {
    type Error = IdError;

    fn try_from(id: &pb::ResourceId) -> Result<Self, IdError> {
        Self::new(
            ResourceTypeId::new(id.resource_type.clone())?,
            id.resource.clone(),
        )
    }
}

impl From<&ResourceRef> for pb::ResourceId {
    fn from(r: &ResourceRef) -> Self {
        r.to_pb()
    }
}

/// An entitlement id: `<resource_type>:<resource_id>:<slug>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntitlementId {
    resource: ResourceRef,
    slug: String,
}

impl EntitlementId {
    /// The id of the entitlement `slug` (non-empty, no `:`) on `resource`.
    pub fn new(resource: ResourceRef, slug: impl Into<String>) -> Result<Self, IdError> {
        let slug = slug.into();
        check_segment(IdPart::Slug, &slug)?;
        Ok(Self { resource, slug })
    }

    /// The resource the entitlement is on.
    pub fn resource(&self) -> &ResourceRef {
        &self.resource
    }

    /// The resource type of the entitlement's resource.
    pub fn resource_type(&self) -> &ResourceTypeId {
        &self.resource.resource_type
    }

    /// The id of the entitlement's resource.
    pub fn resource_id(&self) -> &str {
        &self.resource.resource
    }

    /// The slug, e.g. `member`.
    pub fn slug(&self) -> &str {
        &self.slug
    }
}

impl fmt::Display for EntitlementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource, self.slug)
    }
}

impl FromStr for EntitlementId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, IdError> {
        let [rt, rid, slug] = split_parts(
            s,
            [IdPart::ResourceType, IdPart::ResourceId, IdPart::Slug],
            false,
        )?;
        Ok(Self {
            resource: ResourceRef {
                resource_type: ResourceTypeId(rt.to_owned()),
                resource: rid.to_owned(),
            },
            slug: slug.to_owned(),
        })
    }
}

/// A grant id: `<entitlement_id>:<principal_type>:<principal_id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantId {
    entitlement: EntitlementId,
    principal_type: ResourceTypeId,
    principal_id: String,
}

impl GrantId {
    /// The id of the grant of `entitlement` to the principal `principal_type`/`principal_id`
    /// (`principal_id` is non-empty and may contain `:`).
    pub fn new(
        entitlement: EntitlementId,
        principal_type: ResourceTypeId,
        principal_id: impl Into<String>,
    ) -> Result<Self, IdError> {
        let principal_id = principal_id.into();
        check_tail(IdPart::PrincipalId, &principal_id)?;
        Ok(Self {
            entitlement,
            principal_type,
            principal_id,
        })
    }

    /// The id of the grant of `entitlement` to `principal`.
    pub fn for_principal(entitlement: EntitlementId, principal: &ResourceRef) -> Self {
        Self {
            entitlement,
            principal_type: principal.resource_type.clone(),
            principal_id: principal.resource.clone(),
        }
    }

    /// The granted entitlement.
    pub fn entitlement(&self) -> &EntitlementId {
        &self.entitlement
    }

    /// The principal's resource type.
    pub fn principal_type(&self) -> &ResourceTypeId {
        &self.principal_type
    }

    /// The principal's id.
    pub fn principal_id(&self) -> &str {
        &self.principal_id
    }
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.entitlement, self.principal_type, self.principal_id
        )
    }
}

impl FromStr for GrantId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, IdError> {
        let [rt, rid, slug, prt, pid] = split_parts(
            s,
            [
                IdPart::ResourceType,
                IdPart::ResourceId,
                IdPart::Slug,
                IdPart::PrincipalType,
                IdPart::PrincipalId,
            ],
            true,
        )?;
        Ok(Self {
            entitlement: EntitlementId {
                resource: ResourceRef {
                    resource_type: ResourceTypeId(rt.to_owned()),
                    resource: rid.to_owned(),
                },
                slug: slug.to_owned(),
            },
            principal_type: ResourceTypeId(prt.to_owned()),
            principal_id: pid.to_owned(),
        })
    }
}
