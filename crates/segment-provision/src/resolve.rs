//! Resolution before any write: the workspace, role slugs to one role, principals' emails,
//! and each grant or revoke to the permission or membership change it means.

use baton_model::ids::{EntitlementId, ResourceRef};
use segment_api::{PermissionInput, PermissionResource, ResourceKind, Role, Workspace};
use segment_scheme::{self as scheme, PrincipalType, SchemeError, SegmentEntitlement};

use crate::ProvisionError;
use crate::context::{Inner, Run};
use crate::perm_batch::Subject;
use crate::perms::PermChange;

/// A resolved grant or revoke.
#[derive(Debug)]
pub(crate) enum Target {
    /// A revoke from a principal that does not exist: nothing to do.
    Gone(String),
    Perm {
        subject: Subject,
        change: PermChange,
        /// The role slug of a scoped entitlement (its role id was resolved from it).
        slug: Option<String>,
    },
    Member {
        group_id: String,
        email: String,
        user_id: Option<String>,
    },
}

pub(crate) fn invalid_entitlement(id: &EntitlementId, e: &SchemeError) -> ProvisionError {
    ProvisionError::InvalidEntitlement {
        entitlement: id.to_string(),
        reason: e.to_string(),
    }
}

impl Inner {
    pub(crate) async fn workspace(&self) -> Result<Workspace, ProvisionError> {
        self.workspace
            .get_or_try_init(|| async {
                self.session
                    .client()
                    .get_workspace()
                    .await
                    .map_err(|e| ProvisionError::api("reading the workspace (GET /)", e))
            })
            .await
            .cloned()
    }

    /// The one role whose slug is `slug`; lists roles again once before failing (a role may
    /// have just been created or renamed).
    pub(crate) async fn resolve_slug(
        &self,
        entitlement: &EntitlementId,
        slug: &str,
    ) -> Result<Role, ProvisionError> {
        let context = || format!("listing roles to resolve {entitlement}");
        let mut refreshed = false;
        loop {
            let roles = self
                .session
                .roles()
                .await
                .map_err(|e| ProvisionError::session(context(), e))?;
            match scheme::resolve_role_slug(&roles, slug) {
                Ok(role) => return Ok(role.clone()),
                Err(_) if !refreshed => {
                    refreshed = true;
                    self.session.invalidate_roles();
                }
                Err(SchemeError::AmbiguousRoleSlug { candidates, .. }) => {
                    return Err(ProvisionError::AmbiguousRole {
                        entitlement: entitlement.to_string(),
                        slug: slug.to_owned(),
                        candidates,
                    });
                }
                Err(_) => {
                    return Err(ProvisionError::RoleNotFound {
                        entitlement: entitlement.to_string(),
                        slug: slug.to_owned(),
                    });
                }
            }
        }
    }

    /// Checks that a role id exists (listing roles again once before failing).
    pub(crate) async fn check_role_exists(
        &self,
        entitlement: &EntitlementId,
        role_id: &str,
    ) -> Result<(), ProvisionError> {
        let context = || format!("listing roles to check {entitlement}");
        for refresh in [false, true] {
            if refresh {
                self.session.invalidate_roles();
            }
            let found = self
                .session
                .role_by_id(role_id)
                .await
                .map_err(|e| ProvisionError::session(context(), e))?;
            if found.is_some() {
                return Ok(());
            }
        }
        Err(ProvisionError::UnknownRole {
            entitlement: entitlement.to_string(),
            role_id: role_id.to_owned(),
        })
    }

    /// The email of a user principal, read fresh: this run's lookups, else `GET /users/{id}`.
    /// Never from a c1z directory (it may be outdated; the email is written).
    pub(crate) async fn user_email(
        &self,
        run: &Run<'_>,
        user_id: &str,
    ) -> Result<String, ProvisionError> {
        if let Some(email) = run
            .emails
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(user_id)
        {
            return Ok(email.clone());
        }
        match self.session.client().get_user(user_id).await {
            Ok(user) if !user.email.is_empty() => {
                run.emails
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(user_id.to_owned(), user.email.clone());
                Ok(user.email)
            }
            Ok(_) => Err(ProvisionError::InvalidPrincipal {
                principal: format!("user:{user_id}"),
                reason: "Segment lists no email address for this user".to_owned(),
            }),
            Err(segment_api::Error::NotFound { .. }) => Err(ProvisionError::PrincipalNotFound {
                principal: format!("user:{user_id}"),
            }),
            Err(e) => Err(ProvisionError::api(format!("reading user:{user_id}"), e)),
        }
    }

    /// The permission change of granting (`grant == true`) or revoking the permission
    /// entitlement `entitlement` (`id`) with its role resolved to `role_id`.
    pub(crate) fn perm_change(
        id: &EntitlementId,
        entitlement: &SegmentEntitlement,
        role_id: &str,
        workspace_id: &str,
        grant: bool,
    ) -> Result<PermChange, ProvisionError> {
        let key = entitlement
            .permission_key(role_id, workspace_id)
            .ok_or_else(|| ProvisionError::InvalidEntitlement {
                entitlement: id.to_string(),
                reason: "not a permission entitlement".to_owned(),
            })?;
        if !grant {
            return Ok(PermChange::Remove { key });
        }
        let input = match entitlement {
            // Label scoping sits on the WORKSPACE resource.
            SegmentEntitlement::RoleMember { labels, .. } => PermissionInput::new(
                role_id.to_owned(),
                vec![PermissionResource {
                    id: workspace_id.to_owned(),
                    kind: ResourceKind::Workspace,
                    labels: labels.to_labels(),
                }],
            ),
            // Segment allows resource labels on WORKSPACE only: a labelled scoped
            // entitlement carries them on the permission.
            _ => PermissionInput {
                role_id: role_id.to_owned(),
                resources: vec![PermissionResource::new(
                    key.resource_id.clone(),
                    key.kind.clone(),
                )],
                labels: key.labels.to_labels(),
            },
        };
        Ok(PermChange::Add { key, input })
    }

    /// What a grant (`grant == true`) or revoke of `id` to/from `principal` changes. A revoke
    /// from a user that does not exist is [`Target::Gone`] only when its type was `stated`.
    pub(crate) async fn resolve(
        &self,
        run: &Run<'_>,
        id: &EntitlementId,
        principal: &ResourceRef,
        grant: bool,
        stated: bool,
    ) -> Result<Target, ProvisionError> {
        let entitlement = SegmentEntitlement::parse(id).map_err(|e| invalid_entitlement(id, &e))?;
        let ptype: PrincipalType =
            principal
                .resource_type()
                .as_str()
                .parse()
                .map_err(|e: SchemeError| ProvisionError::InvalidPrincipal {
                    principal: principal.to_string(),
                    reason: e.to_string(),
                })?;
        let unsupported = |supported| ProvisionError::UnsupportedPrincipal {
            entitlement: id.to_string(),
            principal_type: ptype.as_str().to_owned(),
            supported,
        };
        let pid = principal.resource();
        match entitlement {
            SegmentEntitlement::WorkspaceMember { .. } => Err(if grant {
                ProvisionError::WorkspaceMembershipGrant {
                    entitlement: id.to_string(),
                }
            } else {
                ProvisionError::WorkspaceMembershipRevoke {
                    entitlement: id.to_string(),
                }
            }),
            SegmentEntitlement::GroupMember { group_id } => match ptype {
                PrincipalType::User => match self.user_email(run, pid).await {
                    Ok(email) => Ok(Target::Member {
                        group_id,
                        email,
                        user_id: Some(pid.to_owned()),
                    }),
                    Err(ProvisionError::PrincipalNotFound { principal }) if !grant && stated => Ok(
                        Target::Gone(format!("{principal} does not exist in Segment")),
                    ),
                    Err(e) => Err(e),
                },
                PrincipalType::Invite => Ok(Target::Member {
                    group_id,
                    email: pid.to_owned(),
                    user_id: None,
                }),
                PrincipalType::Group => Err(unsupported("users and invites")),
            },
            SegmentEntitlement::RoleMember { .. } | SegmentEntitlement::Scoped { .. } => {
                let subject = match ptype {
                    PrincipalType::User => Subject::User(pid.to_owned()),
                    PrincipalType::Group => Subject::Group(pid.to_owned()),
                    PrincipalType::Invite => {
                        return Err(ProvisionError::RoleOnInvite {
                            entitlement: id.to_string(),
                            invite: principal.to_string(),
                        });
                    }
                };
                let (role_id, slug) = match &entitlement {
                    SegmentEntitlement::Scoped { role_slug, .. } => (
                        self.resolve_slug(id, role_slug).await?.id,
                        Some(role_slug.clone()),
                    ),
                    SegmentEntitlement::RoleMember { role_id, .. } => {
                        if grant {
                            self.check_role_exists(id, role_id).await?;
                        }
                        (role_id.clone(), None)
                    }
                    _ => (String::new(), None),
                };
                let workspace = self.workspace().await?;
                let change = Self::perm_change(id, &entitlement, &role_id, &workspace.id, grant)?;
                Ok(Target::Perm {
                    subject,
                    change,
                    slug,
                })
            }
        }
    }
}
