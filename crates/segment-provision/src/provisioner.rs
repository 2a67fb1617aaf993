//! [`Provisioner`]: the entry point. Resolves entitlements and principals, serializes
//! operations per principal, and runs single operations and bulk plans.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

use baton_model::ids::{EntitlementId, GrantId, ResourceRef, ResourceTypeId};
use futures::StreamExt;
use segment_api::{PermissionInput, PermissionResource, ResourceKind, Role, Workspace};
use segment_cache::Session;
use segment_scheme::{self as scheme, PrincipalType, SchemeError, SegmentEntitlement};
use tokio::sync::OnceCell;

use crate::account::{self, AccountRequest};
use crate::engine::{self, MemberOp, OpResults, PermOp, Run, Subject};
use crate::perms::PermChange;
use crate::plan::{ApplyReport, OpReport, Plan, PlanOperation};
use crate::turns::{Ticket, Turns};
use crate::{Outcome, PrincipalDirectory, ProvisionError, ProvisionOptions};

/// The provisioning engine for one Segment workspace. Cheap to clone; clones share the
/// per-principal queues and the cached workspace id.
///
/// Every operation method returns a `'static` future and takes its place in the queue of
/// the principal (or account) it touches **when it is called**: operations on one principal
/// run one at a time, in the order the methods were called, even when the futures are
/// spawned or polled in another order. Operations on different principals run concurrently.
/// (This serializes operations of this process only; Segment offers no locking, see
/// [`ProvisionError::ConflictRetriesExhausted`] for how changes by others are handled.)
#[derive(Debug, Clone)]
pub struct Provisioner {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) session: Session,
    pub(crate) options: ProvisionOptions,
    directory: Option<Arc<PrincipalDirectory>>,
    workspace: OnceCell<Workspace>,
    turns: Arc<Turns>,
}

/// A typed operation.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Grant {
        entitlement: EntitlementId,
        principal: ResourceRef,
    },
    Revoke {
        entitlement: EntitlementId,
        principal: ResourceRef,
        /// Whether the caller stated the principal's type (a `ResourceRef`, a grant id, a
        /// `<type>:<id>` principal) rather than having it inferred: only then does a principal
        /// that does not exist count as "already revoked".
        stated: bool,
    },
    CreateAccount(AccountRequest),
    Delete(ResourceRef),
}

/// The queue key of a principal or account (`invite` ids compare case-insensitively).
fn queue_key(resource_type: &str, id: &str) -> String {
    if resource_type == scheme::INVITE {
        format!("{resource_type}:{}", id.to_lowercase())
    } else {
        format!("{resource_type}:{id}")
    }
}

impl Op {
    /// The plan name of the operation.
    fn name(&self) -> &'static str {
        match self {
            Self::Grant { .. } => "grant",
            Self::Revoke { .. } => "revoke",
            Self::CreateAccount(_) => "create_account",
            Self::Delete(_) => "delete",
        }
    }

    /// When the operation runs within a run: accounts, then grants and revokes, then deletes.
    fn phase(&self) -> u8 {
        match self {
            Self::CreateAccount(_) => 0,
            Self::Grant { .. } | Self::Revoke { .. } => 1,
            Self::Delete(_) => 2,
        }
    }

    fn queue_key(&self) -> String {
        match self {
            Self::Grant { principal, .. }
            | Self::Revoke { principal, .. }
            | Self::Delete(principal) => {
                queue_key(principal.resource_type().as_str(), principal.resource())
            }
            Self::CreateAccount(request) => queue_key(scheme::INVITE, request.email.trim()),
        }
    }
}

/// A grant or revoke to run (from the plan, or following an account operation).
#[derive(Debug, Clone)]
struct Change {
    index: usize,
    entitlement: EntitlementId,
    principal: ResourceRef,
    grant: bool,
    stated: bool,
}

/// The result of one entitlement applied after an account operation, with the entitlement.
type FollowResult = (EntitlementId, Result<Outcome, ProvisionError>);

/// Files each result of an operation that follows up an account (per `follow_of`: its
/// index -> the account's index and the entitlement) under that account in `followed`, and
/// pushes every other result to `rest`, in order.
fn route_follow_ups(
    results: impl IntoIterator<Item = (usize, Result<Outcome, ProvisionError>)>,
    follow_of: &HashMap<usize, (usize, EntitlementId)>,
    followed: &mut BTreeMap<usize, BTreeMap<usize, FollowResult>>,
    rest: &mut OpResults,
) {
    for (index, result) in results {
        match follow_of.get(&index) {
            Some((account, entitlement)) => {
                followed
                    .entry(*account)
                    .or_default()
                    .insert(index, (entitlement.clone(), result));
            }
            None => rest.push((index, result)),
        }
    }
}

/// A resolved grant or revoke.
#[derive(Debug)]
enum Target {
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

fn invalid_entitlement(id: &EntitlementId, e: &SchemeError) -> ProvisionError {
    ProvisionError::InvalidEntitlement {
        entitlement: id.to_string(),
        reason: e.to_string(),
    }
}

impl Provisioner {
    /// A provisioner on `session` (whose pacer bounds every write by the shared write limit).
    pub fn new(session: Session, options: ProvisionOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                session,
                options,
                directory: None,
                workspace: OnceCell::new(),
                turns: Arc::new(Turns::default()),
            }),
        }
    }

    /// The same provisioner, finding the types of principals given without one in
    /// `directory` (e.g. [`PrincipalDirectory::from_c1z`]) before asking Segment; see
    /// [`resolve_principal`](Self::resolve_principal). The result shares the per-principal
    /// queues (and the cached workspace) of `self` and of its clones, so operations on one
    /// principal stay serialized across all of them.
    #[must_use]
    pub fn with_directory(self, directory: PrincipalDirectory) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                session: inner.session.clone(),
                options: inner.options.clone(),
                directory: Some(Arc::new(directory)),
                workspace: inner.workspace.clone(),
                turns: Arc::clone(&inner.turns),
            }),
        }
    }

    /// The principal (`user:<id>`, `group:<id>` or `invite:<email>`) of an id given without a
    /// type. Never guesses:
    /// 1. the one type the [directory](Self::with_directory) knows the id under, if any;
    /// 2. an email address (contains `@`): `invite`;
    /// 3. `GET /users/{id}`: `user`; on 404 `GET /groups/{id}`: `group`;
    /// 4. neither: [`ProvisionError::UnknownPrincipal`].
    ///
    /// The type found is inferred, not stated: revoke with
    /// [`revoke_from_inferred`](Self::revoke_from_inferred).
    pub async fn resolve_principal(&self, id: &str) -> Result<ResourceRef, ProvisionError> {
        let make = |t: PrincipalType| -> Result<ResourceRef, ProvisionError> {
            ResourceTypeId::new(t.as_str())
                .and_then(|rt| ResourceRef::new(rt, id))
                .map_err(|e| ProvisionError::InvalidPrincipal {
                    principal: id.to_owned(),
                    reason: e.to_string(),
                })
        };
        if id.is_empty() {
            return Err(ProvisionError::InvalidPrincipal {
                principal: String::new(),
                reason: "it is empty".to_owned(),
            });
        }
        if let Some(directory) = &self.inner.directory
            && let [only] = directory.principal_types(id).as_slice()
        {
            tracing::debug!(principal = id, principal_type = %only, "principal type from the c1z file");
            return make(*only);
        }
        if id.contains('@') {
            tracing::debug!(
                principal = id,
                "principal type inferred: an email address is an invite"
            );
            return make(PrincipalType::Invite);
        }
        let client = self.inner.session.client();
        match client.get_user(id).await {
            Ok(_) => return make(PrincipalType::User),
            Err(segment_api::Error::NotFound { .. }) => {}
            Err(e) => {
                return Err(ProvisionError::api(
                    format!("looking up the principal {id:?} as a user"),
                    e,
                ));
            }
        }
        match client.get_user_group(id).await {
            Ok(_) => make(PrincipalType::Group),
            Err(segment_api::Error::NotFound { .. }) => {
                Err(ProvisionError::UnknownPrincipal { id: id.to_owned() })
            }
            Err(e) => Err(ProvisionError::api(
                format!("looking up the principal {id:?} as a group"),
                e,
            )),
        }
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.inner.session
    }

    /// The options.
    pub fn options(&self) -> &ProvisionOptions {
        &self.inner.options
    }

    /// The workspace (`GET /`, read once and cached).
    pub async fn workspace(&self) -> Result<Workspace, ProvisionError> {
        self.inner.workspace().await
    }

    /// Grants `entitlement` to `principal` (`user:<id>`, `group:<id>` or `invite:<email>`).
    ///
    /// * `group:<gid>:member` to a user or invite: [`AlreadyGranted`](crate::OutcomeKind::AlreadyGranted)
    ///   when the address is already a member or pending invitee, else `POST /groups/{gid}/users`.
    /// * `role:<roleId>:member[@labels]` and `<type>:<id>:<slug>[@labels]` to a user or group:
    ///   a fresh read of the principal's permissions; `AlreadyGranted` when it holds exactly
    ///   that (role, resource, labels) entry, else the additive `POST .../permissions` with just
    ///   that permission. The slug must resolve to exactly one role (fail closed).
    /// * A role to an invite, or `workspace:<ws>:member`: refused (see [`ProvisionError`]).
    pub fn grant(
        &self,
        entitlement: &EntitlementId,
        principal: &ResourceRef,
    ) -> impl Future<Output = Result<Outcome, ProvisionError>> + Send + 'static {
        self.single(Op::Grant {
            entitlement: entitlement.clone(),
            principal: principal.clone(),
        })
    }

    /// Revokes the grant `<entitlement>:<principal type>:<principal id>`; see
    /// [`revoke_from`](Self::revoke_from).
    pub fn revoke(
        &self,
        grant: &GrantId,
    ) -> impl Future<Output = Result<Outcome, ProvisionError>> + Send + 'static {
        let principal = ResourceRef::new(grant.principal_type().clone(), grant.principal_id())
            .map_err(|e| ProvisionError::InvalidPrincipal {
                principal: format!("{}:{}", grant.principal_type(), grant.principal_id()),
                reason: e.to_string(),
            });
        let entitlement = grant.entitlement().clone();
        let ready = principal.map(|principal| {
            self.single(Op::Revoke {
                entitlement,
                principal,
                stated: true,
            })
        });
        async move {
            match ready {
                Ok(fut) => fut.await,
                Err(e) => Err(e),
            }
        }
    }

    /// Revokes `entitlement` from `principal`.
    ///
    /// * `group:<gid>:member`: [`AlreadyRevoked`](crate::OutcomeKind::AlreadyRevoked) when the
    ///   address is neither a member nor a pending invitee, else `DELETE /group/{gid}/users`.
    /// * Roles: a fresh read (never a cache), exactly that (role, resource type, resource id,
    ///   label set) entry removed (a permission keeps its other resources; one left without
    ///   resources is dropped), everything else written back unchanged with
    ///   `PUT .../permissions` (labels and unknown resource types included), then read back;
    ///   when someone else changed the principal meanwhile, re-applied on the fresh state (at
    ///   most `max_conflict_retries` times). Entry absent: `AlreadyRevoked`, no write. A slug
    ///   that does not resolve to exactly one role is an error, never `AlreadyRevoked`; before
    ///   answering `AlreadyRevoked` for a slug resolved from the session's cached role list,
    ///   the roles are listed again (once per run) and the slug resolved afresh, and a
    ///   principal holding another role with the same slug on that resource is an error
    ///   ([`ProvisionError::RoleMismatch`]).
    /// * `workspace:<ws>:member`: refused; delete the user or invitation instead.
    ///
    /// `principal`'s type counts as **stated** by the caller: when no such user or group
    /// exists (404), it holds nothing and the outcome is `AlreadyRevoked` (with a note saying
    /// it does not exist). For a type that was inferred, use
    /// [`revoke_from_inferred`](Self::revoke_from_inferred).
    pub fn revoke_from(
        &self,
        entitlement: &EntitlementId,
        principal: &ResourceRef,
    ) -> impl Future<Output = Result<Outcome, ProvisionError>> + Send + 'static {
        self.single(Op::Revoke {
            entitlement: entitlement.clone(),
            principal: principal.clone(),
            stated: true,
        })
    }

    /// [`revoke_from`](Self::revoke_from) for a principal whose type was inferred (e.g. by
    /// [`resolve_principal`](Self::resolve_principal)) rather than stated by the caller: when
    /// no such principal exists (404), the id may stand for another type that does hold the
    /// entitlement, so this is [`ProvisionError::PrincipalNotFound`], never
    /// `AlreadyRevoked` (fail closed).
    pub fn revoke_from_inferred(
        &self,
        entitlement: &EntitlementId,
        principal: &ResourceRef,
    ) -> impl Future<Output = Result<Outcome, ProvisionError>> + Send + 'static {
        self.single(Op::Revoke {
            entitlement: entitlement.clone(),
            principal: principal.clone(),
            stated: false,
        })
    }

    /// Creates an account: an invitation (see [`AccountRequest`]).
    /// [`Invited`](crate::OutcomeKind::Invited) with the new `invite:<email>`; when Segment
    /// says the address is taken: [`AlreadyInvited`](crate::OutcomeKind::AlreadyInvited) with
    /// the pending invitation, or [`AlreadyAMember`](crate::OutcomeKind::AlreadyAMember) with
    /// the `user:<id>` (found case-insensitively); when neither can be found, an error asking
    /// to retry. In a dry run the lookup is done first and nothing is sent.
    ///
    /// The requested entitlements are never dropped silently:
    /// * new invitation: roles inside it, then its groups; pending invitation: its groups are
    ///   ensured, and requested roles (which Segment can neither read from nor add to an
    ///   invitation) are listed in [`Outcome::roles_not_applied`] and the note, and make the
    ///   outcome not a no-op;
    /// * existing member: every requested role and group is granted to the `user:<id>` through
    ///   the normal grant path. The outcome lists them in [`Outcome::applied`] and its note;
    ///   it is a no-op ([`Outcome::is_noop`]) only when the member already had them all.
    pub fn create_account(
        &self,
        request: &AccountRequest,
    ) -> impl Future<Output = Result<Outcome, ProvisionError>> + Send + 'static {
        self.single(Op::CreateAccount(request.clone()))
    }

    /// Deletes `user:<id>` (`DELETE /users?userIds.0=`; removes the user from the workspace)
    /// or `invite:<email>` (`DELETE /invites?emails.0=`). Checks existence first: unknown ->
    /// [`AlreadyGone`](crate::OutcomeKind::AlreadyGone).
    pub fn delete_resource(
        &self,
        resource: &ResourceRef,
    ) -> impl Future<Output = Result<Outcome, ProvisionError>> + Send + 'static {
        self.single(Op::Delete(resource.clone()))
    }

    /// Runs a bulk plan with the fewest writes (see [`Plan`]) and reports every operation.
    /// Never fails as a whole: each operation has its outcome or its error. Operations on one
    /// principal (or address) whose plan order the run cannot keep (it creates accounts first,
    /// then grants and revokes, then deletes) fail up front with
    /// [`ProvisionError::InvalidPlan`], e.g. a `delete` of `invite:<e>` before a
    /// `create_account` of `<e>`; nothing is done for them.
    pub fn apply(&self, plan: &Plan) -> impl Future<Output = ApplyReport> + Send + 'static {
        let operations = plan.operations.clone();
        let parsed: Vec<(usize, Result<Op, ProvisionError>)> = operations
            .iter()
            .enumerate()
            .map(|(i, op)| (i, op.to_op()))
            .collect();
        let keys: Vec<String> = parsed
            .iter()
            .filter_map(|(_, op)| op.as_ref().ok().map(Op::queue_key))
            .collect();
        let mut ticket = self.inner.turns.enqueue(keys);
        if let Some(progress) = &self.inner.options.progress {
            progress.add_total(operations.len() as u64);
        }
        let inner = Arc::clone(&self.inner);
        async move {
            ticket.wait().await;
            let (results, writes) = inner.run(parsed).await;
            drop(ticket);
            if let Some(progress) = &inner.options.progress {
                progress.set_finished();
            }
            let mut by_index: BTreeMap<usize, Result<Outcome, ProvisionError>> =
                results.into_iter().collect();
            let results = operations
                .into_iter()
                .enumerate()
                .map(|(index, operation)| OpReport {
                    index,
                    operation,
                    result: by_index.remove(&index).unwrap_or_else(|| {
                        Err(ProvisionError::InvalidPlan {
                            reason: format!("operation {index} produced no result"),
                        })
                    }),
                })
                .collect();
            ApplyReport {
                dry_run: inner.options.dry_run,
                results,
                writes,
            }
        }
    }

    fn single(
        &self,
        op: Op,
    ) -> impl Future<Output = Result<Outcome, ProvisionError>> + Send + 'static {
        let mut ticket: Ticket = self.inner.turns.enqueue([op.queue_key()]);
        if let Some(progress) = &self.inner.options.progress {
            progress.add_total(1);
        }
        let inner = Arc::clone(&self.inner);
        async move {
            ticket.wait().await;
            let (mut results, _) = inner.run(vec![(0, Ok(op))]).await;
            drop(ticket);
            results.pop().map_or_else(
                || {
                    Err(ProvisionError::InvalidPlan {
                        reason: "the operation produced no result".to_owned(),
                    })
                },
                |(_, r)| r,
            )
        }
    }
}

impl PlanOperation {
    /// The typed operation, or why it is malformed.
    pub(crate) fn to_op(&self) -> Result<Op, ProvisionError> {
        fn entitlement(s: &str) -> Result<EntitlementId, ProvisionError> {
            s.parse().map_err(
                |e: baton_model::IdError| ProvisionError::InvalidEntitlement {
                    entitlement: s.to_owned(),
                    reason: e.to_string(),
                },
            )
        }
        fn resource(kind: Option<&str>, id: &str) -> Result<ResourceRef, ProvisionError> {
            let invalid = |reason: String| ProvisionError::InvalidPrincipal {
                principal: match kind {
                    Some(k) => format!("{k}:{id}"),
                    None => id.to_owned(),
                },
                reason,
            };
            match kind {
                Some(kind) => ResourceTypeId::new(kind)
                    .and_then(|t| ResourceRef::new(t, id))
                    .map_err(|e| invalid(e.to_string())),
                None => id.parse().map_err(|e: baton_model::IdError| {
                    invalid(format!("{e} (expected <type>:<id>)"))
                }),
            }
        }
        match self {
            Self::Grant {
                entitlement: e,
                principal,
                principal_type,
            } => Ok(Op::Grant {
                entitlement: entitlement(e)?,
                principal: resource(principal_type.as_deref(), principal)?,
            }),
            Self::Revoke {
                grant,
                entitlement: e,
                principal,
                principal_type,
            } => match (grant, e, principal) {
                (Some(grant), None, None) => {
                    let id: GrantId = grant.parse().map_err(|err: baton_model::IdError| {
                        ProvisionError::InvalidPlan {
                            reason: format!("invalid grant id {grant:?}: {err}"),
                        }
                    })?;
                    Ok(Op::Revoke {
                        entitlement: id.entitlement().clone(),
                        principal: resource(Some(id.principal_type().as_str()), id.principal_id())?,
                        stated: true,
                    })
                }
                (None, Some(e), Some(principal)) => Ok(Op::Revoke {
                    entitlement: entitlement(e)?,
                    principal: resource(principal_type.as_deref(), principal)?,
                    stated: true,
                }),
                _ => Err(ProvisionError::InvalidPlan {
                    reason:
                        "a revoke needs either \"grant\" or both \"entitlement\" and \"principal\""
                            .to_owned(),
                }),
            },
            Self::CreateAccount {
                email,
                entitlements,
            } => Ok(Op::CreateAccount(AccountRequest {
                email: email.clone(),
                entitlements: entitlements
                    .iter()
                    .map(|e| entitlement(e))
                    .collect::<Result<_, _>>()?,
            })),
            Self::Delete {
                resource_type,
                resource: id,
            } => Ok(Op::Delete(resource(resource_type.as_deref(), id)?)),
        }
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
    async fn user_email(&self, run: &Run<'_>, user_id: &str) -> Result<String, ProvisionError> {
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
    async fn resolve(
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

    /// Runs operations: accounts first, then grants and revokes (batched per principal and per
    /// group, in submission order within each), then deletes. Returns each operation's result
    /// and every write made.
    pub(crate) async fn run(
        &self,
        ops: Vec<(usize, Result<Op, ProvisionError>)>,
    ) -> (OpResults, Vec<crate::PlannedWrite>) {
        let run = Run::new(self);
        let ops = reject_reordered(ops);
        let mut results: OpResults = Vec::new();
        let mut accounts = Vec::new();
        let mut changes: Vec<Change> = Vec::new();
        let mut deletes = Vec::new();
        // Follow-ups of account operations get indices above every operation's, mapped back
        // to (account index, entitlement); within a batch they sort at their account's place.
        let mut next_follow = ops.iter().map(|(i, _)| *i + 1).max().unwrap_or(0);
        for (index, op) in ops {
            match op {
                Err(e) => results.push((index, Err(e))),
                Ok(Op::CreateAccount(request)) => accounts.push((index, request)),
                Ok(Op::Grant {
                    entitlement,
                    principal,
                }) => changes.push(Change {
                    index,
                    entitlement,
                    principal,
                    grant: true,
                    stated: true,
                }),
                Ok(Op::Revoke {
                    entitlement,
                    principal,
                    stated,
                }) => changes.push(Change {
                    index,
                    entitlement,
                    principal,
                    grant: false,
                    stated,
                }),
                Ok(Op::Delete(resource)) => deletes.push((index, resource)),
            }
        }
        let report = |results: &OpResults| {
            if let Some(progress) = &self.options.progress {
                for (_, r) in results {
                    progress.finish_op(r.is_ok());
                }
            }
        };
        report(&results);

        // 1. Accounts (the entitlements that follow them join the batches below).
        let mut account_results: BTreeMap<usize, Result<Outcome, ProvisionError>> = BTreeMap::new();
        let mut unapplied: BTreeMap<usize, Vec<EntitlementId>> = BTreeMap::new();
        let mut follow_of: HashMap<usize, (usize, EntitlementId)> = HashMap::new();
        if !accounts.is_empty() {
            let done = account::create_accounts(&run, accounts).await;
            account_results.extend(done.results);
            unapplied = done.unapplied;
            for f in done.follow {
                let index = next_follow;
                next_follow += 1;
                follow_of.insert(index, (f.index, f.entitlement.clone()));
                changes.push(Change {
                    index,
                    entitlement: f.entitlement,
                    principal: f.principal,
                    grant: true,
                    stated: true,
                });
            }
        }
        let follow_of = &follow_of;
        // Plan position of an index (a follow-up sits at its account's position).
        let position = |index: usize| follow_of.get(&index).map_or(index, |(a, _)| *a);

        // 2. Grants and revokes.
        let concurrency = self.options.concurrency.max(1);
        let resolved: Vec<(Change, Result<Target, ProvisionError>)> =
            futures::stream::iter(changes)
                .map(|change| {
                    let run = &run;
                    async move {
                        let target = self
                            .resolve(
                                run,
                                &change.entitlement,
                                &change.principal,
                                change.grant,
                                change.stated,
                            )
                            .await;
                        (change, target)
                    }
                })
                .buffered(concurrency)
                .collect()
                .await;
        let mut perm_batches: BTreeMap<Subject, Vec<PermOp>> = BTreeMap::new();
        let mut member_batches: BTreeMap<String, Vec<MemberOp>> = BTreeMap::new();
        let mut change_results: OpResults = Vec::new();
        for (change, target) in resolved {
            let Change {
                index,
                entitlement,
                principal,
                grant,
                stated,
            } = change;
            match target {
                Err(e) => change_results.push((index, Err(e))),
                Ok(Target::Gone(note)) => {
                    let mut outcome = Outcome::for_grant(
                        crate::OutcomeKind::AlreadyRevoked,
                        self.options.dry_run,
                        &entitlement,
                        &principal,
                    );
                    outcome.note = Some(note);
                    change_results.push((index, Ok(outcome)));
                }
                Ok(Target::Perm {
                    subject,
                    change,
                    slug,
                }) => {
                    perm_batches.entry(subject).or_default().push(PermOp {
                        index,
                        entitlement,
                        principal,
                        change,
                        slug,
                        stated,
                    });
                }
                Ok(Target::Member {
                    group_id,
                    email,
                    user_id,
                }) => member_batches.entry(group_id).or_default().push(MemberOp {
                    index,
                    entitlement,
                    principal,
                    email,
                    user_id,
                    add: grant,
                }),
            }
        }
        for batch in perm_batches.values_mut() {
            batch.sort_by_key(|op| position(op.index));
        }
        for batch in member_batches.values_mut() {
            batch.sort_by_key(|op| position(op.index));
        }
        enum Batch {
            Perm(Subject, Vec<PermOp>),
            Member(String, Vec<MemberOp>),
        }
        let batches: Vec<Batch> = perm_batches
            .into_iter()
            .map(|(s, ops)| Batch::Perm(s, ops))
            .chain(
                member_batches
                    .into_iter()
                    .map(|(g, ops)| Batch::Member(g, ops)),
            )
            .collect();
        let batch_results: Vec<OpResults> = futures::stream::iter(batches)
            .map(|batch| {
                let run = &run;
                async move {
                    let r = match &batch {
                        Batch::Perm(subject, ops) => {
                            engine::run_perm_batch(run, subject, ops).await
                        }
                        Batch::Member(group, ops) => {
                            engine::run_member_batch(run, group, ops).await
                        }
                    };
                    // Progress of finished grant/revoke operations (not account follow-ups).
                    if let Some(progress) = &self.options.progress {
                        for (index, result) in &r {
                            if !follow_of.contains_key(index) {
                                progress.finish_op(result.is_ok());
                            }
                        }
                    }
                    r
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        // Follow-up results by account, in the order of the account's request.
        let mut followed: BTreeMap<usize, BTreeMap<usize, FollowResult>> = BTreeMap::new();
        let mut own_change_results: OpResults = Vec::new();
        route_follow_ups(
            change_results,
            follow_of,
            &mut followed,
            &mut own_change_results,
        );
        report(&own_change_results);
        results.extend(own_change_results);
        route_follow_ups(
            batch_results.into_iter().flatten(),
            follow_of,
            &mut followed,
            &mut results,
        );

        // Merge each account with the entitlements that followed it.
        for (index, account) in account_results {
            let merged = match account {
                Ok(outcome) => merge_follow_ups(
                    outcome,
                    followed
                        .remove(&index)
                        .unwrap_or_default()
                        .into_values()
                        .collect(),
                    unapplied.remove(&index).unwrap_or_default(),
                ),
                Err(e) => Err(e),
            };
            if let Some(progress) = &self.options.progress {
                progress.finish_op(merged.is_ok());
            }
            results.push((index, merged));
        }

        // 3. Deletes.
        if !deletes.is_empty() {
            let r = account::delete_resources(&run, deletes).await;
            report(&r);
            results.extend(r);
        }
        (results, run.into_writes())
    }
}

/// Fails, up front, every operation on a principal (or address) whose operations are not in
/// run order (accounts, then grants and revokes, then deletes): running them would not keep
/// the plan's order. The other operations are returned unchanged.
fn reject_reordered(
    ops: Vec<(usize, Result<Op, ProvisionError>)>,
) -> Vec<(usize, Result<Op, ProvisionError>)> {
    let mut by_key: BTreeMap<String, Vec<(usize, u8, &'static str)>> = BTreeMap::new();
    for (index, op) in &ops {
        if let Ok(op) = op {
            by_key
                .entry(op.queue_key())
                .or_default()
                .push((*index, op.phase(), op.name()));
        }
    }
    let mut conflicts: HashMap<String, String> = HashMap::new();
    for (key, mut list) in by_key {
        list.sort_by_key(|(index, _, _)| *index);
        let ordered = list.windows(2).all(|w| w[0].1 <= w[1].1);
        if ordered {
            continue;
        }
        let names: Vec<String> = list
            .iter()
            .map(|(index, _, name)| format!("#{index} ({name})"))
            .collect();
        conflicts.insert(
            key.clone(),
            format!(
                "operations {} all touch {key} in an order that one plan cannot keep (a plan \
                 creates accounts first, then grants and revokes, then deletes); nothing was \
                 done for them: put them in separate plans, in the order wanted",
                names.join(", ")
            ),
        );
    }
    if conflicts.is_empty() {
        return ops;
    }
    ops.into_iter()
        .map(|(index, op)| {
            let conflict = op
                .as_ref()
                .ok()
                .and_then(|op| conflicts.get(&op.queue_key()));
            match conflict {
                Some(reason) => (
                    index,
                    Err(ProvisionError::InvalidPlan {
                        reason: reason.clone(),
                    }),
                ),
                None => (index, op),
            }
        })
        .collect()
}

/// Adds the entitlements that followed an account operation to its outcome (writes, the
/// [`Outcome::applied`] list, a note) and the roles a pending invitation could not take
/// (`unapplied`); or turns the outcome into an error naming the entitlements that failed.
fn merge_follow_ups(
    mut outcome: Outcome,
    follow: Vec<FollowResult>,
    unapplied: Vec<EntitlementId>,
) -> Result<Outcome, ProvisionError> {
    let member = outcome.kind == crate::OutcomeKind::AlreadyAMember;
    let mut done: Vec<String> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    let mut failed: Vec<(EntitlementId, ProvisionError)> = Vec::new();
    for (entitlement, result) in follow {
        match result {
            Ok(applied) => {
                for w in &applied.writes {
                    if !outcome.writes.contains(w) {
                        outcome.writes.push(w.clone());
                    }
                }
                done.push(format!("{entitlement} ({})", applied.kind));
                groups.push(entitlement.resource_id().to_owned());
                outcome.applied.push(applied);
            }
            Err(e) => failed.push((entitlement, e)),
        }
    }
    let account = outcome
        .resource
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let email = outcome.email.clone().unwrap_or_default();
    if let Some((_, first)) = failed.first() {
        let source = Box::new(first.clone());
        return Err(if member {
            ProvisionError::AccountEntitlementsFailed {
                email,
                account,
                entitlements: failed.iter().map(|(e, _)| e.to_string()).collect(),
                source,
            }
        } else {
            ProvisionError::AccountGroupsFailed {
                email,
                invite: account,
                groups: failed
                    .iter()
                    .map(|(e, _)| e.resource_id().to_owned())
                    .collect(),
                source,
            }
        });
    }
    let mut notes: Vec<String> = Vec::new();
    if !done.is_empty() {
        notes.push(match outcome.kind {
            crate::OutcomeKind::AlreadyAMember => format!(
                "requested entitlements applied to the existing member {account}: {}",
                done.join(", ")
            ),
            crate::OutcomeKind::AlreadyInvited => format!(
                "group membership(s) ensured for the pending invitation: {}",
                groups.join(", ")
            ),
            _ => format!(
                "group membership(s) ensured after the invitation: {}",
                groups.join(", ")
            ),
        });
    }
    if !unapplied.is_empty() {
        let roles: Vec<String> = unapplied.iter().map(ToString::to_string).collect();
        notes.push(format!(
            "role(s) NOT applied: {} (Segment can neither read nor amend a pending \
             invitation's roles; they are in place only if the invitation already carried \
             them: grant them to the user once the invitation is accepted, or delete the \
             invitation and create the account again)",
            roles.join(", ")
        ));
        outcome.roles_not_applied = unapplied;
    }
    if !notes.is_empty() {
        outcome.note = Some(notes.join("; "));
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use segment_api::{Client, Token};
    use segment_cache::SessionConfig;

    #[test]
    fn with_directory_shares_the_queues_and_the_workspace() {
        let builder = Client::builder(Token::new("t")).base_url("http://127.0.0.1:9");
        let session = Session::from_builder(builder, SessionConfig::default()).unwrap();
        let p1 = Provisioner::new(session, ProvisionOptions::default());
        let p2 = p1.clone().with_directory(PrincipalDirectory::new());
        assert!(Arc::ptr_eq(&p1.inner.turns, &p2.inner.turns));
    }

    #[test]
    fn plans_out_of_run_order_on_one_principal_are_rejected() {
        let invite: ResourceRef = "invite:E@x.example".parse().unwrap();
        let ops = vec![
            (0, Ok(Op::Delete(invite))),
            (1, Ok(Op::CreateAccount(AccountRequest::new("e@x.example")))),
            (2, Ok(Op::CreateAccount(AccountRequest::new("f@x.example")))),
        ];
        let out = reject_reordered(ops);
        assert!(
            matches!(&out[0].1, Err(ProvisionError::InvalidPlan { reason }) if reason.contains("#0 (delete), #1 (create_account)"))
        );
        assert!(matches!(&out[1].1, Err(ProvisionError::InvalidPlan { .. })));
        assert!(out[2].1.is_ok());
    }
}
