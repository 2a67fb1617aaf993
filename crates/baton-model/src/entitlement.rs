//! Entitlement builders (baton-sdk `NewAssignmentEntitlement` / `NewPermissionEntitlement`).

use prost::Name;

use crate::ids::EntitlementId;
use crate::pb::{self, entitlement::PurposeValue};
use crate::resource::resource_ref;
use crate::{Error, annotations};

/// Builds a [`pb::Entitlement`]: id `<resource_type>:<resource_id>:<slug>`,
/// `display_name = slug = slug`, the full resource embedded.
#[derive(Debug, Clone)]
pub struct EntitlementBuilder {
    id: EntitlementId,
    entitlement: pb::Entitlement,
}

/// A membership-like entitlement (purpose ASSIGNMENT), e.g. group `member`.
pub fn assignment_entitlement(
    resource: &pb::Resource,
    slug: &str,
) -> Result<EntitlementBuilder, Error> {
    EntitlementBuilder::new(resource, slug, PurposeValue::Assignment)
}

/// A capability on a resource (purpose PERMISSION), e.g. source `admin`.
pub fn permission_entitlement(
    resource: &pb::Resource,
    slug: &str,
) -> Result<EntitlementBuilder, Error> {
    EntitlementBuilder::new(resource, slug, PurposeValue::Permission)
}

impl EntitlementBuilder {
    /// The entitlement `slug` on `resource` with `purpose`.
    pub fn new(resource: &pb::Resource, slug: &str, purpose: PurposeValue) -> Result<Self, Error> {
        let id = EntitlementId::new(resource_ref(resource)?, slug)?;
        let entitlement = pb::Entitlement {
            resource: Some(resource.clone()),
            id: id.to_string(),
            display_name: slug.to_owned(),
            purpose: purpose as i32,
            slug: slug.to_owned(),
            ..Default::default()
        };
        Ok(Self { id, entitlement })
    }

    /// The entitlement's id.
    pub fn id(&self) -> &EntitlementId {
        &self.id
    }

    /// Overrides the display name (default: the slug).
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.entitlement.display_name = name.into();
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.entitlement.description = description.into();
        self
    }

    /// Adds a resource type whose resources may hold the entitlement.
    pub fn grantable_to(mut self, resource_type: &pb::ResourceType) -> Self {
        self.entitlement.grantable_to.push(resource_type.clone());
        self
    }

    /// Adds an annotation (replacing one of the same type).
    pub fn annotation<M: Name>(mut self, msg: &M) -> Self {
        annotations::update(&mut self.entitlement.annotations, msg);
        self
    }

    /// The entitlement.
    pub fn build(self) -> pb::Entitlement {
        self.entitlement
    }
}
