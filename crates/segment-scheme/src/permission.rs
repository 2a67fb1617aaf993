//! [`PermissionKey`]: one entry of a user's or group's Segment permissions, the unit a grant
//! stands for and a revoke removes.

use segment_api::{Permission, PermissionResource, ResourceKind};

use crate::{LabelSet, SegmentEntitlement};

/// One `(role, resource kind, resource id, label set)` entry of a user's or group's
/// permissions: the unit that a grant stands for and that a revoke removes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PermissionKey {
    /// The role id.
    pub role_id: String,
    /// The resource kind (`WORKSPACE`, `SOURCE`, ...).
    pub kind: ResourceKind,
    /// The resource id (the workspace id for `WORKSPACE`).
    pub resource_id: String,
    /// The resource's labels united with the permission-level labels.
    pub labels: LabelSet,
}

impl PermissionKey {
    /// The entry of one resource of a permission.
    pub fn new(permission: &Permission, resource: &PermissionResource) -> Self {
        Self {
            role_id: permission.role_id.clone(),
            kind: resource.kind.clone(),
            resource_id: resource.id.clone(),
            labels: LabelSet::of_permission_resource(permission, resource),
        }
    }

    /// The entries of every resource of a permission.
    pub fn all_of(permission: &Permission) -> impl Iterator<Item = PermissionKey> + '_ {
        permission
            .resources
            .iter()
            .map(move |r| Self::new(permission, r))
    }
}

/// Whether the entry `(perm, perm_resource)` is the one that `ent` stands for, with `role_id`
/// the id of the entitlement's role (resolved from the slug for scoped entitlements; ignored
/// for role memberships, whose id carries it) in the workspace `workspace_id`.
pub fn permission_matches(
    perm_resource: &PermissionResource,
    perm: &Permission,
    ent: &SegmentEntitlement,
    role_id: &str,
    workspace_id: &str,
) -> bool {
    ent.permission_key(role_id, workspace_id)
        .is_some_and(|key| key == PermissionKey::new(perm, perm_resource))
}
