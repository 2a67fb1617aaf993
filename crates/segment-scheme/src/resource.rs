//! [`SegmentResource`]: a reference to any resource this connector syncs (`<type>:<id>` with
//! one of the nine resource type ids), as ConductorOne sends it back (e.g. the resource whose
//! entitlements or grants to list, or the resource to delete).

use std::fmt;
use std::str::FromStr;

use baton_model::ids::{IdError, IdPart, IdProblem, ResourceRef, ResourceTypeId};

use crate::{ALL_RESOURCE_TYPES, SchemeError};

/// A resource of one of the types in [`ALL_RESOURCE_TYPES`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentResource {
    /// The resource type id (one of [`ALL_RESOURCE_TYPES`]).
    pub resource_type: &'static str,
    /// The Segment id (the email address for an invitation). Never empty.
    pub id: String,
}

impl SegmentResource {
    /// The resource `resource_type`/`id`; fails on an unknown type
    /// ([`SchemeError::UnknownResourceType`]) or an empty id.
    pub fn new(resource_type: &str, id: impl Into<String>) -> Result<Self, SchemeError> {
        let id = id.into();
        let known = ALL_RESOURCE_TYPES
            .iter()
            .find(|t| **t == resource_type)
            .ok_or_else(|| SchemeError::UnknownResourceType {
                id: format!("{resource_type}:{id}"),
                resource_type: resource_type.to_owned(),
            })?;
        if id.is_empty() {
            return Err(IdError::new(IdPart::ResourceId, IdProblem::Empty).into());
        }
        Ok(Self {
            resource_type: known,
            id,
        })
    }

    /// The resource of a Baton resource reference.
    pub fn parse(resource: &ResourceRef) -> Result<Self, SchemeError> {
        Self::new(resource.resource_type().as_str(), resource.resource())
    }

    /// The Baton resource reference.
    pub fn resource_ref(&self) -> Result<ResourceRef, SchemeError> {
        Ok(ResourceRef::new(
            ResourceTypeId::new(self.resource_type)?,
            self.id.clone(),
        )?)
    }
}

impl fmt::Display for SegmentResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource_type, self.id)
    }
}

impl FromStr for SegmentResource {
    type Err = SchemeError;

    fn from_str(s: &str) -> Result<Self, SchemeError> {
        Self::parse(&s.parse::<ResourceRef>()?)
    }
}
