//! [`SegmentEntitlement`]: the typed form of every entitlement id this connector emits, and
//! its exact inverse parser.

use std::fmt;
use std::str::FromStr;

use baton_model::ids::{EntitlementId, ResourceRef, ResourceTypeId};
use segment_api::ResourceKind;

use crate::permission::PermissionKey;
use crate::resource_types::{GROUP, MEMBER_SLUG, ROLE, ScopeType, WORKSPACE};
use crate::{LabelSet, SchemeError};

/// Separator between a slug and its label set inside an entitlement slug.
const LABEL_SEPARATOR: char = '@';

/// The typed form of every entitlement id this connector emits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentEntitlement {
    /// `workspace:<workspace_id>:member`.
    WorkspaceMember {
        /// The workspace id.
        workspace_id: String,
    },
    /// `group:<group_id>:member`.
    GroupMember {
        /// The group id.
        group_id: String,
    },
    /// `role:<role_id>:member` (workspace-wide role), or `role:<role_id>:member@<labels>` (the
    /// role on the workspace narrowed by labels).
    RoleMember {
        /// The role id.
        role_id: String,
        /// The label set (empty = workspace-wide).
        labels: LabelSet,
    },
    /// `<scope>:<resource_id>:<role_slug>[@<labels>]`: the role (by slug of its name) on one
    /// source, warehouse, function or space.
    Scoped {
        /// The scope resource type.
        scope: ScopeType,
        /// The scope resource id.
        resource_id: String,
        /// [`role_slug`] of the role name.
        role_slug: String,
        /// Labels (normally empty).
        labels: LabelSet,
    },
}

/// `slug` or `slug@<labels>` (labels omitted when empty).
fn slug_with_labels(slug: &str, labels: &LabelSet) -> String {
    if labels.is_empty() {
        slug.to_owned()
    } else {
        format!("{slug}{LABEL_SEPARATOR}{}", labels.encode())
    }
}

impl SegmentEntitlement {
    /// `role:<role_id>:member`: the role on the whole workspace.
    pub fn role_member(role_id: impl Into<String>) -> Self {
        Self::RoleMember {
            role_id: role_id.into(),
            labels: LabelSet::new(),
        }
    }

    /// `group:<group_id>:member`.
    pub fn group_member(group_id: impl Into<String>) -> Self {
        Self::GroupMember {
            group_id: group_id.into(),
        }
    }

    /// The Baton resource type id of the entitlement's resource.
    pub fn resource_type(&self) -> &'static str {
        match self {
            Self::WorkspaceMember { .. } => WORKSPACE,
            Self::GroupMember { .. } => GROUP,
            Self::RoleMember { .. } => ROLE,
            Self::Scoped { scope, .. } => scope.resource_type_id(),
        }
    }

    /// The id of the entitlement's resource in Segment.
    pub fn resource_id(&self) -> &str {
        match self {
            Self::WorkspaceMember { workspace_id } => workspace_id,
            Self::GroupMember { group_id } => group_id,
            Self::RoleMember { role_id, .. } => role_id,
            Self::Scoped { resource_id, .. } => resource_id,
        }
    }

    /// The label set (empty for memberships).
    pub fn labels(&self) -> Option<&LabelSet> {
        match self {
            Self::RoleMember { labels, .. } | Self::Scoped { labels, .. } => Some(labels),
            _ => None,
        }
    }

    /// The entitlement slug (`member`, `member@<labels>`, `<role slug>[@<labels>]`).
    pub fn slug(&self) -> String {
        match self {
            Self::WorkspaceMember { .. } | Self::GroupMember { .. } => MEMBER_SLUG.to_owned(),
            Self::RoleMember { labels, .. } => slug_with_labels(MEMBER_SLUG, labels),
            Self::Scoped {
                role_slug, labels, ..
            } => slug_with_labels(role_slug, labels),
        }
    }

    /// The entitlement's resource reference (`<type>:<id>`).
    pub fn resource_ref(&self) -> Result<ResourceRef, SchemeError> {
        Ok(ResourceRef::new(
            ResourceTypeId::new(self.resource_type())?,
            self.resource_id(),
        )?)
    }

    /// The Baton entitlement id. Fails only when a part cannot be represented (an empty id or
    /// one containing `:`, or a role slug containing `@`).
    pub fn entitlement_id(&self) -> Result<EntitlementId, SchemeError> {
        if let Self::Scoped { role_slug, .. } = self
            && role_slug.contains(LABEL_SEPARATOR)
        {
            return Err(SchemeError::InvalidSlug {
                id: self.to_string(),
                reason: "a role slug may not contain '@'",
            });
        }
        Ok(EntitlementId::new(self.resource_ref()?, self.slug())?)
    }

    /// The typed form of an entitlement id (canonical form only).
    pub fn parse(id: &EntitlementId) -> Result<Self, SchemeError> {
        let invalid = |reason| SchemeError::InvalidSlug {
            id: id.to_string(),
            reason,
        };
        let resource_id = id.resource_id().to_owned();
        let (slug, labels) = match id.slug().split_once(LABEL_SEPARATOR) {
            None => (id.slug(), LabelSet::new()),
            Some((slug, encoded)) => {
                let labels = LabelSet::parse(encoded)?;
                if labels.is_empty() {
                    return Err(invalid("'@' must be followed by at least one label"));
                }
                (slug, labels)
            }
        };
        match id.resource_type().as_str() {
            WORKSPACE | GROUP => {
                if slug != MEMBER_SLUG || !labels.is_empty() {
                    return Err(invalid("the only entitlement of this type is 'member'"));
                }
                Ok(if id.resource_type().as_str() == WORKSPACE {
                    Self::WorkspaceMember {
                        workspace_id: resource_id,
                    }
                } else {
                    Self::GroupMember {
                        group_id: resource_id,
                    }
                })
            }
            ROLE => {
                if slug != MEMBER_SLUG {
                    return Err(invalid(
                        "the only entitlement of a role is 'member' (optionally '@<labels>')",
                    ));
                }
                Ok(Self::RoleMember {
                    role_id: resource_id,
                    labels,
                })
            }
            other => match ScopeType::from_resource_type_id(other) {
                Some(scope) => {
                    if slug.is_empty() {
                        return Err(invalid("the role slug is empty"));
                    }
                    Ok(Self::Scoped {
                        scope,
                        resource_id,
                        role_slug: slug.to_owned(),
                        labels,
                    })
                }
                None => Err(SchemeError::UnknownResourceType {
                    id: id.to_string(),
                    resource_type: other.to_owned(),
                }),
            },
        }
    }

    /// The permission entry this entitlement stands for, given the id of its role (for
    /// [`Scoped`](Self::Scoped), resolved from the slug by the caller, e.g. with
    /// [`resolve_role_slug`]) and the workspace id. `None` for memberships.
    pub fn permission_key(&self, role_id: &str, workspace_id: &str) -> Option<PermissionKey> {
        match self {
            Self::WorkspaceMember { .. } | Self::GroupMember { .. } => None,
            Self::RoleMember {
                role_id: own,
                labels,
            } => Some(PermissionKey {
                role_id: own.clone(),
                kind: ResourceKind::Workspace,
                resource_id: workspace_id.to_owned(),
                labels: labels.clone(),
            }),
            Self::Scoped {
                scope,
                resource_id,
                labels,
                ..
            } => Some(PermissionKey {
                role_id: role_id.to_owned(),
                kind: scope.to_resource_kind(),
                resource_id: resource_id.clone(),
                labels: labels.clone(),
            }),
        }
    }
}

impl fmt::Display for SegmentEntitlement {
    /// The entitlement id as text (same as `entitlement_id()` when that succeeds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.resource_type(),
            self.resource_id(),
            self.slug()
        )
    }
}

impl FromStr for SegmentEntitlement {
    type Err = SchemeError;

    fn from_str(s: &str) -> Result<Self, SchemeError> {
        Self::parse(&s.parse::<EntitlementId>()?)
    }
}

impl TryFrom<&EntitlementId> for SegmentEntitlement {
    type Error = SchemeError;

    fn try_from(id: &EntitlementId) -> Result<Self, SchemeError> {
        Self::parse(id)
    }
}
