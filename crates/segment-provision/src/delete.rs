//! Deletes of users and invitations: batched, and a resource already gone is `already gone`.

use std::collections::{BTreeSet, HashMap, HashSet};

use baton_model::ids::ResourceRef;
use futures::TryStreamExt;
use segment_scheme::{self as scheme};

use crate::account::invite_ref;
use crate::context::{OpResults, Run};
use crate::outcome::{PlannedWrite, indexed_query};
use crate::{Outcome, OutcomeKind, ProvisionError};

// ---- deletes ---------------------------------------------------------------------------------

fn delete_users_write(ids: &[&str]) -> PlannedWrite {
    PlannedWrite {
        operation: "deleteUsers",
        method: "DELETE",
        path: format!("/users?{}", indexed_query("userIds", ids)),
        body: None,
    }
}

fn delete_invites_write(emails: &[&str]) -> PlannedWrite {
    PlannedWrite {
        operation: "deleteInvites",
        method: "DELETE",
        path: format!("/invites?{}", indexed_query("emails", emails)),
        body: None,
    }
}

fn removed(
    kind: OutcomeKind,
    dry_run: bool,
    resource: ResourceRef,
    writes: Vec<PlannedWrite>,
) -> Outcome {
    Outcome {
        resource: Some(resource),
        writes,
        ..Outcome::new(kind, dry_run)
    }
}

/// The outcome of deleting a resource that does not exist: nothing written.
fn already_gone(dry_run: bool, resource: ResourceRef) -> Outcome {
    removed(OutcomeKind::AlreadyGone, dry_run, resource, Vec::new())
}

/// The outcome of deleting `resource` with `write`.
fn deleted_by(write: &PlannedWrite, dry_run: bool, resource: ResourceRef) -> Outcome {
    removed(OutcomeKind::Removed, dry_run, resource, vec![write.clone()])
}

/// Deletes users and invitations: checks which exist (unknown ones are
/// [`OutcomeKind::AlreadyGone`]), then one `DELETE /users` and one `DELETE /invites` for all
/// (per `max_batch`).
pub(crate) async fn delete_resources(run: &Run<'_>, items: Vec<(usize, ResourceRef)>) -> OpResults {
    let mut results: OpResults = Vec::new();
    let mut users: Vec<(usize, ResourceRef)> = Vec::new();
    let mut invites: Vec<(usize, ResourceRef)> = Vec::new();
    for (index, resource) in items {
        match resource.resource_type().as_str() {
            scheme::USER => users.push((index, resource)),
            scheme::INVITE => invites.push((index, resource)),
            _ => results.push((
                index,
                Err(ProvisionError::UnsupportedDelete {
                    resource: resource.to_string(),
                }),
            )),
        }
    }
    if !users.is_empty() {
        results.extend(delete_users(run, users).await);
    }
    if !invites.is_empty() {
        results.extend(delete_invites(run, invites).await);
    }
    results
}

async fn delete_users(run: &Run<'_>, users: Vec<(usize, ResourceRef)>) -> OpResults {
    let client = run.client();
    let dry_run = run.dry_run();
    let existing: Result<HashSet<String>, segment_api::Error> = if users.len() == 1 {
        let id = users[0].1.resource();
        match client.get_user(id).await {
            Ok(user) => Ok(HashSet::from([user.id])),
            Err(segment_api::Error::NotFound { .. }) => Ok(HashSet::new()),
            Err(e) => Err(e),
        }
    } else {
        client.list_users().map_ok(|u| u.id).try_collect().await
    };
    let existing = match existing {
        Ok(ids) => ids,
        Err(e) => {
            let error = ProvisionError::api("checking which users exist before deleting them", e);
            return users
                .into_iter()
                .map(|(i, _)| (i, Err(error.clone())))
                .collect();
        }
    };
    let mut results: OpResults = Vec::new();
    let mut targets: Vec<(usize, ResourceRef)> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (index, resource) in users {
        let id = resource.resource().to_owned();
        if existing.contains(&id) && seen.insert(id) {
            targets.push((index, resource));
        } else {
            results.push((index, Ok(already_gone(dry_run, resource))));
        }
    }
    for chunk in targets.chunks(run.max_batch()) {
        results.extend(delete_user_chunk(run, chunk).await);
    }
    results
}

async fn delete_user_chunk(run: &Run<'_>, chunk: &[(usize, ResourceRef)]) -> OpResults {
    let dry_run = run.dry_run();
    let ids: Vec<&str> = chunk.iter().map(|(_, r)| r.resource()).collect();
    let write = delete_users_write(&ids);
    let sent = if dry_run {
        Ok(())
    } else {
        run.client().delete_users(&ids).await
    };
    match sent {
        Ok(()) => {
            run.record(&write);
            chunk
                .iter()
                .map(|(i, r)| (*i, Ok(deleted_by(&write, dry_run, r.clone()))))
                .collect()
        }
        // Segment refuses the whole call when one id is unknown: someone deleted one
        // meanwhile. Retry one by one; a lone unknown id is already gone.
        Err(segment_api::Error::NotFound { .. }) if chunk.len() > 1 => {
            let mut results = Vec::new();
            for item in chunk {
                results.extend(Box::pin(delete_user_chunk(run, std::slice::from_ref(item))).await);
            }
            results
        }
        Err(segment_api::Error::NotFound { .. }) => chunk
            .iter()
            .map(|(i, r)| (*i, Ok(already_gone(dry_run, r.clone()))))
            .collect(),
        Err(e) => {
            let error = ProvisionError::api(format!("deleting users {}", ids.join(", ")), e);
            chunk
                .iter()
                .map(|(i, _)| (*i, Err(error.clone())))
                .collect()
        }
    }
}

async fn delete_invites(run: &Run<'_>, invites: Vec<(usize, ResourceRef)>) -> OpResults {
    let dry_run = run.dry_run();
    let listed: Vec<String> = match run.client().list_invites().try_collect().await {
        Ok(l) => l,
        Err(e) => {
            let error = ProvisionError::api("listing pending invitations before deleting them", e);
            return invites
                .into_iter()
                .map(|(i, _)| (i, Err(error.clone())))
                .collect();
        }
    };
    let listed: HashMap<String, String> =
        listed.into_iter().map(|e| (e.to_lowercase(), e)).collect();
    let mut results: OpResults = Vec::new();
    let mut targets: Vec<(usize, ResourceRef, String)> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (index, resource) in invites {
        let lc = resource.resource().to_lowercase();
        match listed.get(&lc) {
            Some(email) if seen.insert(lc.clone()) => {
                let resource = invite_ref(email).unwrap_or(resource);
                targets.push((index, resource, email.clone()));
            }
            _ => results.push((index, Ok(already_gone(dry_run, resource)))),
        }
    }
    for chunk in targets.chunks(run.max_batch()) {
        let emails: Vec<&str> = chunk.iter().map(|(_, _, e)| e.as_str()).collect();
        let write = delete_invites_write(&emails);
        let sent = if dry_run {
            Ok(())
        } else {
            run.client().delete_invites(&emails).await
        };
        match sent {
            Ok(()) => {
                run.record(&write);
                for (i, r, _) in chunk {
                    results.push((*i, Ok(deleted_by(&write, dry_run, r.clone()))));
                }
            }
            Err(e) => {
                let error =
                    ProvisionError::api(format!("deleting invitations {}", emails.join(", ")), e);
                for (i, _, _) in chunk {
                    results.push((*i, Err(error.clone())));
                }
            }
        }
    }
    results
}
