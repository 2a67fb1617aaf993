//! [`Provisioner`]: the public entry point; every method takes its place in the queue of the
//! principal it touches and runs through [`crate::run`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use baton_model::ids::{EntitlementId, GrantId, ResourceRef, ResourceTypeId};
use segment_api::Workspace;
use segment_cache::Session;
use segment_scheme::PrincipalType;
use tokio::sync::OnceCell;

use crate::account::AccountRequest;
use crate::context::Inner;
use crate::op::Op;
use crate::plan::{ApplyReport, OpReport, Plan};
use crate::principal_queue::{PrincipalQueues, Ticket};
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

impl Provisioner {
    /// A provisioner on `session` (whose pacer bounds every write by the shared write limit).
    pub fn new(session: Session, options: ProvisionOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                session,
                options,
                directory: None,
                workspace: OnceCell::new(),
                queues: Arc::new(PrincipalQueues::default()),
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
                queues: Arc::clone(&inner.queues),
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
        let mut ticket = self.inner.queues.enqueue(keys);
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
        let mut ticket: Ticket = self.inner.queues.enqueue([op.queue_key()]);
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
        assert!(Arc::ptr_eq(&p1.inner.queues, &p2.inner.queues));
    }
}
