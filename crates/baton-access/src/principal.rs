//! Finding a principal from what a reviewer types: `TYPE:ID`, a bare id (of any resource type),
//! or an email address (a user's email or login, or a pending invitation's address; compared
//! without regard to case).

use crate::error::{AccessError, Result};
use baton_c1z::{ResourceFilter, SyncView};
use baton_model::{annotations, pb};

/// The one resource `query` names. Errors: [`AccessError::PrincipalNotFound`],
/// [`AccessError::AmbiguousPrincipal`], or a read error.
pub fn resolve_principal(view: &SyncView<'_>, query: &str) -> Result<pb::Resource> {
    let query = query.trim();
    // TYPE:ID exactly.
    if let Some((t, id)) = query.split_once(':')
        && let Some(r) = view.get_resource(&resource_id(t, id))?
    {
        return Ok(r);
    }
    // A bare id of any resource type.
    let types: Vec<pb::ResourceType> = view.resource_types().collect::<Result<_, _>>()?;
    let mut found = Vec::new();
    for t in &types {
        if let Some(r) = view.get_resource(&resource_id(&t.id, query))? {
            found.push(r);
        }
    }
    // An email or login of a resource with a user trait (users and invitations).
    if found.is_empty() && query.contains('@') {
        for r in view.resources(&ResourceFilter::default()) {
            let r = r?;
            let Ok(Some(user)) = annotations::pick::<pb::UserTrait>(&r.annotations) else {
                continue;
            };
            let matches = user.login.eq_ignore_ascii_case(query)
                || user
                    .emails
                    .iter()
                    .any(|e| e.address.eq_ignore_ascii_case(query));
            if matches {
                found.push(r);
            }
        }
    }
    match found.len() {
        0 => Err(AccessError::PrincipalNotFound {
            query: query.to_owned(),
            sync_id: view.sync_id().to_owned(),
        }),
        1 => Ok(found.remove(0)),
        _ => {
            let ids: Vec<String> = found
                .iter()
                .filter_map(|r| r.id.as_ref())
                .map(|id| format!("{}:{}", id.resource_type, id.resource))
                .collect();
            Err(AccessError::AmbiguousPrincipal {
                query: query.to_owned(),
                candidates: ids.join(", "),
            })
        }
    }
}

pub(crate) fn resource_id(resource_type: &str, id: &str) -> pb::ResourceId {
    pb::ResourceId {
        resource_type: resource_type.to_owned(),
        resource: id.to_owned(),
        ..Default::default()
    }
}
