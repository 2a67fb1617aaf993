//! Accounts: creating them (invitations, with their roles and then their group memberships)
//! and deleting users and invitations.

use std::collections::{BTreeMap, HashMap};

use baton_model::ids::{EntitlementId, ResourceRef, ResourceTypeId};
use futures::{StreamExt, TryStreamExt};
use segment_api::{InviteInput, InvitePermissionInput, PermissionResource, ResourceKind};
use segment_scheme::{self as scheme, SegmentEntitlement};
use serde_json::json;

use crate::context::{OpResults, Run};
use crate::outcome::PlannedWrite;
use crate::{Outcome, OutcomeKind, ProvisionError};

/// What account to create: an invitation to `email`, optionally carrying roles and followed
/// by group memberships.
///
/// `entitlements` may hold:
/// * `role:<roleId>:member[@labels]` and `<source|warehouse|function|space>:<id>:<slug>[@labels]`:
///   sent inside the invitation (Segment's `InviteV1.permissions`, one call); resolved and
///   checked before anything is sent (fail closed);
/// * `group:<groupId>:member`: Segment cannot put group memberships into an invitation, so
///   they are added right after it with `POST /groups/{id}/users` (an invitee can be a group
///   member); they are also ensured when the address already has a pending invitation;
/// * `workspace:<ws>:member`: implied by the invitation, ignored.
///
/// When the address already belongs to a workspace member, every requested role and group is
/// granted to that `user:<id>` instead (through the normal grant path; see
/// [`Outcome::applied`](crate::Outcome::applied)). When it already has a pending invitation,
/// its groups are ensured, but roles cannot be applied (Segment can neither read nor amend an
/// invitation's permissions): they are listed in
/// [`Outcome::roles_not_applied`](crate::Outcome::roles_not_applied) and the note, and the
/// outcome is not a no-op ([`Outcome::is_noop`](crate::Outcome::is_noop)), rather than a
/// plain "already invited" that silently dropped them. (It is no error: the invitation may
/// well carry them already, e.g. when re-running a plan that created it.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRequest {
    /// The address to invite.
    pub email: String,
    /// Entitlements to give the new account (see above).
    pub entitlements: Vec<EntitlementId>,
}

impl AccountRequest {
    /// An invitation to `email` without roles or groups.
    pub fn new(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            entitlements: Vec::new(),
        }
    }

    /// With one more entitlement (see the type's docs).
    #[must_use]
    pub fn with_entitlement(mut self, entitlement: EntitlementId) -> Self {
        self.entitlements.push(entitlement);
        self
    }
}

/// A checked account request.
#[derive(Debug, Clone)]
struct Prepared {
    index: usize,
    email: String,
    permissions: Vec<InvitePermissionInput>,
    /// The role entitlements (role memberships and scoped roles) requested, in order.
    roles: Vec<EntitlementId>,
    groups: Vec<String>,
}

/// A grant to run after an account operation (its group memberships, or, for an existing
/// member, everything requested), reported inside the account's outcome.
#[derive(Debug, Clone)]
pub(crate) struct FollowUp {
    /// The account operation's index.
    pub(crate) index: usize,
    pub(crate) entitlement: EntitlementId,
    pub(crate) principal: ResourceRef,
}

/// What [`create_accounts`] did.
#[derive(Debug, Default)]
pub(crate) struct Accounts {
    pub(crate) results: OpResults,
    pub(crate) follow: Vec<FollowUp>,
    /// Per account index: requested roles a pending invitation could not take.
    pub(crate) unapplied: BTreeMap<usize, Vec<EntitlementId>>,
}

pub(crate) fn invite_ref(email: &str) -> Result<ResourceRef, ProvisionError> {
    ResourceTypeId::new(scheme::INVITE)
        .and_then(|t| ResourceRef::new(t, email))
        .map_err(|e| ProvisionError::InvalidEmail {
            email: email.to_owned(),
            reason: if e.problem() == baton_model::ids::IdProblem::ContainsColon {
                "it contains ':'"
            } else {
                "it is empty"
            },
        })
}

pub(crate) fn user_ref(id: &str) -> Result<ResourceRef, ProvisionError> {
    ResourceTypeId::new(scheme::USER)
        .and_then(|t| ResourceRef::new(t, id))
        .map_err(|e| ProvisionError::InvalidPrincipal {
            principal: format!("user:{id}"),
            reason: e.to_string(),
        })
}

fn check_email(email: &str) -> Result<String, ProvisionError> {
    let email = email.trim();
    let bad = |reason| ProvisionError::InvalidEmail {
        email: email.to_owned(),
        reason,
    };
    if email.is_empty() {
        return Err(bad("it is empty"));
    }
    if email.chars().any(char::is_whitespace) {
        return Err(bad("it contains whitespace"));
    }
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {}
        _ => return Err(bad("it is not of the form name@domain")),
    }
    invite_ref(email)?;
    Ok(email.to_owned())
}

async fn prepare(
    run: &Run<'_>,
    index: usize,
    request: &AccountRequest,
) -> Result<Prepared, ProvisionError> {
    let email = check_email(&request.email)?;
    let mut permissions = Vec::new();
    let mut roles: Vec<EntitlementId> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for id in &request.entitlements {
        let entitlement =
            SegmentEntitlement::parse(id).map_err(|e| ProvisionError::InvalidEntitlement {
                entitlement: id.to_string(),
                reason: e.to_string(),
            })?;
        match &entitlement {
            SegmentEntitlement::WorkspaceMember { .. } => {}
            SegmentEntitlement::GroupMember { group_id } => {
                if !groups.contains(group_id) {
                    groups.push(group_id.clone());
                }
            }
            SegmentEntitlement::RoleMember { role_id, labels } => {
                run.inner.check_role_exists(id, role_id).await?;
                roles.push(id.clone());
                let workspace = run.inner.workspace().await?;
                permissions.push(InvitePermissionInput {
                    role_id: role_id.clone(),
                    resources: vec![PermissionResource::new(
                        workspace.id,
                        ResourceKind::Workspace,
                    )],
                    // An invitation's resources carry no labels; labels go on the permission.
                    labels: labels.to_labels(),
                });
            }
            SegmentEntitlement::Scoped {
                scope,
                resource_id,
                role_slug,
                labels,
            } => {
                let role = run.inner.resolve_slug(id, role_slug).await?;
                roles.push(id.clone());
                permissions.push(InvitePermissionInput {
                    role_id: role.id,
                    resources: vec![PermissionResource::new(
                        resource_id.clone(),
                        scope.to_resource_kind(),
                    )],
                    labels: labels.to_labels(),
                });
            }
        }
    }
    Ok(Prepared {
        index,
        email,
        permissions,
        roles,
        groups,
    })
}

fn create_write(invites: &[InviteInput]) -> PlannedWrite {
    PlannedWrite {
        operation: "createInvites",
        method: "POST",
        path: "/invites".to_owned(),
        body: Some(json!({ "invites": invites })),
    }
}

fn invite_input(p: &Prepared) -> InviteInput {
    InviteInput {
        email: p.email.clone(),
        permissions: p.permissions.clone(),
    }
}

fn group_entitlement(gid: &str) -> Result<EntitlementId, ProvisionError> {
    SegmentEntitlement::GroupMember {
        group_id: gid.to_owned(),
    }
    .entitlement_id()
    .map_err(|e| ProvisionError::InvalidEntitlement {
        entitlement: format!("group:{gid}:member"),
        reason: e.to_string(),
    })
}

/// The grants that follow an account outcome: the groups of a new or pending invitation (to
/// `invite:<listed email>`), or every requested role and group of an existing member (to
/// `user:<id>`).
fn follow_ups(
    p: &Prepared,
    kind: OutcomeKind,
    resource: &ResourceRef,
) -> Result<Vec<FollowUp>, ProvisionError> {
    let follow = |entitlement: EntitlementId| FollowUp {
        index: p.index,
        entitlement,
        principal: resource.clone(),
    };
    let groups = p.groups.iter().map(|g| group_entitlement(g).map(follow));
    match kind {
        OutcomeKind::Invited | OutcomeKind::AlreadyInvited => groups.collect(),
        OutcomeKind::AlreadyAMember => p
            .roles
            .iter()
            .map(|r| Ok(follow(r.clone())))
            .chain(groups)
            .collect(),
        _ => Ok(Vec::new()),
    }
}

/// An account outcome, the grants to run after it, and the requested roles it cannot take.
type AccountResult = (
    usize,
    Result<Outcome, ProvisionError>,
    Vec<FollowUp>,
    Vec<EntitlementId>,
);

fn account_outcome(
    p: &Prepared,
    kind: OutcomeKind,
    dry_run: bool,
    resource: ResourceRef,
    writes: Vec<PlannedWrite>,
) -> AccountResult {
    let follow = follow_ups(p, kind, &resource);
    let outcome = Outcome {
        resource: Some(resource),
        email: Some(p.email.clone()),
        writes,
        ..Outcome::new(kind, dry_run)
    };
    // A pending invitation's roles can be neither read nor amended.
    let unapplied = if kind == OutcomeKind::AlreadyInvited {
        p.roles.clone()
    } else {
        Vec::new()
    };
    match follow {
        Ok(ops) => (p.index, Ok(outcome), ops, unapplied),
        Err(e) => (p.index, Err(e), Vec::new(), Vec::new()),
    }
}

async fn find_invite(run: &Run<'_>, email: &str) -> Result<Option<String>, segment_api::Error> {
    let mut invites = std::pin::pin!(run.client().list_invites());
    while let Some(invite) = invites.next().await {
        let invite = invite?;
        if invite.eq_ignore_ascii_case(email) || invite.to_lowercase() == email.to_lowercase() {
            return Ok(Some(invite));
        }
    }
    Ok(None)
}

async fn find_user(run: &Run<'_>, email: &str) -> Result<Option<String>, segment_api::Error> {
    let mut users = std::pin::pin!(run.client().list_users());
    while let Some(user) = users.next().await {
        let user = user?;
        if user.email.to_lowercase() == email.to_lowercase() {
            return Ok(Some(user.id));
        }
    }
    Ok(None)
}

/// Segment said "already invited or member": find out which, never guess.
async fn classify_duplicate(
    run: &Run<'_>,
    p: &Prepared,
) -> Result<(OutcomeKind, ResourceRef), ProvisionError> {
    let failed = |e: segment_api::Error| ProvisionError::AccountLookupFailed {
        email: p.email.clone(),
        source: e.into(),
    };
    if let Some(listed) = find_invite(run, &p.email).await.map_err(failed)? {
        return Ok((OutcomeKind::AlreadyInvited, invite_ref(&listed)?));
    }
    if let Some(id) = find_user(run, &p.email).await.map_err(failed)? {
        return Ok((OutcomeKind::AlreadyAMember, user_ref(&id)?));
    }
    Err(ProvisionError::AccountLookupInconclusive {
        email: p.email.clone(),
    })
}

/// One invitation, sent first; a duplicate is classified by looking it up afterwards.
async fn create_one(run: &Run<'_>, p: &Prepared) -> AccountResult {
    let inputs = [invite_input(p)];
    let write = create_write(&inputs);
    match run.client().create_invites(&inputs).await {
        Ok(emails) => {
            run.record(&write);
            let listed = emails
                .into_iter()
                .find(|e| e.to_lowercase() == p.email.to_lowercase())
                .unwrap_or_else(|| p.email.clone());
            match invite_ref(&listed) {
                Ok(r) => account_outcome(p, OutcomeKind::Invited, false, r, vec![write]),
                Err(e) => (p.index, Err(e), Vec::new(), Vec::new()),
            }
        }
        Err(segment_api::Error::AlreadyExists { .. }) => match classify_duplicate(run, p).await {
            Ok((kind, resource)) => account_outcome(p, kind, false, resource, Vec::new()),
            Err(e) => (p.index, Err(e), Vec::new(), Vec::new()),
        },
        Err(e) => (
            p.index,
            Err(ProvisionError::api(format!("inviting {:?}", p.email), e)),
            Vec::new(),
            Vec::new(),
        ),
    }
}

/// Creates the accounts of a run. One request (not a dry run): invite, then classify a
/// duplicate. Several requests or a dry run: list pending invitations and users once,
/// classify, then one `POST /invites` for all new addresses (per `max_batch`).
pub(crate) async fn create_accounts(
    run: &Run<'_>,
    requests: Vec<(usize, AccountRequest)>,
) -> Accounts {
    let mut results: OpResults = Vec::new();
    let mut follow: Vec<FollowUp> = Vec::new();
    let mut unapplied: BTreeMap<usize, Vec<EntitlementId>> = BTreeMap::new();
    let mut prepared: Vec<Prepared> = Vec::new();
    for (index, request) in &requests {
        match prepare(run, *index, request).await {
            Ok(p) => prepared.push(p),
            Err(e) => results.push((*index, Err(e))),
        }
    }
    if prepared.is_empty() {
        return Accounts {
            results,
            follow,
            unapplied,
        };
    }
    let mut push = |(index, result, ops, roles): AccountResult, results: &mut OpResults| {
        results.push((index, result));
        follow.extend(ops);
        if !roles.is_empty() {
            unapplied.insert(index, roles);
        }
    };
    if prepared.len() == 1 && !run.dry_run() {
        let r = create_one(run, &prepared[0]).await;
        push(r, &mut results);
        return Accounts {
            results,
            follow,
            unapplied,
        };
    }

    let lookup = async {
        let invites: Vec<String> = run.client().list_invites().try_collect().await?;
        let users: Vec<segment_api::User> = run.client().list_users().try_collect().await?;
        Ok::<_, segment_api::Error>((invites, users))
    };
    let (invites, users) = match lookup.await {
        Ok(found) => found,
        Err(e) => {
            let error = ProvisionError::AccountLookupFailed {
                email: prepared
                    .iter()
                    .map(|p| p.email.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                source: e.into(),
            };
            for p in &prepared {
                results.push((p.index, Err(error.clone())));
            }
            return Accounts {
                results,
                follow,
                unapplied,
            };
        }
    };
    let invites: HashMap<String, String> =
        invites.into_iter().map(|e| (e.to_lowercase(), e)).collect();
    let users: HashMap<String, String> = users
        .into_iter()
        .map(|u| (u.email.to_lowercase(), u.id))
        .collect();
    let dry_run = run.dry_run();
    let mut planned: HashMap<String, String> = HashMap::new();
    let mut to_create: Vec<&Prepared> = Vec::new();
    for p in &prepared {
        let lc = p.email.to_lowercase();
        let found = if let Some(listed) = invites.get(&lc).or_else(|| planned.get(&lc)) {
            invite_ref(listed).map(|r| (OutcomeKind::AlreadyInvited, r))
        } else if let Some(id) = users.get(&lc) {
            user_ref(id).map(|r| (OutcomeKind::AlreadyAMember, r))
        } else {
            planned.insert(lc, p.email.clone());
            to_create.push(p);
            continue;
        };
        match found {
            Ok((kind, resource)) => push(
                account_outcome(p, kind, dry_run, resource, Vec::new()),
                &mut results,
            ),
            Err(e) => results.push((p.index, Err(e))),
        }
    }

    for chunk in to_create.chunks(run.max_batch()) {
        let inputs: Vec<InviteInput> = chunk.iter().map(|p| invite_input(p)).collect();
        let write = create_write(&inputs);
        let sent = if dry_run {
            Ok(())
        } else {
            run.client().create_invites(&inputs).await.map(|_| ())
        };
        match sent {
            Ok(()) => {
                run.record(&write);
                for p in chunk {
                    let r = match invite_ref(&p.email) {
                        Ok(r) => account_outcome(
                            p,
                            OutcomeKind::Invited,
                            dry_run,
                            r,
                            vec![write.clone()],
                        ),
                        Err(e) => (p.index, Err(e), Vec::new(), Vec::new()),
                    };
                    push(r, &mut results);
                }
            }
            Err(segment_api::Error::AlreadyExists { .. }) => {
                // Someone invited one of them meanwhile: invite one by one.
                for p in chunk {
                    let r = create_one(run, p).await;
                    push(r, &mut results);
                }
            }
            Err(e) => {
                let error = ProvisionError::api(
                    format!(
                        "inviting {}",
                        chunk
                            .iter()
                            .map(|p| p.email.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    e,
                );
                for p in chunk {
                    results.push((p.index, Err(error.clone())));
                }
            }
        }
    }
    Accounts {
        results,
        follow,
        unapplied,
    }
}
