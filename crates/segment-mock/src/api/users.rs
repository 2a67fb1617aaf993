//! Handlers of the user operations: list, get, delete, and a user's groups.

use serde_json::{Value, json};

use super::Ctx;
use super::parse::required_query_array;
use super::render::{minimal_user, permission_json};
use crate::config::Plan;
use crate::model::Workspace;
use crate::query::{LastPage, Query, page};
use crate::reply::{ApiError, ApiOk, ApiResult, success};

/// `GET /users`.
pub(super) fn list_users(ctx: &Ctx<'_>, q: &Query) -> ApiResult {
    let req = q.pagination()?;
    let (items, pagination) = page(&ctx.ws.users, req, true, LastPage::Omit);
    let users: Vec<Value> = items
        .iter()
        .map(|u| minimal_user(&u.id, &u.name, &u.email))
        .collect();
    Ok(ApiOk::list(
        json!({"users": users, "pagination": pagination}),
    ))
}

/// `GET /users/{id}`: direct permissions only.
pub(super) fn get_user(ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let user = &ctx.ws.users[find_user(ctx.ws, id)?];
    let perms: Vec<Value> = user
        .permissions
        .iter()
        .map(|p| permission_json(ctx.ws, p))
        .collect();
    Ok(ApiOk::ok(json!({"user": {
        "id": user.id, "name": user.name, "email": user.email, "permissions": perms,
    }})))
}

/// `GET /users/{id}/groups`.
pub(super) fn list_user_groups_from_user(ctx: &Ctx<'_>, id: &str, q: &Query) -> ApiResult {
    let req = q.pagination()?;
    let user = &ctx.ws.users[find_user(ctx.ws, id)?];
    // Groups do not exist on the Team plan, so the user belongs to none.
    let groups: Vec<Value> = if ctx.plan == Plan::Team {
        Vec::new()
    } else {
        ctx.ws
            .groups
            .iter()
            .filter(|g| {
                g.members
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(&user.email))
            })
            .map(|g| json!({"id": g.id, "name": g.name}))
            .collect()
    };
    let (items, pagination) = page(&groups, req, true, LastPage::Omit);
    Ok(ApiOk::list(
        json!({"groups": items, "pagination": pagination}),
    ))
}

pub(super) fn delete_users(ctx: &mut Ctx<'_>, q: &Query) -> ApiResult {
    let ids = required_query_array(q, "userIds")?;
    // Atomic: an unknown id fails the whole call with 404 and nothing is removed.
    if ids
        .iter()
        .any(|id| !ctx.ws.users.iter().any(|u| &u.id == id))
    {
        return Err(ApiError::not_found());
    }
    let removed: Vec<String> = ctx
        .ws
        .users
        .iter()
        .filter(|u| ids.contains(&u.id))
        .map(|u| u.email.clone())
        .collect();
    ctx.ws.users.retain(|u| !ids.contains(&u.id));
    for g in &mut ctx.ws.groups {
        g.members
            .retain(|m| !removed.iter().any(|e| e.eq_ignore_ascii_case(m)));
    }
    Ok(success())
}

/// The index of user `id`, or Segment's 404.
pub(super) fn find_user(ws: &Workspace, id: &str) -> Result<usize, ApiError> {
    ws.users
        .iter()
        .position(|u| u.id == id)
        .ok_or_else(ApiError::not_found)
}
