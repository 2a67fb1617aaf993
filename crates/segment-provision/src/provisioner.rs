//! [`Provisioner`]: the entry point. Resolves entitlements and principals, serializes
//! operations per principal, and runs single operations and bulk plans.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

use baton_model::ids::{EntitlementId, GrantId, ResourceRef, ResourceTypeId};
use futures::StreamExt;
use segment_api::{PermissionInput, PermissionResource, ResourceKind, Role, Workspace};
use segment_cache::Session;
use segment_connector::scheme::{self, PrincipalType, SchemeError, SegmentEntitlement};
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

/// A grant or revoke with what it resolved to.
type Resolved = (
    usize,
    EntitlementId,
    ResourceRef,
    bool,
    Result<Target, ProvisionError>,
);

/// The result of one group membership that followed an invitation, with its group.
type GroupResult = (String, Result<Outcome, ProvisionError>);

/// A resolved grant or revoke.
#[derive(Debug)]
enum Target {
    /// A revoke from a principal that does not exist: nothing to do.
    Gone(String),
    Perm(Subject, PermChange),
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

    /// The same provisioner, looking up user emails in `directory` (e.g.
    /// [`PrincipalDirectory::from_c1z`]) before asking Segment (`GET /users/{id}`). Call it
    /// before cloning: the result has its own queues.
    #[must_use]
    pub fn with_directory(self, directory: PrincipalDirectory) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                session: inner.session.clone(),
                options: inner.options.clone(),
                directory: Some(Arc::new(directory)),
                workspace: OnceCell::new(),
                turns: Arc::new(Turns::default()),
            }),
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
    ///   that does not resolve to exactly one role is an error, never `AlreadyRevoked`.
    /// * `workspace:<ws>:member`: refused; delete the user or invitation instead.
    pub fn revoke_from(
        &self,
        entitlement: &EntitlementId,
        principal: &ResourceRef,
    ) -> impl Future<Output = Result<Outcome, ProvisionError>> + Send + 'static {
        self.single(Op::Revoke {
            entitlement: entitlement.clone(),
            principal: principal.clone(),
        })
    }

    /// Creates an account: an invitation (see [`AccountRequest`]).
    /// [`Invited`](crate::OutcomeKind::Invited) with the new `invite:<email>`; when Segment
    /// says the address is taken: [`AlreadyInvited`](crate::OutcomeKind::AlreadyInvited) with
    /// the pending invitation, or [`AlreadyAMember`](crate::OutcomeKind::AlreadyAMember) with
    /// the `user:<id>` (found case-insensitively); when neither can be found, an error asking
    /// to retry. In a dry run the lookup is done first and nothing is sent.
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
    /// Never fails as a whole: each operation has its outcome or its error.
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
                    })
                }
                (None, Some(e), Some(principal)) => Ok(Op::Revoke {
                    entitlement: entitlement(e)?,
                    principal: resource(principal_type.as_deref(), principal)?,
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

    /// The email of a user principal: the directory, this run's lookups, else `GET /users/{id}`.
    async fn user_email(&self, run: &Run<'_>, user_id: &str) -> Result<String, ProvisionError> {
        if let Some(email) = self.directory.as_ref().and_then(|d| d.email(user_id)) {
            return Ok(email.to_owned());
        }
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

    /// What a grant (`grant == true`) or revoke of `id` to/from `principal` changes.
    async fn resolve(
        &self,
        run: &Run<'_>,
        id: &EntitlementId,
        principal: &ResourceRef,
        grant: bool,
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
                    Err(ProvisionError::PrincipalNotFound { principal }) if !grant => Ok(
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
                let role_id = match &entitlement {
                    SegmentEntitlement::Scoped { role_slug, .. } => {
                        self.resolve_slug(id, role_slug).await?.id
                    }
                    SegmentEntitlement::RoleMember { role_id, .. } => {
                        if grant {
                            self.check_role_exists(id, role_id).await?;
                        }
                        role_id.clone()
                    }
                    _ => String::new(),
                };
                let workspace = self.workspace().await?;
                let key = entitlement
                    .permission_key(&role_id, &workspace.id)
                    .ok_or_else(|| ProvisionError::InvalidEntitlement {
                        entitlement: id.to_string(),
                        reason: "not a permission entitlement".to_owned(),
                    })?;
                let change = if grant {
                    let input = match &entitlement {
                        // Label scoping sits on the WORKSPACE resource.
                        SegmentEntitlement::RoleMember { labels, .. } => PermissionInput::new(
                            role_id.clone(),
                            vec![PermissionResource {
                                id: workspace.id.clone(),
                                kind: ResourceKind::Workspace,
                                labels: labels.to_labels(),
                            }],
                        ),
                        // Segment allows resource labels on WORKSPACE only: a labelled scoped
                        // entitlement carries them on the permission.
                        _ => PermissionInput {
                            role_id: role_id.clone(),
                            resources: vec![PermissionResource::new(
                                key.resource_id.clone(),
                                key.kind.clone(),
                            )],
                            labels: key.labels.to_labels(),
                        },
                    };
                    PermChange::Add { key, input }
                } else {
                    PermChange::Remove { key }
                };
                Ok(Target::Perm(subject, change))
            }
        }
    }

    /// Runs operations: accounts first, then grants and revokes (batched per principal and per
    /// group), then deletes. Returns each operation's result and every write made.
    pub(crate) async fn run(
        &self,
        ops: Vec<(usize, Result<Op, ProvisionError>)>,
    ) -> (OpResults, Vec<crate::PlannedWrite>) {
        let run = Run::new(self);
        let mut results: OpResults = Vec::new();
        let mut accounts = Vec::new();
        let mut changes = Vec::new();
        let mut deletes = Vec::new();
        for (index, op) in ops {
            match op {
                Err(e) => results.push((index, Err(e))),
                Ok(Op::CreateAccount(request)) => accounts.push((index, request)),
                Ok(Op::Grant {
                    entitlement,
                    principal,
                }) => changes.push((index, entitlement, principal, true)),
                Ok(Op::Revoke {
                    entitlement,
                    principal,
                }) => changes.push((index, entitlement, principal, false)),
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

        // 1. Accounts (their group memberships join the membership batches below).
        let mut account_results: BTreeMap<usize, Result<Outcome, ProvisionError>> = BTreeMap::new();
        let mut follow: Vec<MemberOp> = Vec::new();
        if !accounts.is_empty() {
            let (r, f) = account::create_accounts(&run, accounts).await;
            account_results.extend(r);
            follow = f;
        }

        // 2. Grants and revokes.
        let concurrency = self.options.concurrency.max(1);
        let resolved: Vec<Resolved> = futures::stream::iter(changes)
            .map(|(index, entitlement, principal, grant)| {
                let run = &run;
                async move {
                    let target = self.resolve(run, &entitlement, &principal, grant).await;
                    (index, entitlement, principal, grant, target)
                }
            })
            .buffered(concurrency)
            .collect()
            .await;
        let mut perm_batches: BTreeMap<Subject, Vec<PermOp>> = BTreeMap::new();
        let mut member_batches: BTreeMap<String, Vec<MemberOp>> = BTreeMap::new();
        let mut change_results: OpResults = Vec::new();
        for (index, entitlement, principal, grant, target) in resolved {
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
                Ok(Target::Perm(subject, change)) => {
                    perm_batches.entry(subject).or_default().push(PermOp {
                        index,
                        entitlement,
                        principal,
                        change,
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
        let follow_indices: HashMap<usize, ()> = follow.iter().map(|op| (op.index, ())).collect();
        for op in follow {
            let group = op.entitlement.resource_id().to_owned();
            member_batches.entry(group).or_default().push(op);
        }
        for batch in member_batches.values_mut() {
            batch.sort_by_key(|op| op.index);
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
        let follow_indices = &follow_indices;
        let batch_results: Vec<(Option<String>, OpResults)> = futures::stream::iter(batches)
            .map(|batch| {
                let run = &run;
                async move {
                    let (group, r) = match &batch {
                        Batch::Perm(subject, ops) => {
                            (None, engine::run_perm_batch(run, subject, ops).await)
                        }
                        Batch::Member(group, ops) => (
                            Some(group.clone()),
                            engine::run_member_batch(run, group, ops).await,
                        ),
                    };
                    // Progress of finished grant/revoke operations (not account follow-ups).
                    if let Some(progress) = &self.options.progress {
                        for (index, result) in &r {
                            if !follow_indices.contains_key(index) {
                                progress.finish_op(result.is_ok());
                            }
                        }
                    }
                    (group, r)
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        report(&change_results);
        results.extend(change_results);
        let mut followed: BTreeMap<usize, Vec<GroupResult>> = BTreeMap::new();
        for (group, batch) in batch_results {
            for (index, result) in batch {
                match &group {
                    Some(group) if follow_indices.contains_key(&index) => {
                        followed
                            .entry(index)
                            .or_default()
                            .push((group.clone(), result));
                    }
                    _ => results.push((index, result)),
                }
            }
        }

        // Merge each account with its group memberships.
        for (index, account) in account_results {
            let merged = match (account, followed.remove(&index)) {
                (Ok(outcome), None) => Ok(outcome),
                (Ok(mut outcome), Some(memberships)) => {
                    merge_memberships(&mut outcome, memberships)
                }
                (Err(e), _) => Err(e),
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

/// Adds the group memberships that followed an invitation to its outcome (or turns the outcome
/// into an error naming the groups that failed).
fn merge_memberships(
    outcome: &mut Outcome,
    memberships: Vec<GroupResult>,
) -> Result<Outcome, ProvisionError> {
    let mut joined = Vec::new();
    let mut failed = Vec::new();
    let mut first_error = None;
    for (group, m) in memberships {
        match m {
            Ok(m) => {
                joined.push(group);
                for w in m.writes {
                    if !outcome.writes.contains(&w) {
                        outcome.writes.push(w);
                    }
                }
            }
            Err(e) => {
                failed.push(group);
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(error) = first_error {
        return Err(ProvisionError::AccountGroupsFailed {
            email: outcome.email.clone().unwrap_or_default(),
            invite: outcome
                .resource
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            groups: failed,
            source: Box::new(error),
        });
    }
    if !joined.is_empty() {
        outcome.note = Some(format!(
            "group membership(s) ensured after the invitation: {}",
            joined.join(", ")
        ));
    }
    Ok(outcome.clone())
}
