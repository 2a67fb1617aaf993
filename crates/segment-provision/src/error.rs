//! The crate's error type.

use std::fmt;
use std::sync::Arc;

/// Why a provisioning operation failed. Every message says what was refused or what went
/// wrong and, where there is one, what to do instead. No message ever contains the API token
/// (the underlying [`segment_api::Error`] never carries it).
///
/// Cheap to clone (API errors are shared behind an `Arc`), so one failed batch write can be
/// reported for every operation of the batch.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// The entitlement id is not one this connector emits.
    #[error("invalid entitlement {entitlement:?}: {reason}")]
    InvalidEntitlement {
        /// The entitlement id as given.
        entitlement: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The principal is not a valid `user`, `group` or `invite` resource reference.
    #[error("invalid principal {principal:?}: {reason}")]
    InvalidPrincipal {
        /// The principal as given.
        principal: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The entitlement cannot be granted to (or revoked from) this type of principal.
    #[error(
        "{entitlement} cannot be granted to or revoked from a {principal_type} principal; it applies to {supported}"
    )]
    UnsupportedPrincipal {
        /// The entitlement id.
        entitlement: String,
        /// The principal's resource type.
        principal_type: String,
        /// The principal types the entitlement supports (human text).
        supported: &'static str,
    },
    /// Roles cannot be granted to (or revoked from) a pending invitation.
    #[error(
        "cannot change role {entitlement} of the pending invitation {invite}: Segment cannot read an \
         invitation's permissions, so re-issuing the invitation would silently drop the roles it already \
         carries; the role can be granted once the invitation is accepted (grant it to the user then), \
         or be given with the invitation itself (create-account with the role)"
    )]
    RoleOnInvite {
        /// The entitlement id.
        entitlement: String,
        /// The invite principal (`invite:<email>`).
        invite: String,
    },
    /// Workspace membership is not granted through a grant.
    #[error(
        "workspace membership ({entitlement}) is not granted through a grant: invite the person with \
         create-account; they become a member when they accept"
    )]
    WorkspaceMembershipGrant {
        /// The entitlement id.
        entitlement: String,
    },
    /// Warehouse roles are read by the sync but cannot be provisioned through the Public API.
    #[error(
        "{entitlement}: warehouses are sync-only (Segment's Public API does not provision roles on \
         warehouses); change it in Segment's app. Nothing was changed"
    )]
    WarehouseSyncOnly {
        /// The entitlement id.
        entitlement: String,
    },
    /// The source, function or space of a scoped entitlement does not exist (fail closed).
    #[error(
        "{entitlement}: {resource} does not exist in the Segment workspace; nothing was changed"
    )]
    ScopedResourceNotFound {
        /// The entitlement id.
        entitlement: String,
        /// `<type>:<id>` of the missing resource.
        resource: String,
    },
    /// An `invite:` principal that is not a pending invitation (fail closed).
    #[error(
        "{invite} is not a pending invitation in the Segment workspace (create-account invites \
         a person); {entitlement} was not granted and nothing was changed"
    )]
    InviteNotPending {
        /// The entitlement id.
        entitlement: String,
        /// `invite:<email>`.
        invite: String,
    },
    /// A cross-process lock file could not be opened or locked (nothing was changed).
    #[error("cannot lock {path} to serialize writes with other processes: {reason}")]
    Lock {
        /// The lock file or directory.
        path: String,
        /// The operating system's message.
        reason: String,
    },
    /// Workspace membership is not revoked through a revoke.
    #[error(
        "workspace membership ({entitlement}) is not revoked through a revoke: remove the user from \
         the workspace with delete-resource (user:<id>), or withdraw a pending invitation (invite:<email>)"
    )]
    WorkspaceMembershipRevoke {
        /// The entitlement id.
        entitlement: String,
    },
    /// No role has the entitlement's role slug (fail closed: nothing was written).
    #[error(
        "{entitlement}: no Segment role has the slug {slug:?} (the role may have been renamed or deleted); \
         nothing was changed"
    )]
    RoleNotFound {
        /// The entitlement id.
        entitlement: String,
        /// The slug looked up.
        slug: String,
    },
    /// Several roles have the entitlement's role slug (fail closed: nothing was written).
    #[error(
        "{entitlement}: {} Segment roles have the slug {slug:?}: {}; nothing was changed (rename one of \
         the roles or use role:<roleId>:member)",
        candidates.len(),
        describe_roles(candidates)
    )]
    AmbiguousRole {
        /// The entitlement id.
        entitlement: String,
        /// The slug looked up.
        slug: String,
        /// `(role id, role name)` of every candidate, in the API's order.
        candidates: Vec<(String, String)>,
    },
    /// The role id of a `role:<roleId>:member` grant is not in the workspace's role list.
    #[error("{entitlement}: the workspace has no role with id {role_id:?}; nothing was changed")]
    UnknownRole {
        /// The entitlement id.
        entitlement: String,
        /// The role id.
        role_id: String,
    },
    /// The principal does not exist in Segment.
    #[error("{principal} does not exist in the Segment workspace")]
    PrincipalNotFound {
        /// The principal (`user:<id>`, `group:<id>`, `invite:<email>`).
        principal: String,
    },
    /// The type of a principal given without one could not be found out: no Segment user or
    /// group has this id, and it is not an email address (an invite).
    #[error(
        "unknown principal {id:?}: no Segment user or group has this id and it is not an email \
         address (an invitation); nothing was changed; pass --principal-type (user, group or \
         invite) or a `<type>:<id>` principal"
    )]
    UnknownPrincipal {
        /// The id as given.
        id: String,
    },
    /// The role slug of a scoped entitlement resolves to one role, but the principal holds
    /// another role with the same slug on that resource: the role list and the principal
    /// disagree (a renamed or re-created role). Fail closed: nothing was written.
    #[error(
        "{entitlement}: the slug {slug:?} resolves to role {:?} ({}), but {principal} holds role \
         {:?} ({}) with the same slug on that resource; the role list and the principal \
         disagree; nothing was changed (retry later, or revoke by role id)",
        resolved.1, resolved.0, found.1, found.0
    )]
    RoleMismatch {
        /// The entitlement id.
        entitlement: String,
        /// The slug looked up.
        slug: String,
        /// The principal (`user:<id>` or `group:<id>`).
        principal: String,
        /// `(role id, role name)` the slug resolved to.
        resolved: Box<(String, String)>,
        /// `(role id, role name)` the principal holds on the resource.
        found: Box<(String, String)>,
    },
    /// The group does not exist.
    #[error("group {group_id:?} does not exist in the Segment workspace")]
    GroupNotFound {
        /// The group id.
        group_id: String,
    },
    /// The principal's permissions kept changing under us.
    #[error(
        "{principal}: the permissions kept being changed by someone else while applying the change \
         ({attempts} writes, each undone or altered before it could be verified); stopped to avoid a \
         write war; check who else manages this principal and retry"
    )]
    ConflictRetriesExhausted {
        /// The principal.
        principal: String,
        /// Writes made.
        attempts: u32,
    },
    /// A write succeeded but reading the state back failed.
    #[error(
        "{principal}: the change was written but reading it back to verify it failed; re-run the same \
         operation to verify (it is idempotent): {source}"
    )]
    VerifyFailed {
        /// The principal.
        principal: String,
        /// The failed read.
        #[source]
        source: Arc<segment_api::Error>,
    },
    /// Segment said the email is already invited or a member, but neither was found.
    #[error(
        "creating an account for {email:?}: Segment says the address is already invited or a member, but \
         it is neither among the pending invitations nor among the users; retry account creation"
    )]
    AccountLookupInconclusive {
        /// The email.
        email: String,
    },
    /// Segment said the email is already invited or a member, and looking it up failed.
    #[error(
        "creating an account for {email:?}: Segment says the address is already invited or a member, and \
         looking up which failed; retry account creation: {source}"
    )]
    AccountLookupFailed {
        /// The email.
        email: String,
        /// The failed lookup.
        #[source]
        source: Arc<segment_api::Error>,
    },
    /// The invitation was sent but adding it to some groups failed.
    #[error(
        "invited {email:?} ({invite}), but adding the invitation to group(s) {} failed; grant \
         group:<id>:member to {invite} to finish: {source}",
        groups.join(", ")
    )]
    AccountGroupsFailed {
        /// The email.
        email: String,
        /// The invite resource (`invite:<email>`).
        invite: String,
        /// The groups not joined.
        groups: Vec<String>,
        /// The first failure.
        #[source]
        source: Box<ProvisionError>,
    },
    /// The address belongs to an existing member; applying the request's entitlements to that
    /// user failed for some of them.
    #[error(
        "{email:?} is already a workspace member ({account}), but granting {} to it failed; \
         grant them to {account} to finish: {source}",
        entitlements.join(", ")
    )]
    AccountEntitlementsFailed {
        /// The email.
        email: String,
        /// The member (`user:<id>`).
        account: String,
        /// The entitlements that failed.
        entitlements: Vec<String>,
        /// The first failure.
        #[source]
        source: Box<ProvisionError>,
    },
    /// The email address is not usable.
    #[error("invalid email address {email:?}: {reason}")]
    InvalidEmail {
        /// The email as given.
        email: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The resource type cannot be deleted.
    #[error("{resource} cannot be deleted: only user:<id> and invite:<email> resources can")]
    UnsupportedDelete {
        /// The resource.
        resource: String,
    },
    /// A bulk plan (or one of its operations) is malformed.
    #[error("invalid plan: {reason}")]
    InvalidPlan {
        /// What is wrong.
        reason: String,
    },
    /// The c1z file could not be read to resolve principals.
    #[error("reading principals from the c1z file failed: {reason}")]
    Directory {
        /// What went wrong.
        reason: String,
    },
    /// The Segment session (role cache) failed for another reason than an API call.
    #[error("Segment session: {reason}")]
    Session {
        /// What went wrong.
        reason: String,
    },
    /// A Segment API call failed.
    #[error("{context}: {source}")]
    Api {
        /// What was being done (e.g. "reading user:abc").
        context: String,
        /// The API error.
        #[source]
        source: Arc<segment_api::Error>,
    },
}

fn describe_roles(candidates: &[(String, String)]) -> String {
    candidates
        .iter()
        .map(|(id, name)| format!("{name:?} ({id})"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ProvisionError {
    /// Wraps an API error with what was being done.
    pub(crate) fn api(context: impl fmt::Display, source: segment_api::Error) -> Self {
        Self::Api {
            context: context.to_string(),
            source: Arc::new(source),
        }
    }

    /// Wraps a session (role cache) error with what was being done.
    pub(crate) fn session(context: impl fmt::Display, source: segment_cache::Error) -> Self {
        match source {
            segment_cache::Error::Api(source) => Self::Api {
                context: context.to_string(),
                source,
            },
            other => Self::Session {
                reason: format!("{context}: {other}"),
            },
        }
    }

    /// The underlying Segment API error, if this is one.
    pub fn api_error(&self) -> Option<&segment_api::Error> {
        match self {
            Self::Api { source, .. }
            | Self::VerifyFailed { source, .. }
            | Self::AccountLookupFailed { source, .. } => Some(source),
            Self::AccountGroupsFailed { source, .. }
            | Self::AccountEntitlementsFailed { source, .. } => source.api_error(),
            _ => None,
        }
    }

    /// Whether running the same operation again later may succeed (rate limits, server and
    /// transport errors, lookups to retry, verification reads, write conflicts). Refusals and
    /// invalid input are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { source, .. } => source.is_retryable(),
            Self::AccountEntitlementsFailed { source, .. } => source.is_retryable(),
            Self::VerifyFailed { .. }
            | Self::AccountLookupInconclusive { .. }
            | Self::AccountLookupFailed { .. }
            | Self::ConflictRetriesExhausted { .. }
            | Self::AccountGroupsFailed { .. } => true,
            _ => false,
        }
    }

    /// A stable snake_case name of the variant (for `--output json`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidEntitlement { .. } => "invalid_entitlement",
            Self::InvalidPrincipal { .. } => "invalid_principal",
            Self::UnsupportedPrincipal { .. } => "unsupported_principal",
            Self::RoleOnInvite { .. } => "role_on_invite",
            Self::WorkspaceMembershipGrant { .. } => "workspace_membership_grant",
            Self::WorkspaceMembershipRevoke { .. } => "workspace_membership_revoke",
            Self::WarehouseSyncOnly { .. } => "warehouse_sync_only",
            Self::Lock { .. } => "lock",
            Self::ScopedResourceNotFound { .. } => "scoped_resource_not_found",
            Self::InviteNotPending { .. } => "invite_not_pending",
            Self::RoleNotFound { .. } => "role_not_found",
            Self::AmbiguousRole { .. } => "ambiguous_role",
            Self::UnknownRole { .. } => "unknown_role",
            Self::PrincipalNotFound { .. } => "principal_not_found",
            Self::UnknownPrincipal { .. } => "unknown_principal",
            Self::RoleMismatch { .. } => "role_mismatch",
            Self::GroupNotFound { .. } => "group_not_found",
            Self::ConflictRetriesExhausted { .. } => "conflict_retries_exhausted",
            Self::VerifyFailed { .. } => "verify_failed",
            Self::AccountLookupInconclusive { .. } => "account_lookup_inconclusive",
            Self::AccountLookupFailed { .. } => "account_lookup_failed",
            Self::AccountGroupsFailed { .. } => "account_groups_failed",
            Self::AccountEntitlementsFailed { .. } => "account_entitlements_failed",
            Self::InvalidEmail { .. } => "invalid_email",
            Self::UnsupportedDelete { .. } => "unsupported_delete",
            Self::InvalidPlan { .. } => "invalid_plan",
            Self::Directory { .. } => "directory",
            Self::Session { .. } => "session",
            Self::Api { .. } => "api",
        }
    }
}
