//! [`SegmentPrincipal`] and [`SegmentGrant`]: the typed forms of principal references
//! (`user:<id>`, `group:<id>`, `invite:<email>`) and grant ids
//! (`<entitlement id>:<principal type>:<principal id>`), as ConductorOne sends them back.

use std::fmt;
use std::str::FromStr;

use baton_model::ids::{GrantId, IdError, IdPart, IdProblem, ResourceRef, ResourceTypeId};

use crate::{PrincipalType, SchemeError, SegmentEntitlement};

/// A principal a grant can go to: a user, a group or a pending invitation (keyed by email).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentPrincipal {
    /// What kind of principal.
    pub kind: PrincipalType,
    /// Its Segment id (the email address for an invitation). Never empty.
    pub id: String,
}

impl SegmentPrincipal {
    /// The principal `kind`/`id`; fails when `id` is empty.
    pub fn new(kind: PrincipalType, id: impl Into<String>) -> Result<Self, SchemeError> {
        let id = id.into();
        if id.is_empty() {
            return Err(IdError::new(IdPart::PrincipalId, IdProblem::Empty).into());
        }
        Ok(Self { kind, id })
    }

    /// A workspace user.
    pub fn user(id: impl Into<String>) -> Result<Self, SchemeError> {
        Self::new(PrincipalType::User, id)
    }

    /// A user group.
    pub fn group(id: impl Into<String>) -> Result<Self, SchemeError> {
        Self::new(PrincipalType::Group, id)
    }

    /// A pending invitation, by email address.
    pub fn invite(email: impl Into<String>) -> Result<Self, SchemeError> {
        Self::new(PrincipalType::Invite, email)
    }

    /// The principal of a Baton resource reference (`user:u1`, ...); any other resource type
    /// is [`SchemeError::UnknownPrincipalType`].
    pub fn parse(resource: &ResourceRef) -> Result<Self, SchemeError> {
        let kind = resource.resource_type().as_str().parse::<PrincipalType>()?;
        Self::new(kind, resource.resource())
    }

    /// The Baton resource reference (`<type>:<id>`); fails when the id contains `:`, which a
    /// resource id may not (a grant id's principal part may).
    pub fn resource_ref(&self) -> Result<ResourceRef, SchemeError> {
        Ok(ResourceRef::new(
            ResourceTypeId::new(self.kind.as_str())?,
            self.id.clone(),
        )?)
    }
}

impl fmt::Display for SegmentPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

impl FromStr for SegmentPrincipal {
    type Err = SchemeError;

    /// Parses `<type>:<id>`; the id may itself contain `:`.
    fn from_str(s: &str) -> Result<Self, SchemeError> {
        let (kind, id) = s
            .split_once(':')
            .ok_or(IdError::new(IdPart::ResourceId, IdProblem::Missing))?;
        Self::new(kind.parse()?, id)
    }
}

/// One grant: an entitlement this connector emits, given to a principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentGrant {
    /// The granted entitlement.
    pub entitlement: SegmentEntitlement,
    /// Who holds it.
    pub principal: SegmentPrincipal,
}

impl SegmentGrant {
    /// The typed form of a Baton grant id.
    pub fn parse(id: &GrantId) -> Result<Self, SchemeError> {
        let entitlement = SegmentEntitlement::parse(id.entitlement())?;
        let kind = id.principal_type().as_str().parse::<PrincipalType>()?;
        Ok(Self {
            entitlement,
            principal: SegmentPrincipal::new(kind, id.principal_id())?,
        })
    }

    /// The Baton grant id.
    pub fn grant_id(&self) -> Result<GrantId, SchemeError> {
        Ok(GrantId::new(
            self.entitlement.entitlement_id()?,
            ResourceTypeId::new(self.principal.kind.as_str())?,
            self.principal.id.clone(),
        )?)
    }
}

impl fmt::Display for SegmentGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.entitlement, self.principal)
    }
}

impl FromStr for SegmentGrant {
    type Err = SchemeError;

    fn from_str(s: &str) -> Result<Self, SchemeError> {
        Self::parse(&s.parse::<GrantId>()?)
    }
}
