//! Permission batches: all permission changes of one user or group as one read plus (at most)
//! one write; conflict detection and re-application; dry runs.

use std::collections::HashMap;

use baton_model::ids::{EntitlementId, ResourceRef};
use segment_api::{Client, Permission, PermissionInput, WriteRequest};
use segment_scheme::{self as scheme, PermissionKey, SegmentEntitlement};

use crate::context::{Inner, OpResults, Run, gone, is_not_found};
use crate::outcome::PlannedWrite;
use crate::perms::{self, PermChange};
use crate::{Outcome, OutcomeKind, ProvisionError};

// ---- permissions -----------------------------------------------------------------------------

/// A principal whose permissions are changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Subject {
    User(String),
    Group(String),
}

impl Subject {
    pub(crate) fn reference(&self) -> String {
        match self {
            Self::User(id) => format!("{}:{id}", scheme::USER),
            Self::Group(id) => format!("{}:{id}", scheme::GROUP),
        }
    }

    async fn read(&self, client: &Client) -> Result<Vec<Permission>, segment_api::Error> {
        match self {
            Self::User(id) => Ok(client.get_user(id).await?.permissions),
            Self::Group(id) => Ok(client.get_user_group(id).await?.permissions),
        }
    }

    /// A fresh read to verify what was written; a failure is [`ProvisionError::VerifyFailed`].
    async fn reread(&self, client: &Client) -> Result<Vec<Permission>, ProvisionError> {
        self.read(client)
            .await
            .map_err(|e| ProvisionError::VerifyFailed {
                principal: self.reference(),
                source: e.into(),
            })
    }

    /// The write as segment-api sends it (see [`Self::send`]).
    fn write(&self, add: bool, inputs: &[PermissionInput]) -> Result<PlannedWrite, ProvisionError> {
        let request = match (self, add) {
            (Self::User(id), true) => WriteRequest::add_user_permissions(id, inputs),
            (Self::User(id), false) => WriteRequest::replace_user_permissions(id, inputs),
            (Self::Group(id), true) => WriteRequest::add_permissions_to_user_group(id, inputs),
            (Self::Group(id), false) => {
                WriteRequest::replace_permissions_for_user_group(id, inputs)
            }
        };
        request.map(|r| PlannedWrite::from(&r)).map_err(|e| {
            ProvisionError::api(
                format!("writing the permissions of {}", self.reference()),
                e,
            )
        })
    }

    async fn send(
        &self,
        client: &Client,
        add: bool,
        inputs: &[PermissionInput],
    ) -> Result<Vec<Permission>, segment_api::Error> {
        match (self, add) {
            (Self::User(id), true) => client.add_user_permissions(id, inputs).await,
            (Self::User(id), false) => client.replace_user_permissions(id, inputs).await,
            (Self::Group(id), true) => client.add_permissions_to_user_group(id, inputs).await,
            (Self::Group(id), false) => client.replace_permissions_for_user_group(id, inputs).await,
        }
    }
}

/// One grant or revoke of a permission entry.
#[derive(Debug, Clone)]
pub(crate) struct PermOp {
    pub(crate) index: usize,
    pub(crate) entitlement: EntitlementId,
    pub(crate) principal: ResourceRef,
    pub(crate) change: PermChange,
    /// The role slug of a scoped entitlement (the role id of `change` was resolved from it,
    /// possibly through the session's cached role list).
    pub(crate) slug: Option<String>,
    /// Whether the principal's type was stated by the caller (see `Op::Revoke`).
    pub(crate) stated: bool,
}

fn key_of(change: &PermChange) -> &PermissionKey {
    match change {
        PermChange::Add { key, .. } | PermChange::Remove { key } => key,
    }
}

/// Before a scoped revoke can be "already revoked" on a slug resolved from a possibly stale
/// role list: lists the roles again (once per run) and resolves every slug of the batch
/// afresh, updating the role ids of the changes. Per-operation errors of the re-resolution.
async fn refresh_slugs(
    run: &Run<'_>,
    current: &[Permission],
    ops: &[PermOp],
) -> (Vec<PermOp>, HashMap<usize, ProvisionError>) {
    let mut ops = ops.to_vec();
    let mut errors = HashMap::new();
    let suspect = ops.iter().any(|op| {
        op.slug.is_some()
            && matches!(&op.change, PermChange::Remove { key } if !perms::holds(current, key))
    });
    if !suspect {
        return (ops, errors);
    }
    if let Err(e) = run.refresh_roles().await {
        for op in ops.iter().filter(|op| op.slug.is_some()) {
            errors.insert(op.index, e.clone());
        }
        return (ops, errors);
    }
    let workspace = match run.inner.workspace().await {
        Ok(ws) => ws,
        Err(e) => {
            for op in ops.iter().filter(|op| op.slug.is_some()) {
                errors.insert(op.index, e.clone());
            }
            return (ops, errors);
        }
    };
    for op in &mut ops {
        let Some(slug) = &op.slug else {
            continue;
        };
        let refreshed = async {
            let role = run.inner.resolve_slug(&op.entitlement, slug).await?;
            if role.id == key_of(&op.change).role_id {
                return Ok(None);
            }
            let entitlement = SegmentEntitlement::parse(&op.entitlement).map_err(|e| {
                ProvisionError::InvalidEntitlement {
                    entitlement: op.entitlement.to_string(),
                    reason: e.to_string(),
                }
            })?;
            let grant = matches!(op.change, PermChange::Add { .. });
            tracing::info!(entitlement = %op.entitlement, slug = %slug, role_id = %role.id, "the cached role list was stale; using the role the slug resolves to now");
            Inner::perm_change(
                &op.entitlement,
                &entitlement,
                &role.id,
                &workspace.id,
                grant,
            )
            .map(Some)
        };
        match refreshed.await {
            Ok(Some(change)) => op.change = change,
            Ok(None) => {}
            Err(e) => {
                errors.insert(op.index, e);
            }
        }
    }
    (ops, errors)
}

/// Fail closed: a scoped revoke found nothing to remove, yet the principal holds, on that
/// resource, another role whose name has the same slug: that role's `(id, name)`.
fn role_mismatch<'p>(current: &'p [Permission], op: &PermOp) -> Option<&'p Permission> {
    let slug = op.slug.as_deref()?;
    let PermChange::Remove { key } = &op.change else {
        return None;
    };
    current.iter().find(|p| {
        p.role_id != key.role_id
            && scheme::role_slug(&p.role_name, &p.role_id) == slug
            && p.resources
                .iter()
                .any(|r| r.kind == key.kind && r.id == key.resource_id)
    })
}

/// The [`ProvisionError::RoleMismatch`] of `op`, whose principal holds `held`.
async fn mismatch_error(run: &Run<'_>, op: &PermOp, held: &Permission) -> ProvisionError {
    let key = key_of(&op.change);
    let resolved_name = match run.inner.session.roles().await {
        Ok(roles) => roles
            .iter()
            .find(|r| r.id == key.role_id)
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    ProvisionError::RoleMismatch {
        entitlement: op.entitlement.to_string(),
        slug: op.slug.clone().unwrap_or_default(),
        principal: op.principal.to_string(),
        resolved: Box::new((key.role_id.clone(), resolved_name)),
        found: Box::new((held.role_id.clone(), held.role_name.clone())),
    }
}

/// What [`converge`] did.
#[derive(Debug, Default)]
struct Converged {
    writes: Vec<PlannedWrite>,
    retries: u32,
}

/// Applies every operation on one principal: one read, then the fewest writes that bring the
/// permissions to the state the operations give when applied in order (one POST of the new
/// permissions when nothing is removed, else one PUT of the whole list), verified and
/// re-applied when someone else changed the principal meanwhile.
pub(crate) async fn run_perm_batch(run: &Run<'_>, subject: &Subject, ops: &[PermOp]) -> OpResults {
    let who = subject.reference();
    let current = match subject.read(run.client()).await {
        Ok(perms) => perms,
        Err(e) if is_not_found(&e) => {
            // A principal that does not exist holds nothing: revokes are done when the caller
            // stated its type (an inferred type may be the wrong one: fail closed), grants fail.
            let note = format!("{who} does not exist in Segment");
            return ops
                .iter()
                .map(|op| match op.change {
                    PermChange::Remove { .. } if op.stated => (
                        op.index,
                        Ok(gone(run, &op.entitlement, &op.principal, &note)),
                    ),
                    _ => (
                        op.index,
                        Err(ProvisionError::PrincipalNotFound {
                            principal: who.clone(),
                        }),
                    ),
                })
                .collect();
        }
        Err(e) => {
            let error = ProvisionError::api(format!("reading the permissions of {who}"), e);
            return ops
                .iter()
                .map(|op| (op.index, Err(error.clone())))
                .collect();
        }
    };

    let (refreshed, mut failed) = refresh_slugs(run, &current, ops).await;
    if !failed.is_empty() {
        // Operations whose role cannot be resolved any more fail alone; the others run.
        let rest: Vec<PermOp> = refreshed
            .iter()
            .filter(|op| !failed.contains_key(&op.index))
            .cloned()
            .collect();
        let mut results: OpResults = refreshed
            .iter()
            .filter_map(|op| failed.remove(&op.index).map(|e| (op.index, Err(e))))
            .collect();
        if !rest.is_empty() {
            results.extend(Box::pin(run_perm_batch(run, subject, &rest)).await);
        }
        return results;
    }
    let ops = refreshed.as_slice();

    let dry_run = run.dry_run();
    let mut model = current.clone();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(ops.len());
    let mut effective: Vec<&PermChange> = Vec::new();
    let mut mismatched: Vec<(usize, &Permission)> = Vec::new();
    for (position, op) in ops.iter().enumerate() {
        let changed = perms::apply(&mut model, &op.change);
        if !changed && let Some(held) = role_mismatch(&current, op) {
            mismatched.push((position, held));
        }
        let kind = match (&op.change, changed) {
            (PermChange::Add { .. }, true) => OutcomeKind::Granted,
            (PermChange::Add { .. }, false) => OutcomeKind::AlreadyGranted,
            (PermChange::Remove { .. }, true) => OutcomeKind::Revoked,
            (PermChange::Remove { .. }, false) => OutcomeKind::AlreadyRevoked,
        };
        if changed {
            effective.push(&op.change);
        }
        outcomes.push(Outcome::for_grant(
            kind,
            dry_run,
            &op.entitlement,
            &op.principal,
        ));
    }
    let mut mismatches: HashMap<usize, ProvisionError> = HashMap::new();
    for (position, held) in mismatched {
        mismatches.insert(position, mismatch_error(run, &ops[position], held).await);
    }
    let outcomes: Vec<Result<Outcome, ProvisionError>> = outcomes
        .into_iter()
        .enumerate()
        .map(|(position, outcome)| match mismatches.remove(&position) {
            Some(error) => Err(error),
            None => Ok(outcome),
        })
        .collect();
    if effective.is_empty() {
        return ops.iter().map(|op| op.index).zip(outcomes).collect();
    }

    match converge(run, subject, current, &effective).await {
        Ok(done) => ops
            .iter()
            .zip(outcomes)
            .map(|(op, outcome)| {
                let outcome = outcome.map(|mut outcome| {
                    if !outcome.is_noop() {
                        outcome.writes.clone_from(&done.writes);
                        outcome.conflict_retries = done.retries;
                    }
                    outcome
                });
                (op.index, outcome)
            })
            .collect(),
        Err(error) => {
            let changed = outcomes
                .iter()
                .filter(|o| o.as_ref().is_ok_and(|o| !o.is_noop()))
                .count();
            let rejected = matches!(
                error.api_error(),
                Some(segment_api::Error::Validation { .. } | segment_api::Error::NotFound { .. })
            );
            if rejected && changed > 1 {
                // One bad operation must not sink the others: apply them one by one (each
                // re-reads the principal, so nothing is applied twice).
                tracing::warn!(principal = %who, error = %error, "batched permission write rejected; applying the operations one by one");
                let mut results = Vec::with_capacity(ops.len());
                for op in ops {
                    results.extend(
                        Box::pin(run_perm_batch(run, subject, std::slice::from_ref(op))).await,
                    );
                }
                return results;
            }
            ops.iter()
                .zip(outcomes)
                .map(|(op, outcome)| match outcome {
                    Ok(outcome) if outcome.is_noop() => (op.index, Ok(outcome)),
                    Ok(_) => (op.index, Err(error.clone())),
                    Err(e) => (op.index, Err(e)),
                })
                .collect()
        }
    }
}

/// Writes until `replay(state, changes) == state`, re-reading after every PUT; gives up after
/// `max_conflict_retries` re-applications.
async fn converge(
    run: &Run<'_>,
    subject: &Subject,
    initial: Vec<Permission>,
    changes: &[&PermChange],
) -> Result<Converged, ProvisionError> {
    let who = subject.reference();
    let client = run.client();
    let max_rounds = run.inner.options.max_conflict_retries.saturating_add(1);
    let mut current = initial;
    // Whether `current` is a full, fresh read (a POST answer may not be).
    let mut fresh = true;
    let mut done = Converged::default();
    let mut rounds: u32 = 0;
    let mut expected: Option<Vec<Permission>> = None;
    loop {
        let desired = perms::replay(&current, changes.iter().copied());
        if perms::same_state(&desired, &current) {
            done.retries = rounds.saturating_sub(1);
            return Ok(done);
        }
        if let Some(expected) = &expected
            && !perms::same_state(expected, &current)
        {
            tracing::warn!(principal = %who, "permissions changed by someone else between our write and its verification; re-applying on the fresh state");
        }
        if rounds >= max_rounds {
            return Err(ProvisionError::ConflictRetriesExhausted {
                principal: who,
                attempts: rounds,
            });
        }
        if !fresh {
            current = subject.reread(client).await?;
            fresh = true;
            continue;
        }
        rounds += 1;
        let additions = perms::additions_only(&current, &desired);
        let batches: Vec<(bool, Vec<PermissionInput>)> = match additions {
            Some(extra) => extra
                .chunks(run.max_batch())
                .map(|c| (true, c.to_vec()))
                .collect(),
            None => vec![(false, desired.iter().map(Permission::to_input).collect())],
        };
        if run.dry_run() {
            for (add, inputs) in &batches {
                let write = subject.write(*add, inputs)?;
                run.record(&write);
                done.writes.push(write);
            }
            return Ok(done);
        }
        for (add, inputs) in &batches {
            let write = subject.write(*add, inputs)?;
            let answer = subject.send(client, *add, inputs).await.map_err(|e| {
                let what = if *add {
                    "adding permissions to"
                } else {
                    "replacing the permissions of"
                };
                ProvisionError::api(format!("{what} {who}"), e)
            })?;
            run.record(&write);
            done.writes.push(write);
            if *add {
                // The answer of an add is the resulting set; it is the verification.
                current = answer;
                fresh = false;
            }
        }
        if !batches.first().is_some_and(|(add, _)| *add) {
            // A replace answers what was written: read back to see later changes.
            current = subject.reread(client).await?;
            fresh = true;
        }
        expected = Some(desired);
    }
}
