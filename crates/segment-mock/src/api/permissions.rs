//! Permission changes of users and groups (add or replace), and the identity of a permission.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::Ctx;
use super::groups::find_group;
use super::parse::parse_permission_inputs;
use super::render::access_permission_json;
use crate::model::{Label, Permission, Workspace};
use crate::reply::{ApiOk, ApiResult};

pub(super) type PermKey = (
    String,
    Vec<(String, String, Vec<(String, String)>)>,
    Vec<(String, String)>,
);

/// Identity of a permission: role, resources (order-insensitive) and labels, ignoring descriptions.
pub(super) fn permission_key(p: &Permission) -> PermKey {
    let labels = |ls: &[Label]| {
        let mut v: Vec<(String, String)> = ls
            .iter()
            .map(|l| (l.key.clone(), l.value.clone()))
            .collect();
        v.sort();
        v
    };
    let mut resources: Vec<_> = p
        .resources
        .iter()
        .map(|r| (r.kind.as_str().to_owned(), r.id.clone(), labels(&r.labels)))
        .collect();
    resources.sort();
    (p.role_id.clone(), resources, labels(&p.labels))
}

/// Adds (deduplicating identical permissions) or replaces; returns the resulting set.
fn merge_permissions(current: &mut Vec<Permission>, new: Vec<Permission>, add: bool) {
    if !add {
        current.clear();
    }
    let mut keys: HashSet<PermKey> = current.iter().map(permission_key).collect();
    for p in new {
        if keys.insert(permission_key(&p)) {
            current.push(p);
        }
    }
}

pub(super) fn user_permissions(ctx: &mut Ctx<'_>, id: &str, body: &[u8], add: bool) -> ApiResult {
    let u = super::users::find_user(ctx.ws, id)?;
    set_permissions(ctx, body, add, (id, "user"), |ws| {
        &mut ws.users[u].permissions
    })
}

pub(super) fn group_permissions(ctx: &mut Ctx<'_>, id: &str, body: &[u8], add: bool) -> ApiResult {
    let g = find_group(ctx.ws, id)?;
    set_permissions(ctx, body, add, (id, "group"), |ws| {
        &mut ws.groups[g].permissions
    })
}

/// Adds the permissions of `body` to (or puts them in place of) the set `slot` points at and
/// answers the resulting set (naming `subject`, `(id, type)`, when adding).
fn set_permissions(
    ctx: &mut Ctx<'_>,
    body: &[u8],
    add: bool,
    subject: (&str, &str),
    slot: impl Fn(&mut Workspace) -> &mut Vec<Permission>,
) -> ApiResult {
    let new = parse_permission_inputs(ctx.ws, body, ctx.accept_unknown_resource_types)?;
    let mut perms = std::mem::take(slot(ctx.ws));
    merge_permissions(&mut perms, new, add);
    let subject = add.then_some(subject);
    let out: Vec<Value> = perms
        .iter()
        .map(|p| access_permission_json(ctx.ws, p, subject))
        .collect();
    *slot(ctx.ws) = perms;
    Ok(ApiOk::ok(json!({"permissions": out})))
}
