//! The run phases of one batch of operations: accounts, then grants and revokes (batched per
//! principal and per group), then deletes; and the merge of account follow-ups.

use std::collections::{BTreeMap, HashMap};

use baton_model::ids::EntitlementId;
use futures::StreamExt;

use crate::account::{self};
use crate::context::{Inner, OpResults, Run};
use crate::member_batch::{self, MemberOp};
use crate::op::{Change, Op, reject_reordered};
use crate::perm_batch::{self, PermOp, Subject};
use crate::resolve::Target;
use crate::{Outcome, ProvisionError};

/// The result of one entitlement applied after an account operation, with the entitlement.
pub(crate) type FollowResult = (EntitlementId, Result<Outcome, ProvisionError>);

/// Files each result of an operation that follows up an account (per `follow_of`: its
/// index -> the account's index and the entitlement) under that account in `followed`, and
/// pushes every other result to `rest`, in order.
pub(crate) fn route_follow_ups(
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

/// The operations of a run, sorted by phase.
#[derive(Debug, Default)]
struct Phases {
    /// Results known before anything runs (malformed or reordered operations).
    early: OpResults,
    accounts: Vec<(usize, crate::AccountRequest)>,
    changes: Vec<Change>,
    deletes: Vec<(usize, baton_model::ids::ResourceRef)>,
    /// The first index free for account follow-ups (above every operation's).
    next_follow: usize,
}

/// What the account phase leaves for the later ones.
#[derive(Debug, Default)]
struct AccountPhase {
    results: BTreeMap<usize, Result<Outcome, ProvisionError>>,
    /// Roles a pending invitation could not take, by account index.
    unapplied: BTreeMap<usize, Vec<EntitlementId>>,
    /// Follow-up index -> (account index, entitlement).
    follow_of: HashMap<usize, (usize, EntitlementId)>,
}

/// The resolved grants and revokes, batched per principal and per group.
#[derive(Debug, Default)]
struct Batches {
    perm: BTreeMap<Subject, Vec<PermOp>>,
    member: BTreeMap<String, Vec<MemberOp>>,
    /// Changes settled while resolving (errors, "already revoked" on a missing principal).
    settled: OpResults,
}

enum Batch {
    Perm(Subject, Vec<PermOp>),
    Member(String, Vec<MemberOp>),
}

fn sort_phases(ops: Vec<(usize, Result<Op, ProvisionError>)>) -> Phases {
    let mut phases = Phases {
        next_follow: ops.iter().map(|(i, _)| *i + 1).max().unwrap_or(0),
        ..Phases::default()
    };
    for (index, op) in reject_reordered(ops) {
        match op {
            Err(e) => phases.early.push((index, Err(e))),
            Ok(Op::CreateAccount(request)) => phases.accounts.push((index, request)),
            Ok(Op::Grant {
                entitlement,
                principal,
            }) => phases.changes.push(Change {
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
            }) => phases.changes.push(Change {
                index,
                entitlement,
                principal,
                grant: false,
                stated,
            }),
            Ok(Op::Delete(resource)) => phases.deletes.push((index, resource)),
        }
    }
    phases
}

impl Inner {
    /// Runs operations: accounts first, then grants and revokes (batched per principal and per
    /// group, in submission order within each), then deletes. Returns each operation's result
    /// and every write made.
    pub(crate) async fn run(
        &self,
        ops: Vec<(usize, Result<Op, ProvisionError>)>,
    ) -> (OpResults, Vec<crate::PlannedWrite>) {
        let run = Run::new(self);
        let mut phases = sort_phases(ops);
        let mut results = std::mem::take(&mut phases.early);
        self.report_progress(&results);

        let mut accounts = self.run_accounts(&run, &mut phases).await;
        let follow_of = &accounts.follow_of;
        let batches = self.resolve_changes(&run, phases.changes, follow_of).await;
        let settled = batches.settled.clone();
        let batch_results = self.run_batches(&run, batches, follow_of).await;

        // Follow-up results by account, in the order of the account's request.
        let mut followed: BTreeMap<usize, BTreeMap<usize, FollowResult>> = BTreeMap::new();
        let mut own_settled: OpResults = Vec::new();
        route_follow_ups(settled, follow_of, &mut followed, &mut own_settled);
        self.report_progress(&own_settled);
        results.extend(own_settled);
        route_follow_ups(
            batch_results.into_iter().flatten(),
            follow_of,
            &mut followed,
            &mut results,
        );
        results.extend(self.merge_accounts(&mut accounts, followed));

        if !phases.deletes.is_empty() {
            let r = crate::delete::delete_resources(&run, phases.deletes).await;
            self.report_progress(&r);
            results.extend(r);
        }
        (results, run.into_writes())
    }

    fn report_progress(&self, results: &OpResults) {
        if let Some(progress) = &self.options.progress {
            for (_, r) in results {
                progress.finish_op(r.is_ok());
            }
        }
    }

    /// Phase 1: creates the accounts; the entitlements that follow them join the changes.
    async fn run_accounts(&self, run: &Run<'_>, phases: &mut Phases) -> AccountPhase {
        let mut out = AccountPhase::default();
        if phases.accounts.is_empty() {
            return out;
        }
        let done = account::create_accounts(run, std::mem::take(&mut phases.accounts)).await;
        out.results.extend(done.results);
        out.unapplied = done.unapplied;
        for f in done.follow {
            let index = phases.next_follow;
            phases.next_follow += 1;
            out.follow_of
                .insert(index, (f.index, f.entitlement.clone()));
            phases.changes.push(Change {
                index,
                entitlement: f.entitlement,
                principal: f.principal,
                grant: true,
                stated: true,
            });
        }
        out
    }

    /// Phase 2a: resolves every grant and revoke (concurrently) and batches them per
    /// principal and per group, each batch in plan order (a follow-up at its account's place).
    async fn resolve_changes(
        &self,
        run: &Run<'_>,
        changes: Vec<Change>,
        follow_of: &HashMap<usize, (usize, EntitlementId)>,
    ) -> Batches {
        let concurrency = self.options.concurrency.max(1);
        let resolved: Vec<(Change, Result<Target, ProvisionError>)> =
            futures::stream::iter(changes)
                .map(|change| async move {
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
                })
                .buffered(concurrency)
                .collect()
                .await;
        let mut batches = Batches::default();
        for (change, target) in resolved {
            let Change {
                index,
                entitlement,
                principal,
                grant,
                stated,
            } = change;
            match target {
                Err(e) => batches.settled.push((index, Err(e))),
                Ok(Target::Gone(note)) => {
                    let mut outcome = Outcome::for_grant(
                        crate::OutcomeKind::AlreadyRevoked,
                        self.options.dry_run,
                        &entitlement,
                        &principal,
                    );
                    outcome.note = Some(note);
                    batches.settled.push((index, Ok(outcome)));
                }
                Ok(Target::Perm {
                    subject,
                    change,
                    slug,
                }) => batches.perm.entry(subject).or_default().push(PermOp {
                    index,
                    entitlement,
                    principal,
                    change,
                    slug,
                    stated,
                }),
                Ok(Target::Member {
                    group_id,
                    email,
                    user_id,
                }) => batches.member.entry(group_id).or_default().push(MemberOp {
                    index,
                    entitlement,
                    principal,
                    email,
                    user_id,
                    add: grant,
                }),
            }
        }
        // Plan position of an index (a follow-up sits at its account's position).
        let position = |index: usize| follow_of.get(&index).map_or(index, |(a, _)| *a);
        for batch in batches.perm.values_mut() {
            batch.sort_by_key(|op| position(op.index));
        }
        for batch in batches.member.values_mut() {
            batch.sort_by_key(|op| position(op.index));
        }
        batches
    }

    /// Phase 2b: runs the batches, up to `concurrency` at once.
    async fn run_batches(
        &self,
        run: &Run<'_>,
        batches: Batches,
        follow_of: &HashMap<usize, (usize, EntitlementId)>,
    ) -> Vec<OpResults> {
        let concurrency = self.options.concurrency.max(1);
        let all: Vec<Batch> = batches
            .perm
            .into_iter()
            .map(|(s, ops)| Batch::Perm(s, ops))
            .chain(
                batches
                    .member
                    .into_iter()
                    .map(|(g, ops)| Batch::Member(g, ops)),
            )
            .collect();
        futures::stream::iter(all)
            .map(|batch| async move {
                let r = match &batch {
                    Batch::Perm(subject, ops) => {
                        perm_batch::run_perm_batch(run, subject, ops).await
                    }
                    Batch::Member(group, ops) => {
                        member_batch::run_member_batch(run, group, ops).await
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
            })
            .buffer_unordered(concurrency)
            .collect()
            .await
    }

    /// Phase 2c: merges each account with the entitlements that followed it.
    fn merge_accounts(
        &self,
        accounts: &mut AccountPhase,
        mut followed: BTreeMap<usize, BTreeMap<usize, FollowResult>>,
    ) -> OpResults {
        let mut results = OpResults::new();
        for (index, account) in std::mem::take(&mut accounts.results) {
            let merged = match account {
                Ok(outcome) => merge_follow_ups(
                    outcome,
                    followed
                        .remove(&index)
                        .unwrap_or_default()
                        .into_values()
                        .collect(),
                    accounts.unapplied.remove(&index).unwrap_or_default(),
                ),
                Err(e) => Err(e),
            };
            if let Some(progress) = &self.options.progress {
                progress.finish_op(merged.is_ok());
            }
            results.push((index, merged));
        }
        results
    }
}

/// Adds the entitlements that followed an account operation to its outcome (writes, the
/// [`Outcome::applied`] list, a note) and the roles a pending invitation could not take
/// (`unapplied`); or turns the outcome into an error naming the entitlements that failed.
pub(crate) fn merge_follow_ups(
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
