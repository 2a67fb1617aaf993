//! Handlers of the workspace-invite operations, and email lookups shared with the groups.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::Ctx;
use super::parse::{looks_like_email, parse_body, parse_permission, required_query_array};
use crate::model::{Invite, User, Workspace};
use crate::query::{LastPage, Query, page};
use crate::reply::{ALREADY_INVITED_MESSAGE, ApiError, ApiOk, ApiResult, success};

/// `GET /invites`.
pub(super) fn list_invites(ctx: &Ctx<'_>, q: &Query) -> ApiResult {
    let req = q.pagination()?;
    let (items, pagination) = page(&ctx.ws.invites, req, true, LastPage::Null);
    let emails: Vec<&str> = items.iter().map(|i| i.email.as_str()).collect();
    Ok(ApiOk::list(
        json!({"invites": emails, "pagination": pagination}),
    ))
}

pub(super) fn create_invites(ctx: &mut Ctx<'_>, body: &[u8]) -> ApiResult {
    let v = parse_body(body)?;
    let arr = match v.get("invites") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => {
            return Err(ApiError::validation(
                "\"invites\" must contain at least one invite",
                "invites",
            ));
        }
        None | Some(Value::Null) => {
            return Err(ApiError::validation("\"invites\" is required", "invites"));
        }
        Some(_) => {
            return Err(ApiError::validation(
                "\"invites\" must be an array",
                "invites",
            ));
        }
    };
    let mut new: Vec<Invite> = Vec::with_capacity(arr.len());
    for (i, inv) in arr.iter().enumerate() {
        let field = format!("invites.{i}");
        let email = inv.get("email").and_then(Value::as_str).ok_or_else(|| {
            ApiError::validation("\"email\" is required", &format!("{field}.email"))
        })?;
        if !looks_like_email(email) {
            return Err(ApiError::validation(
                "\"email\" must be a valid email",
                &format!("{field}.email"),
            ));
        }
        let permissions = match inv.get("permissions") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(ps)) => ps
                .iter()
                .enumerate()
                .map(|(j, p)| {
                    let field = format!("{field}.permissions.{j}");
                    parse_permission(ctx.ws, p, &field, false, ctx.accept_unknown_resource_types)
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(ApiError::validation(
                    "\"permissions\" must be an array",
                    &format!("{field}.permissions"),
                ));
            }
        };
        new.push(Invite {
            email: email.to_owned(),
            permissions,
        });
    }
    let by_email = EmailIndex::new(ctx.ws);
    let invited: HashSet<String> = ctx
        .ws
        .invites
        .iter()
        .map(|i| i.email.to_ascii_lowercase())
        .collect();
    let taken = |e: &str| by_email.user(e).is_some() || invited.contains(&e.to_ascii_lowercase());
    for (i, inv) in new.iter().enumerate() {
        let dup_in_request = new[..i]
            .iter()
            .any(|x| x.email.eq_ignore_ascii_case(&inv.email));
        if dup_in_request || taken(&inv.email) {
            return Err(ApiError::bad_request(ALREADY_INVITED_MESSAGE));
        }
    }
    let emails: Vec<String> = new.iter().map(|i| i.email.clone()).collect();
    ctx.ws.invites.extend(new);
    Ok(ApiOk {
        status: 201,
        ..ApiOk::ok(json!({"emails": emails}))
    })
}

/// `DELETE /invites?emails.0=...`: idempotent.
pub(super) fn delete_invites(ctx: &mut Ctx<'_>, q: &Query) -> ApiResult {
    let emails = required_query_array(q, "emails")?;
    // Idempotent: unknown emails are ignored and the call still succeeds.
    let gone = |e: &String| emails.iter().any(|x| x.eq_ignore_ascii_case(e));
    ctx.ws.invites.retain(|i| !gone(&i.email));
    for g in &mut ctx.ws.groups {
        g.invites.retain(|e| !gone(e));
    }
    Ok(success())
}

/// Workspace users by email, compared ASCII-case-insensitively like
/// [`Workspace::user_by_email`] (the first user wins), built once per request so that
/// resolving many emails (large groups, 2,000-user workspaces) is linear, not quadratic.
pub(crate) struct EmailIndex<'w> {
    users: HashMap<String, &'w User>,
}

impl<'w> EmailIndex<'w> {
    pub(crate) fn new(ws: &'w Workspace) -> Self {
        Self {
            users: first_by_email(ws.users.iter().map(|u| (u.email.as_str(), u))),
        }
    }

    /// The user with this email (ignoring ASCII case), like [`Workspace::user_by_email`].
    pub(crate) fn user(&self, email: &str) -> Option<&'w User> {
        self.users.get(&email.to_ascii_lowercase()).copied()
    }
}

/// A map keyed by ASCII-lowercased email that keeps the first value of each email.
pub(super) fn first_by_email<'a, V>(
    entries: impl Iterator<Item = (&'a str, V)>,
) -> HashMap<String, V> {
    let mut map = HashMap::new();
    for (email, value) in entries {
        map.entry(email.to_ascii_lowercase()).or_insert(value);
    }
    map
}

/// Appends the emails not yet in `list` (ignoring ASCII case), in order.
pub(super) fn push_new_emails(list: &mut Vec<String>, new: Vec<String>) {
    let mut present: HashSet<String> = list.iter().map(|e| e.to_ascii_lowercase()).collect();
    for email in new {
        if present.insert(email.to_ascii_lowercase()) {
            list.push(email);
        }
    }
}
