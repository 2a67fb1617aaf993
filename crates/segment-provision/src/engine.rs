//! The batch engine: all permission changes of one principal as one read plus (at most) one
//! write, all membership changes of one group as one read of its members and invitees plus
//! one add and one remove call; conflict detection and re-application; dry runs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use baton_model::ids::{EntitlementId, ResourceRef};
use futures::TryStreamExt;
use segment_api::{Client, MinimalUser, Permission, PermissionInput};
use segment_connector::scheme;
use serde_json::json;

use crate::outcome::{PlannedWrite, encode, indexed_query};
use crate::perms::{self, PermChange};
use crate::provisioner::Inner;
use crate::{Outcome, OutcomeKind, ProvisionError};

/// The result of one operation, by its index in the submitted list.
pub(crate) type OpResults = Vec<(usize, Result<Outcome, ProvisionError>)>;

/// State shared by the batches of one run (one single operation or one bulk plan).
#[derive(Debug)]
pub(crate) struct Run<'a> {
    pub(crate) inner: &'a Inner,
    writes: Mutex<Vec<PlannedWrite>>,
    /// User id -> email, filled by lookups during this run.
    pub(crate) emails: Mutex<HashMap<String, String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<'a> Run<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Self {
            inner,
            writes: Mutex::new(Vec::new()),
            emails: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn client(&self) -> &Client {
        self.inner.session.client()
    }

    pub(crate) fn dry_run(&self) -> bool {
        self.inner.options.dry_run
    }

    pub(crate) fn max_batch(&self) -> usize {
        self.inner.options.max_batch.max(1)
    }

    /// Records a write that was made (or, in a dry run, planned).
    pub(crate) fn record(&self, write: &PlannedWrite) {
        lock(&self.writes).push(write.clone());
        if !self.dry_run()
            && let Some(progress) = &self.inner.options.progress
        {
            progress.add_write();
        }
    }

    /// Every write made (or planned) so far, in order.
    pub(crate) fn into_writes(self) -> Vec<PlannedWrite> {
        self.writes
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// `AlreadyRevoked` because the principal or the group does not exist (it holds nothing).
pub(crate) fn gone(
    run: &Run<'_>,
    entitlement: &EntitlementId,
    principal: &ResourceRef,
    why: &str,
) -> Outcome {
    let mut outcome = Outcome::for_grant(
        OutcomeKind::AlreadyRevoked,
        run.dry_run(),
        entitlement,
        principal,
    );
    outcome.note = Some(why.to_owned());
    outcome
}

fn is_not_found(e: &segment_api::Error) -> bool {
    matches!(e, segment_api::Error::NotFound { .. })
}

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

    fn write(&self, add: bool, inputs: &[PermissionInput]) -> PlannedWrite {
        let (operation, prefix) = match (self, add) {
            (Self::User(_), true) => ("addPermissionsToUser", "users"),
            (Self::User(_), false) => ("replacePermissionsForUser", "users"),
            (Self::Group(_), true) => ("addPermissionsToUserGroup", "groups"),
            (Self::Group(_), false) => ("replacePermissionsForUserGroup", "groups"),
        };
        let id = match self {
            Self::User(id) | Self::Group(id) => id,
        };
        PlannedWrite {
            operation,
            method: if add { "POST" } else { "PUT" },
            path: format!("/{prefix}/{}/permissions", encode(id)),
            body: Some(json!({ "permissions": inputs })),
        }
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
            // A principal that does not exist holds nothing: revokes are done, grants fail.
            let note = format!("{who} does not exist in Segment");
            return ops
                .iter()
                .map(|op| match op.change {
                    PermChange::Remove { .. } => (
                        op.index,
                        Ok(gone(run, &op.entitlement, &op.principal, &note)),
                    ),
                    PermChange::Add { .. } => (
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

    let dry_run = run.dry_run();
    let mut model = current.clone();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(ops.len());
    let mut effective: Vec<&PermChange> = Vec::new();
    for op in ops {
        let changed = perms::apply(&mut model, &op.change);
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
    if effective.is_empty() {
        return ops
            .iter()
            .map(|op| op.index)
            .zip(outcomes.into_iter().map(Ok))
            .collect();
    }

    match converge(run, subject, current, &effective).await {
        Ok(done) => ops
            .iter()
            .zip(outcomes)
            .map(|(op, mut outcome)| {
                if !outcome.is_noop() {
                    outcome.writes.clone_from(&done.writes);
                    outcome.conflict_retries = done.retries;
                }
                (op.index, Ok(outcome))
            })
            .collect(),
        Err(error) => {
            let changed = outcomes.iter().filter(|o| !o.is_noop()).count();
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
                .map(|(op, outcome)| {
                    if outcome.is_noop() {
                        (op.index, Ok(outcome))
                    } else {
                        (op.index, Err(error.clone()))
                    }
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
            current = subject
                .read(client)
                .await
                .map_err(|e| ProvisionError::VerifyFailed {
                    principal: who.clone(),
                    source: e.into(),
                })?;
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
                let write = subject.write(*add, inputs);
                run.record(&write);
                done.writes.push(write);
            }
            return Ok(done);
        }
        for (add, inputs) in &batches {
            let write = subject.write(*add, inputs);
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
            current = subject
                .read(client)
                .await
                .map_err(|e| ProvisionError::VerifyFailed {
                    principal: who.clone(),
                    source: e.into(),
                })?;
            fresh = true;
        }
        expected = Some(desired);
    }
}

// ---- group memberships -----------------------------------------------------------------------

/// One grant or revoke of a group membership, with the principal's email resolved.
#[derive(Debug, Clone)]
pub(crate) struct MemberOp {
    pub(crate) index: usize,
    pub(crate) entitlement: EntitlementId,
    pub(crate) principal: ResourceRef,
    pub(crate) email: String,
    pub(crate) user_id: Option<String>,
    pub(crate) add: bool,
}

fn add_members_write(group_id: &str, emails: &[&str]) -> PlannedWrite {
    PlannedWrite {
        operation: "addUsersToUserGroup",
        method: "POST",
        path: format!("/groups/{}/users", encode(group_id)),
        body: Some(json!({ "emails": emails })),
    }
}

fn remove_members_write(group_id: &str, emails: &[&str]) -> PlannedWrite {
    PlannedWrite {
        operation: "removeUsersFromUserGroup",
        method: "DELETE",
        path: format!(
            "/group/{}/users?{}",
            encode(group_id),
            indexed_query("emails", emails)
        ),
        body: None,
    }
}

/// Applies every membership change of one group: reads its members and invitees once, works
/// out the adds and removes the operations give in order, then one add call and one remove
/// call (chunked by `max_batch`).
pub(crate) async fn run_member_batch(run: &Run<'_>, group_id: &str, ops: &[MemberOp]) -> OpResults {
    let client = run.client();
    let fail_all = |error: ProvisionError| -> OpResults {
        ops.iter()
            .map(|op| (op.index, Err(error.clone())))
            .collect()
    };
    // A group that does not exist has no members: revokes are done, grants fail.
    let no_group = || -> OpResults {
        let note = format!("group {group_id} does not exist in Segment");
        ops.iter()
            .map(|op| {
                if op.add {
                    let error = ProvisionError::GroupNotFound {
                        group_id: group_id.to_owned(),
                    };
                    (op.index, Err(error))
                } else {
                    (
                        op.index,
                        Ok(gone(run, &op.entitlement, &op.principal, &note)),
                    )
                }
            })
            .collect()
    };
    let members: Vec<MinimalUser> = match client
        .list_users_from_user_group(group_id)
        .try_collect()
        .await
    {
        Ok(m) => m,
        Err(e) if is_not_found(&e) => return no_group(),
        Err(e) => {
            return fail_all(ProvisionError::api(
                format!("listing the members of group {group_id}"),
                e,
            ));
        }
    };
    let invitees: Vec<String> = match client
        .list_invites_from_user_group(group_id)
        .try_collect()
        .await
    {
        Ok(i) => i,
        Err(e) if is_not_found(&e) => return no_group(),
        Err(e) => {
            return fail_all(ProvisionError::api(
                format!("listing the pending invitees of group {group_id}"),
                e,
            ));
        }
    };

    // Present addresses (lowercase) -> the address as Segment lists it.
    let mut initial: BTreeMap<String, String> = BTreeMap::new();
    for email in members.iter().map(|m| &m.email).chain(&invitees) {
        if !email.is_empty() {
            initial.insert(email.to_lowercase(), email.clone());
        }
    }
    let by_id: HashMap<&str, &str> = members
        .iter()
        .map(|m| (m.id.as_str(), m.email.as_str()))
        .collect();
    // The lowercase address an operation is about (a user matched by id uses its listed email).
    let address = |op: &MemberOp| -> String {
        op.user_id
            .as_deref()
            .and_then(|id| by_id.get(id))
            .filter(|e| !e.is_empty())
            .map_or_else(|| op.email.to_lowercase(), |e| e.to_lowercase())
    };

    let dry_run = run.dry_run();
    let mut present: HashSet<String> = initial.keys().cloned().collect();
    let mut outcomes = Vec::with_capacity(ops.len());
    let mut spelled: HashMap<String, String> = HashMap::new();
    for op in ops {
        let addr = address(op);
        let kind = if op.add {
            if present.insert(addr.clone()) {
                spelled
                    .entry(addr.clone())
                    .or_insert_with(|| op.email.clone());
                OutcomeKind::Granted
            } else {
                OutcomeKind::AlreadyGranted
            }
        } else if present.remove(&addr) {
            OutcomeKind::Revoked
        } else {
            OutcomeKind::AlreadyRevoked
        };
        outcomes.push((
            addr,
            Outcome::for_grant(kind, dry_run, &op.entitlement, &op.principal),
        ));
    }
    let to_remove: Vec<(String, String)> = initial
        .iter()
        .filter(|(lc, _)| !present.contains(*lc))
        .map(|(lc, listed)| (lc.clone(), listed.clone()))
        .collect();
    let to_add: Vec<(String, String)> = present
        .iter()
        .filter(|lc| !initial.contains_key(*lc))
        .map(|lc| {
            (
                lc.clone(),
                spelled.get(lc).cloned().unwrap_or_else(|| lc.clone()),
            )
        })
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();

    // Write results per lowercase address.
    let mut written: HashMap<String, Result<PlannedWrite, ProvisionError>> = HashMap::new();
    for chunk in to_remove.chunks(run.max_batch()) {
        let emails: Vec<&str> = chunk.iter().map(|(_, e)| e.as_str()).collect();
        let write = remove_members_write(group_id, &emails);
        let result = if dry_run {
            Ok(())
        } else {
            client
                .remove_users_from_user_group(group_id, &emails)
                .await
                .map_err(|e| {
                    ProvisionError::api(format!("removing members from group {group_id}"), e)
                })
        };
        let result = result.map(|()| {
            run.record(&write);
            write
        });
        for (lc, _) in chunk {
            written.insert(lc.clone(), result.clone());
        }
    }
    for chunk in to_add.chunks(run.max_batch()) {
        let emails: Vec<&str> = chunk.iter().map(|(_, e)| e.as_str()).collect();
        for (lc, result) in add_members(run, group_id, &emails).await {
            written.insert(lc, result);
        }
    }

    ops.iter()
        .zip(outcomes)
        .map(|(op, (addr, mut outcome))| {
            if outcome.is_noop() {
                return (op.index, Ok(outcome));
            }
            match written.get(&addr) {
                // Granted and revoked again within the batch: nothing to write.
                None => (op.index, Ok(outcome)),
                Some(Ok(write)) => {
                    outcome.writes.push(write.clone());
                    (op.index, Ok(outcome))
                }
                Some(Err(e)) => (op.index, Err(e.clone())),
            }
        })
        .collect()
}

/// One add call for `emails`; when Segment rejects it and there are several addresses, adds
/// them one by one so that one unknown address does not sink the others.
async fn add_members(
    run: &Run<'_>,
    group_id: &str,
    emails: &[&str],
) -> Vec<(String, Result<PlannedWrite, ProvisionError>)> {
    let write = add_members_write(group_id, emails);
    let tag = |result: Result<PlannedWrite, ProvisionError>| -> Vec<(String, Result<PlannedWrite, ProvisionError>)> {
        emails.iter().map(|e| (e.to_lowercase(), result.clone())).collect()
    };
    if run.dry_run() {
        run.record(&write);
        return tag(Ok(write));
    }
    match run.client().add_users_to_user_group(group_id, emails).await {
        Ok(_) => {
            run.record(&write);
            tag(Ok(write))
        }
        Err(e) => {
            let rejected = matches!(
                e,
                segment_api::Error::NotFound { .. } | segment_api::Error::Validation { .. }
            );
            if rejected && emails.len() > 1 {
                tracing::warn!(group = group_id, error = %e, "batched member add rejected; adding the addresses one by one");
                let mut out = Vec::with_capacity(emails.len());
                for email in emails {
                    out.extend(Box::pin(add_members(run, group_id, &[email])).await);
                }
                return out;
            }
            let hint = if matches!(e, segment_api::Error::NotFound { .. }) {
                " (Segment answers 404 when the group is gone or an address is neither a user nor a pending invitation)"
            } else {
                ""
            };
            tag(Err(ProvisionError::api(
                format!("adding {} to group {group_id}{hint}", emails.join(", ")),
                e,
            )))
        }
    }
}
