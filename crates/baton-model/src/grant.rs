//! Grant builders (baton-sdk `NewGrant`).

use prost::Name;

use crate::ids::{EntitlementId, GrantId, ResourceRef, ResourceTypeId};
use crate::resource::resource_ref;
use crate::{Error, annotations, pb};

/// Builds a [`pb::Grant`]: id `<entitlement_id>:<principal_type>:<principal_id>`, the
/// entitlement as a stub `{id, resource}` like the Go SDK.
#[derive(Debug, Clone)]
pub struct GrantBuilder {
    id: GrantId,
    grant: pb::Grant,
}

/// A grant of `entitlement` to `principal` (embedded in full).
pub fn grant(
    entitlement: &pb::Entitlement,
    principal: &pb::Resource,
) -> Result<GrantBuilder, Error> {
    GrantBuilder::new(entitlement, principal.clone(), &resource_ref(principal)?)
}

/// A grant of `entitlement` to the principal `principal`, embedded as `Resource{id}` only.
pub fn grant_to(
    entitlement: &pb::Entitlement,
    principal: &ResourceRef,
) -> Result<GrantBuilder, Error> {
    let resource = pb::Resource {
        id: Some(principal.to_pb()),
        ..Default::default()
    };
    GrantBuilder::new(entitlement, resource, principal)
}

impl GrantBuilder {
    fn new(
        entitlement: &pb::Entitlement,
        principal: pb::Resource,
        principal_ref: &ResourceRef,
    ) -> Result<Self, Error> {
        if entitlement.id.is_empty() {
            return Err(Error::MissingId {
                what: "entitlement",
            });
        }
        let entitlement_id: EntitlementId = entitlement.id.parse()?;
        let id = GrantId::for_principal(entitlement_id, principal_ref);
        let grant = pb::Grant {
            entitlement: Some(pb::Entitlement {
                id: entitlement.id.clone(),
                resource: entitlement.resource.clone(),
                ..Default::default()
            }),
            principal: Some(principal),
            id: id.to_string(),
            ..Default::default()
        };
        Ok(Self { id, grant })
    }

    /// The grant's id.
    pub fn id(&self) -> &GrantId {
        &self.id
    }

    /// Adds a `GrantExpandable`: holders of each of `entitlement_ids` inherit this grant's
    /// entitlement (limited to principals of `resource_type_ids` when not empty).
    pub fn expandable(
        self,
        entitlement_ids: &[EntitlementId],
        shallow: bool,
        resource_type_ids: &[ResourceTypeId],
    ) -> Self {
        self.annotation(&pb::GrantExpandable {
            entitlement_ids: entitlement_ids.iter().map(ToString::to_string).collect(),
            shallow,
            resource_type_ids: resource_type_ids.iter().map(ToString::to_string).collect(),
        })
    }

    /// Adds an annotation (replacing one of the same type).
    pub fn annotation<M: Name>(mut self, msg: &M) -> Self {
        annotations::update(&mut self.grant.annotations, msg);
        self
    }

    /// The grant.
    pub fn build(self) -> pb::Grant {
        self.grant
    }
}
