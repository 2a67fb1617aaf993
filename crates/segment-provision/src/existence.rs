//! Fail closed before a grant writes anything: the resource a scoped entitlement names
//! (source, function, space) must exist, and an `invite:` principal must be a pending
//! invitation. Each listing is read once per run and shared by its operations.

use std::collections::HashSet;

use futures::{Stream, StreamExt};
use segment_api::FunctionKind;
use segment_scheme::ScopeType;

use crate::ProvisionError;
use crate::context::Run;

/// Every item of a listing, or the error of the first page that failed.
async fn collect<S, T>(stream: S, what: &str) -> Result<Vec<T>, ProvisionError>
where
    S: Stream<Item = Result<T, segment_api::Error>>,
{
    let mut out = Vec::new();
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        out.push(item.map_err(|e| ProvisionError::api(format!("listing {what}"), e))?);
    }
    Ok(out)
}

/// The ids of every resource of `scope` in the workspace.
async fn list_scope(run: &Run<'_>, scope: ScopeType) -> Result<HashSet<String>, ProvisionError> {
    let client = run.client();
    let ids = match scope {
        ScopeType::Source => collect(client.list_sources(), "sources")
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect(),
        ScopeType::Warehouse => collect(client.list_warehouses(), "warehouses")
            .await?
            .into_iter()
            .map(|w| w.id)
            .collect(),
        ScopeType::Space => collect(client.list_spaces(), "spaces")
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect(),
        ScopeType::Function => {
            let mut ids = HashSet::new();
            for kind in FunctionKind::ALL {
                let listed = collect(client.list_functions(kind), "functions").await?;
                ids.extend(listed.into_iter().map(|f| f.id));
            }
            ids
        }
    };
    Ok(ids)
}

/// Fails with [`ProvisionError::ScopedResourceNotFound`] unless `resource_id` of `scope`
/// exists.
pub(crate) async fn check_scoped_resource(
    run: &Run<'_>,
    entitlement: &str,
    scope: ScopeType,
    resource_id: &str,
) -> Result<(), ProvisionError> {
    let ids = run.scope_ids(scope, || list_scope(run, scope)).await?;
    if ids.contains(resource_id) {
        Ok(())
    } else {
        Err(ProvisionError::ScopedResourceNotFound {
            entitlement: entitlement.to_owned(),
            resource: format!("{scope}:{resource_id}"),
        })
    }
}

/// Fails with [`ProvisionError::InviteNotPending`] unless `email` is a pending invitation
/// (case-insensitively).
pub(crate) async fn check_pending_invite(
    run: &Run<'_>,
    entitlement: &str,
    email: &str,
) -> Result<(), ProvisionError> {
    if run.was_invited(email) {
        return Ok(());
    }
    let pending = run
        .pending_invites(|| async {
            let listed = collect(run.client().list_invites(), "invitations").await?;
            Ok(listed.into_iter().map(|e| e.to_lowercase()).collect())
        })
        .await?;
    if pending.contains(&email.to_lowercase()) {
        Ok(())
    } else {
        Err(ProvisionError::InviteNotPending {
            entitlement: entitlement.to_owned(),
            invite: format!("invite:{email}"),
        })
    }
}
