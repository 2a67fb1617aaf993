//! Handlers of the user-group operations: list, create, get, rename, delete, members and
//! invitees.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::Ctx;
use super::invites::{EmailIndex, first_by_email, push_new_emails};
use super::parse::{parse_body, required_body_strings, required_name, required_query_array};
use super::render::{group_json, minimal_user};
use crate::ids::id22;
use crate::model::{Group, Workspace};
use crate::query::{LastPage, Query, page};
use crate::reply::{ApiError, ApiOk, ApiResult, success};

/// `GET /groups`.
pub(super) fn list_user_groups(ctx: &Ctx<'_>, q: &Query) -> ApiResult {
    let req = q.pagination()?;
    let (items, pagination) = page(&ctx.ws.groups, req, false, LastPage::Omit);
    let groups: Vec<Value> = items.iter().map(|g| group_json(ctx.ws, g, true)).collect();
    Ok(ApiOk::list(
        json!({"userGroups": groups, "pagination": pagination}),
    ))
}

/// `POST /groups`.
pub(super) fn create_user_group(ctx: &mut Ctx<'_>, body: &[u8]) -> ApiResult {
    let name = required_name(body)?;
    let group = Group {
        id: id22(ctx.rng),
        name,
        members: Vec::new(),
        invites: Vec::new(),
        permissions: Vec::new(),
    };
    let out = group_json(ctx.ws, &group, true);
    ctx.ws.groups.push(group);
    Ok(ApiOk::ok(json!({"userGroup": out})))
}

/// `GET /groups/{id}`.
pub(super) fn get_user_group(ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let g = find_group(ctx.ws, id)?;
    Ok(ApiOk::ok(
        json!({"userGroup": group_json(ctx.ws, &ctx.ws.groups[g], true)}),
    ))
}

/// `PATCH /groups/{id}`.
pub(super) fn update_user_group(ctx: &mut Ctx<'_>, id: &str, body: &[u8]) -> ApiResult {
    let g = find_group(ctx.ws, id)?;
    let name = required_name(body)?;
    ctx.ws.groups[g].name = name;
    Ok(ApiOk::ok(
        json!({"userGroup": group_json(ctx.ws, &ctx.ws.groups[g], true)}),
    ))
}

/// `DELETE /groups/{id}`.
pub(super) fn delete_user_group(ctx: &mut Ctx<'_>, id: &str) -> ApiResult {
    let g = find_group(ctx.ws, id)?;
    ctx.ws.groups.remove(g);
    Ok(success())
}

/// `GET /groups/{id}/users`: accepted members.
pub(super) fn list_users_from_user_group(ctx: &Ctx<'_>, id: &str, q: &Query) -> ApiResult {
    let req = q.pagination()?;
    let g = find_group(ctx.ws, id)?;
    let by_email = EmailIndex::new(ctx.ws);
    let users: Vec<Value> = ctx.ws.groups[g]
        .members
        .iter()
        .filter_map(|m| by_email.user(m))
        .map(|u| minimal_user(&u.id, &u.name, &u.email))
        .collect();
    let (items, pagination) = page(&users, req, true, LastPage::Null);
    Ok(ApiOk::list(
        json!({"users": items, "pagination": pagination}),
    ))
}

/// `DELETE /group/{id}/users?emails.0=...`: members and invitees.
pub(super) fn remove_users_from_user_group(ctx: &mut Ctx<'_>, id: &str, q: &Query) -> ApiResult {
    let g = find_group(ctx.ws, id)?;
    let emails = required_query_array(q, "emails")?;
    let gone: HashSet<String> = emails.iter().map(|e| e.to_ascii_lowercase()).collect();
    let group = &mut ctx.ws.groups[g];
    group
        .members
        .retain(|m| !gone.contains(&m.to_ascii_lowercase()));
    group
        .invites
        .retain(|m| !gone.contains(&m.to_ascii_lowercase()));
    Ok(success())
}

/// `GET /groups/{id}/invites`.
pub(super) fn list_invites_from_user_group(ctx: &Ctx<'_>, id: &str, q: &Query) -> ApiResult {
    let req = q.pagination()?;
    let g = find_group(ctx.ws, id)?;
    let (items, pagination) = page(&ctx.ws.groups[g].invites, req, true, LastPage::Omit);
    Ok(ApiOk::list(
        json!({"emails": items, "pagination": pagination}),
    ))
}

/// `POST /groups/{id}/users` (add) and `PUT /group/{id}/users` (replace).
///
/// Emails of workspace users become members; emails of pending workspace invites become group
/// invitees; any other email fails the whole call with 404 (nothing changes).
pub(super) fn group_members(ctx: &mut Ctx<'_>, id: &str, body: &[u8], replace: bool) -> ApiResult {
    let g = find_group(ctx.ws, id)?;
    let v = parse_body(body)?;
    let emails = required_body_strings(&v, "emails")?;
    if emails.is_empty() && !replace {
        return Err(ApiError::validation(
            "\"emails\" must contain at least one email",
            "emails",
        ));
    }
    let mut members = Vec::new();
    let mut invitees = Vec::new();
    {
        let by_email = EmailIndex::new(ctx.ws);
        let invites: HashMap<String, &str> = first_by_email(
            ctx.ws
                .invites
                .iter()
                .map(|i| (i.email.as_str(), i.email.as_str())),
        );
        for e in &emails {
            if let Some(u) = by_email.user(e) {
                members.push(u.email.clone());
            } else if let Some(i) = invites.get(&e.to_ascii_lowercase()) {
                invitees.push((*i).to_owned());
            } else {
                return Err(ApiError::not_found());
            }
        }
    }
    let group = &mut ctx.ws.groups[g];
    if replace {
        group.members.clear();
        group.invites.clear();
    }
    push_new_emails(&mut group.members, members);
    push_new_emails(&mut group.invites, invitees);
    Ok(ApiOk::ok(
        json!({"userGroup": group_json(ctx.ws, &ctx.ws.groups[g], false)}),
    ))
}

pub(super) fn find_group(ws: &Workspace, id: &str) -> Result<usize, ApiError> {
    ws.groups
        .iter()
        .position(|g| g.id == id)
        .ok_or_else(ApiError::not_found)
}
