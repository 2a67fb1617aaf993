//! Membership batches: all membership changes of one group as one read of its members and
//! invitees plus one add and one remove call; dry runs.

use std::collections::{BTreeMap, HashMap, HashSet};

use baton_model::ids::{EntitlementId, ResourceRef};
use futures::TryStreamExt;
use segment_api::MinimalUser;
use serde_json::json;

use crate::context::{OpResults, Run, gone, is_not_found};
use crate::outcome::{PlannedWrite, encode, indexed_query};
use crate::{Outcome, OutcomeKind, ProvisionError};

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

    // Membership is decided by user id for users (a member listed with that id) and by
    // address (case-insensitively) for invites. Keys: `u:<user id>` for members, `e:<lowercase
    // address>` for pending invitees; present key -> the address as Segment lists it.
    let mut initial: BTreeMap<String, String> = BTreeMap::new();
    let mut key_of_address: HashMap<String, String> = HashMap::new();
    for member in &members {
        let key = format!("u:{}", member.id);
        if !member.email.is_empty() {
            key_of_address.insert(member.email.to_lowercase(), key.clone());
        }
        initial.insert(key, member.email.clone());
    }
    for email in &invitees {
        let lc = email.to_lowercase();
        if email.is_empty() || key_of_address.contains_key(&lc) {
            continue;
        }
        let key = format!("e:{lc}");
        key_of_address.insert(lc, key.clone());
        initial.insert(key, email.clone());
    }
    // The key an operation is about. A user's email (read fresh from Segment) only matters
    // for writing.
    let key_of = |op: &MemberOp| -> String {
        match &op.user_id {
            Some(id) => format!("u:{id}"),
            None => {
                let lc = op.email.to_lowercase();
                key_of_address
                    .get(&lc)
                    .cloned()
                    .unwrap_or_else(|| format!("e:{lc}"))
            }
        }
    };

    let dry_run = run.dry_run();
    let mut present: HashSet<String> = initial.keys().cloned().collect();
    let mut outcomes = Vec::with_capacity(ops.len());
    // Key -> the address to write for it (the operation's, for keys not listed by Segment
    // or listed without an address).
    let mut spelled: HashMap<String, String> = HashMap::new();
    for op in ops {
        let key = key_of(op);
        spelled
            .entry(key.clone())
            .or_insert_with(|| op.email.clone());
        let kind = if op.add {
            if present.insert(key.clone()) {
                OutcomeKind::Granted
            } else {
                OutcomeKind::AlreadyGranted
            }
        } else if present.remove(&key) {
            OutcomeKind::Revoked
        } else {
            OutcomeKind::AlreadyRevoked
        };
        outcomes.push((
            key,
            Outcome::for_grant(kind, dry_run, &op.entitlement, &op.principal),
        ));
    }
    let address = |key: &str, listed: Option<&String>| -> String {
        listed
            .filter(|e| !e.is_empty())
            .or_else(|| spelled.get(key))
            .cloned()
            .unwrap_or_default()
    };
    let to_remove: Vec<(String, String)> = initial
        .iter()
        .filter(|(key, _)| !present.contains(*key))
        .map(|(key, listed)| (key.clone(), address(key, Some(listed))))
        .collect();
    let to_add: Vec<(String, String)> = present
        .iter()
        .filter(|key| !initial.contains_key(*key))
        .map(|key| (key.clone(), address(key, None)))
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();

    // Write results per key.
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
        for (key, _) in chunk {
            written.insert(key.clone(), result.clone());
        }
    }
    for chunk in to_add.chunks(run.max_batch()) {
        let emails: Vec<&str> = chunk.iter().map(|(_, e)| e.as_str()).collect();
        let by_address: HashMap<String, &str> = chunk
            .iter()
            .map(|(key, e)| (e.to_lowercase(), key.as_str()))
            .collect();
        for (lc, result) in add_members(run, group_id, &emails).await {
            if let Some(key) = by_address.get(&lc) {
                written.insert((*key).to_owned(), result);
            }
        }
    }

    ops.iter()
        .zip(outcomes)
        .map(|(op, (key, mut outcome))| {
            if outcome.is_noop() {
                return (op.index, Ok(outcome));
            }
            match written.get(&key) {
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
