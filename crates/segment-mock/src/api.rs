//! Routing and the handlers of the Segment Public API operations (pure functions over the workspace).

use std::collections::{HashMap, HashSet};

use axum::http::Method;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};

use crate::config::{Features, Plan};
use crate::ids::{hash_strs, id22, ksuid_from_hash};
use crate::model::{
    FunctionKind, Group, Invite, Label, Permission, PermissionResource, ResourceType, User,
    Workspace,
};
use crate::query::{LastPage, Query, page};

/// Message of the plan-gating error (from segment-api.md §6.3).
pub(crate) const PLAN_MESSAGE: &str =
    "Your plan does not include User Groups. Contact sales to upgrade to business tier.";
/// Message of the duplicate-invite error (from segment-api.md §6.3).
pub(crate) const ALREADY_INVITED_MESSAGE: &str =
    "One or more email address was already invited to join workspace.";

/// An error response: status and the `errors` array.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) errors: Vec<Value>,
}

impl ApiError {
    pub(crate) fn new(status: u16, kind: &str, message: &str) -> Self {
        Self {
            status,
            errors: vec![json!({"type": kind, "message": message})],
        }
    }

    pub(crate) fn validation(message: &str, field: &str) -> Self {
        Self {
            status: 422,
            errors: vec![json!({"type": "input-validation", "message": message, "field": field})],
        }
    }

    pub(crate) fn not_found() -> Self {
        Self::new(404, "NotFound", "Resource not found")
    }

    pub(crate) fn bad_request(message: &str) -> Self {
        Self::new(400, "bad-request", message)
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            401,
            "unauthorized",
            "Unauthorized: missing or invalid token",
        )
    }

    pub(crate) fn body(&self) -> Value {
        json!({ "errors": self.errors })
    }
}

/// A success: status, the `data` payload, and how to serve it.
#[derive(Debug, Clone)]
pub(crate) struct ApiOk {
    pub(crate) status: u16,
    pub(crate) data: Value,
    /// Served as `application/vnd.segment.v1alpha+json`.
    pub(crate) alpha: bool,
    /// A paginated list (its `data.pagination` may be dropped by a fault).
    pub(crate) paginated: bool,
}

impl ApiOk {
    fn ok(data: Value) -> Self {
        Self {
            status: 200,
            data,
            alpha: false,
            paginated: false,
        }
    }

    fn list(data: Value) -> Self {
        Self {
            paginated: true,
            ..Self::ok(data)
        }
    }
}

pub(crate) type ApiResult = Result<ApiOk, ApiError>;

/// A matched operation with its decoded path parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    GetWorkspace,
    ListUsers,
    GetUser(String),
    DeleteUsers,
    AddPermissionsToUser(String),
    ReplacePermissionsForUser(String),
    ListUserGroupsFromUser(String),
    ListUserGroups,
    CreateUserGroup,
    GetUserGroup(String),
    UpdateUserGroup(String),
    DeleteUserGroup(String),
    ListUsersFromUserGroup(String),
    AddUsersToUserGroup(String),
    RemoveUsersFromUserGroup(String),
    ReplaceUsersInUserGroup(String),
    ListInvitesFromUserGroup(String),
    AddPermissionsToUserGroup(String),
    ReplacePermissionsForUserGroup(String),
    ListRoles,
    ListInvites,
    CreateInvites,
    DeleteInvites,
    ListSources,
    ListWarehouses,
    ListFunctions,
    ListSpaces,
    ListLabels,
}

impl Route {
    /// Segment's operationId.
    pub(crate) fn operation_id(&self) -> &'static str {
        match self {
            Self::GetWorkspace => "getWorkspace",
            Self::ListUsers => "listUsers",
            Self::GetUser(_) => "getUser",
            Self::DeleteUsers => "deleteUsers",
            Self::AddPermissionsToUser(_) => "addPermissionsToUser",
            Self::ReplacePermissionsForUser(_) => "replacePermissionsForUser",
            Self::ListUserGroupsFromUser(_) => "listUserGroupsFromUser",
            Self::ListUserGroups => "listUserGroups",
            Self::CreateUserGroup => "createUserGroup",
            Self::GetUserGroup(_) => "getUserGroup",
            Self::UpdateUserGroup(_) => "updateUserGroup",
            Self::DeleteUserGroup(_) => "deleteUserGroup",
            Self::ListUsersFromUserGroup(_) => "listUsersFromUserGroup",
            Self::AddUsersToUserGroup(_) => "addUsersToUserGroup",
            Self::RemoveUsersFromUserGroup(_) => "removeUsersFromUserGroup",
            Self::ReplaceUsersInUserGroup(_) => "replaceUsersInUserGroup",
            Self::ListInvitesFromUserGroup(_) => "listInvitesFromUserGroup",
            Self::AddPermissionsToUserGroup(_) => "addPermissionsToUserGroup",
            Self::ReplacePermissionsForUserGroup(_) => "replacePermissionsForUserGroup",
            Self::ListRoles => "listRoles",
            Self::ListInvites => "listInvites",
            Self::CreateInvites => "createInvites",
            Self::DeleteInvites => "deleteInvites",
            Self::ListSources => "listSources",
            Self::ListWarehouses => "listWarehouses",
            Self::ListFunctions => "listFunctions",
            Self::ListSpaces => "listSpaces",
            Self::ListLabels => "listLabels",
        }
    }

    /// Matches a method and decoded path segments.
    pub(crate) fn resolve(
        method: &Method,
        segs: &[String],
        plural_group_delete: bool,
    ) -> Option<Self> {
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        let id = |i: usize| segs[i].clone();
        let m = method.as_str();
        Some(match (m, s.as_slice()) {
            ("GET", []) => Self::GetWorkspace,
            ("GET", ["users"]) => Self::ListUsers,
            ("DELETE", ["users"]) => Self::DeleteUsers,
            ("GET", ["users", _]) => Self::GetUser(id(1)),
            ("POST", ["users", _, "permissions"]) => Self::AddPermissionsToUser(id(1)),
            ("PUT", ["users", _, "permissions"]) => Self::ReplacePermissionsForUser(id(1)),
            ("GET", ["users", _, "groups"]) => Self::ListUserGroupsFromUser(id(1)),
            ("GET", ["groups"]) => Self::ListUserGroups,
            ("POST", ["groups"]) => Self::CreateUserGroup,
            ("GET", ["groups", _]) => Self::GetUserGroup(id(1)),
            ("PATCH", ["groups", _]) => Self::UpdateUserGroup(id(1)),
            ("DELETE", ["groups", _]) => Self::DeleteUserGroup(id(1)),
            ("GET", ["groups", _, "users"]) => Self::ListUsersFromUserGroup(id(1)),
            ("POST", ["groups", _, "users"]) => Self::AddUsersToUserGroup(id(1)),
            ("DELETE", ["groups", _, "users"]) if plural_group_delete => {
                Self::RemoveUsersFromUserGroup(id(1))
            }
            ("DELETE", ["group", _, "users"]) => Self::RemoveUsersFromUserGroup(id(1)),
            ("PUT", ["group", _, "users"]) => Self::ReplaceUsersInUserGroup(id(1)),
            ("GET", ["groups", _, "invites"]) => Self::ListInvitesFromUserGroup(id(1)),
            ("POST", ["groups", _, "permissions"]) => Self::AddPermissionsToUserGroup(id(1)),
            ("PUT", ["groups", _, "permissions"]) => Self::ReplacePermissionsForUserGroup(id(1)),
            ("GET", ["roles"]) => Self::ListRoles,
            ("GET", ["invites"]) => Self::ListInvites,
            ("POST", ["invites"]) => Self::CreateInvites,
            ("DELETE", ["invites"]) => Self::DeleteInvites,
            ("GET", ["sources"]) => Self::ListSources,
            ("GET", ["warehouses"]) => Self::ListWarehouses,
            ("GET", ["functions"]) => Self::ListFunctions,
            ("GET", ["spaces"]) => Self::ListSpaces,
            ("GET", ["labels"]) => Self::ListLabels,
            _ => return None,
        })
    }
}

/// What a handler may read and change.
pub(crate) struct Ctx<'a> {
    pub(crate) ws: &'a mut Workspace,
    pub(crate) plan: Plan,
    pub(crate) features: Features,
    pub(crate) rng: &'a mut StdRng,
    /// Accept permission resources of an unknown type in request bodies.
    pub(crate) accept_unknown_resource_types: bool,
}

/// Runs one operation.
pub(crate) fn handle(route: &Route, ctx: &mut Ctx<'_>, q: &Query, body: &[u8]) -> ApiResult {
    match route {
        Route::GetWorkspace => Ok(ApiOk::ok(json!({"workspace": {
            "id": ctx.ws.id, "name": ctx.ws.name, "slug": ctx.ws.slug,
        }}))),
        Route::ListUsers => {
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
        Route::GetUser(id) => {
            let user = ctx
                .ws
                .users
                .iter()
                .find(|u| &u.id == id)
                .ok_or_else(ApiError::not_found)?;
            let perms: Vec<Value> = user
                .permissions
                .iter()
                .map(|p| permission_json(ctx.ws, p))
                .collect();
            Ok(ApiOk::ok(json!({"user": {
                "id": user.id, "name": user.name, "email": user.email, "permissions": perms,
            }})))
        }
        Route::DeleteUsers => delete_users(ctx, q),
        Route::AddPermissionsToUser(id) => user_permissions(ctx, id, body, true),
        Route::ReplacePermissionsForUser(id) => user_permissions(ctx, id, body, false),
        Route::ListUserGroupsFromUser(id) => {
            let req = q.pagination()?;
            let user = ctx
                .ws
                .users
                .iter()
                .find(|u| &u.id == id)
                .ok_or_else(ApiError::not_found)?;
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
        Route::ListUserGroups => {
            let req = q.pagination()?;
            let (items, pagination) = page(&ctx.ws.groups, req, false, LastPage::Omit);
            let groups: Vec<Value> = items.iter().map(|g| group_json(ctx.ws, g, true)).collect();
            Ok(ApiOk::list(
                json!({"userGroups": groups, "pagination": pagination}),
            ))
        }
        Route::CreateUserGroup => {
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
        Route::GetUserGroup(id) => {
            let g = find_group(ctx.ws, id)?;
            Ok(ApiOk::ok(
                json!({"userGroup": group_json(ctx.ws, &ctx.ws.groups[g], true)}),
            ))
        }
        Route::UpdateUserGroup(id) => {
            let g = find_group(ctx.ws, id)?;
            let name = required_name(body)?;
            ctx.ws.groups[g].name = name;
            Ok(ApiOk::ok(
                json!({"userGroup": group_json(ctx.ws, &ctx.ws.groups[g], true)}),
            ))
        }
        Route::DeleteUserGroup(id) => {
            let g = find_group(ctx.ws, id)?;
            ctx.ws.groups.remove(g);
            Ok(success())
        }
        Route::ListUsersFromUserGroup(id) => {
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
        Route::AddUsersToUserGroup(id) => group_members(ctx, id, body, false),
        Route::ReplaceUsersInUserGroup(id) => group_members(ctx, id, body, true),
        Route::RemoveUsersFromUserGroup(id) => {
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
        Route::ListInvitesFromUserGroup(id) => {
            let req = q.pagination()?;
            let g = find_group(ctx.ws, id)?;
            let (items, pagination) = page(&ctx.ws.groups[g].invites, req, true, LastPage::Omit);
            Ok(ApiOk::list(
                json!({"emails": items, "pagination": pagination}),
            ))
        }
        Route::AddPermissionsToUserGroup(id) => group_permissions(ctx, id, body, true),
        Route::ReplacePermissionsForUserGroup(id) => group_permissions(ctx, id, body, false),
        Route::ListRoles => {
            let req = q.pagination()?;
            let (items, pagination) = page(&ctx.ws.roles, req, false, LastPage::Omit);
            let roles: Vec<Value> = items
                .iter()
                .map(|r| json!({"id": r.id, "name": r.name, "description": r.description}))
                .collect();
            Ok(ApiOk::list(
                json!({"roles": roles, "pagination": pagination}),
            ))
        }
        Route::ListInvites => {
            let req = q.pagination()?;
            let (items, pagination) = page(&ctx.ws.invites, req, true, LastPage::Null);
            let emails: Vec<&str> = items.iter().map(|i| i.email.as_str()).collect();
            Ok(ApiOk::list(
                json!({"invites": emails, "pagination": pagination}),
            ))
        }
        Route::CreateInvites => create_invites(ctx, body),
        Route::DeleteInvites => {
            let emails = required_query_array(q, "emails")?;
            // Idempotent: unknown emails are ignored and the call still succeeds.
            let gone = |e: &String| emails.iter().any(|x| x.eq_ignore_ascii_case(e));
            ctx.ws.invites.retain(|i| !gone(&i.email));
            for g in &mut ctx.ws.groups {
                g.invites.retain(|e| !gone(e));
            }
            Ok(success())
        }
        Route::ListSources => {
            let req = q.pagination()?;
            let (items, pagination) = page(&ctx.ws.sources, req, true, LastPage::Omit);
            let ws_id = &ctx.ws.id;
            let sources: Vec<Value> = items
                .iter()
                .map(|s| {
                    json!({
                        "id": s.id, "slug": s.slug, "name": s.name, "workspaceId": ws_id,
                        "enabled": s.enabled, "writeKeys": s.write_keys, "settings": s.settings,
                        "labels": s.labels.iter().map(label_json).collect::<Vec<_>>(),
                        "metadata": {
                            "id": s.metadata.id, "name": s.metadata.name, "slug": s.metadata.slug,
                            "description": s.metadata.description,
                            "logos": logos_json(&s.metadata.logos),
                            "options": [], "categories": s.metadata.categories,
                            "isCloudEventSource": s.metadata.is_cloud_event_source,
                        },
                    })
                })
                .collect();
            Ok(ApiOk::list(
                json!({"sources": sources, "pagination": pagination}),
            ))
        }
        Route::ListWarehouses => {
            if !ctx.features.warehouses {
                return Err(feature_off("Warehouses"));
            }
            let req = q.pagination()?;
            let (items, pagination) = page(&ctx.ws.warehouses, req, true, LastPage::Null);
            let ws_id = &ctx.ws.id;
            let warehouses: Vec<Value> = items
                .iter()
                .map(|w| {
                    json!({
                        "id": w.id, "workspaceId": ws_id, "enabled": w.enabled, "settings": w.settings,
                        "metadata": {
                            "id": w.metadata.id, "name": w.metadata.name, "slug": w.metadata.slug,
                            "description": w.metadata.description,
                            "logos": logos_json(&w.metadata.logos), "options": [],
                        },
                    })
                })
                .collect();
            Ok(ApiOk::list(
                json!({"warehouses": warehouses, "pagination": pagination}),
            ))
        }
        Route::ListFunctions => {
            if !ctx.features.functions {
                return Err(feature_off("Functions"));
            }
            let kind = match q.get_any(&["resourceType"]) {
                None => return Err(ApiError::validation("\"resourceType\" is required", "resourceType")),
                Some(k) => FunctionKind::parse(k).ok_or_else(|| {
                    ApiError::validation(
                        "\"resourceType\" must be one of DESTINATION, INSERT_DESTINATION, INSERT_SOURCE, INSERT_TRANSFORMATION, SOURCE",
                        "resourceType",
                    )
                })?,
            };
            let req = q.pagination()?;
            let functions: Vec<Value> = ctx
                .ws
                .functions
                .iter()
                .filter(|f| f.resource_type == kind)
                .map(|f| {
                    let mut o = Map::new();
                    o.insert("id".into(), json!(f.id));
                    o.insert("displayName".into(), json!(f.display_name));
                    o.insert("description".into(), json!(f.description));
                    if let Some(url) = &f.logo_url {
                        o.insert("logoUrl".into(), json!(url));
                    }
                    o.insert("createdAt".into(), json!(f.created_at));
                    o.insert("createdBy".into(), json!(f.created_by));
                    o.insert("catalogId".into(), json!(f.catalog_id));
                    o.insert("resourceType".into(), json!(f.resource_type.as_str()));
                    Value::Object(o)
                })
                .collect();
            let (items, pagination) = page(&functions, req, false, LastPage::Omit);
            Ok(ApiOk::list(
                json!({"functions": items, "pagination": pagination}),
            ))
        }
        Route::ListSpaces => {
            if !ctx.features.spaces {
                return Err(feature_off("Spaces"));
            }
            let req = q.pagination()?;
            let (items, pagination) = page(&ctx.ws.spaces, req, true, LastPage::Omit);
            let spaces: Vec<Value> = items
                .iter()
                .map(|s| json!({"id": s.id, "slug": s.slug, "name": s.name}))
                .collect();
            let mut ok = ApiOk::list(json!({"spaces": spaces, "pagination": pagination}));
            ok.alpha = true;
            Ok(ok)
        }
        Route::ListLabels => {
            let labels: Vec<Value> = ctx.ws.labels.iter().map(label_json).collect();
            Ok(ApiOk::ok(json!({"labels": labels})))
        }
    }
}

fn success() -> ApiOk {
    ApiOk::ok(json!({"status": "SUCCESS"}))
}

fn feature_off(feature: &str) -> ApiError {
    ApiError::new(
        403,
        "forbidden",
        &format!("The {feature} feature is not enabled for this workspace."),
    )
}

fn minimal_user(id: &str, name: &str, email: &str) -> Value {
    json!({"id": id, "name": name, "email": email})
}

fn label_json(l: &Label) -> Value {
    let mut o = Map::new();
    o.insert("key".into(), json!(l.key));
    o.insert("value".into(), json!(l.value));
    if let Some(d) = &l.description {
        o.insert("description".into(), json!(d));
    }
    Value::Object(o)
}

fn logos_json(l: &crate::model::Logos) -> Value {
    json!({"default": l.default, "mark": l.mark, "alt": l.alt})
}

fn resource_json(r: &PermissionResource) -> Value {
    json!({
        "id": r.id,
        "type": r.kind.as_str(),
        "labels": r.labels.iter().map(label_json).collect::<Vec<_>>(),
    })
}

/// `PermissionV1` with `roleName` filled from the roles list.
fn permission_json(ws: &Workspace, p: &Permission) -> Value {
    let mut o = Map::new();
    o.insert("roleId".into(), json!(p.role_id));
    o.insert(
        "roleName".into(),
        json!(ws.role_name(&p.role_id).unwrap_or("")),
    );
    o.insert(
        "resources".into(),
        Value::Array(p.resources.iter().map(resource_json).collect()),
    );
    if !p.labels.is_empty() {
        o.insert(
            "labels".into(),
            Value::Array(p.labels.iter().map(label_json).collect()),
        );
    }
    Value::Object(o)
}

/// `AccessPermissionV1`; with a subject, also the undocumented `policyId`/`subjectId`/`subjectType`.
fn access_permission_json(ws: &Workspace, p: &Permission, subject: Option<(&str, &str)>) -> Value {
    let mut v = permission_json(ws, p);
    if let (Some((subject_id, subject_type)), Value::Object(o)) = (subject, &mut v) {
        o.insert("policyId".into(), json!(policy_id(subject_id, p)));
        o.insert("subjectId".into(), json!(subject_id));
        o.insert("subjectType".into(), json!(subject_type));
    }
    v
}

fn policy_id(subject_id: &str, p: &Permission) -> String {
    let key = permission_key(p);
    let mut parts = vec!["policy", subject_id, p.role_id.as_str()];
    let flat: Vec<String> = key
        .1
        .iter()
        .map(|(t, id, labels)| format!("{t}:{id}:{labels:?}"))
        .collect();
    parts.extend(flat.iter().map(String::as_str));
    ksuid_from_hash(hash_strs(parts))
}

type PermKey = (
    String,
    Vec<(String, String, Vec<(String, String)>)>,
    Vec<(String, String)>,
);

/// Identity of a permission: role, resources (order-insensitive) and labels, ignoring descriptions.
fn permission_key(p: &Permission) -> PermKey {
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

fn group_json(ws: &Workspace, g: &Group, with_permissions: bool) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(g.id));
    o.insert("name".into(), json!(g.name));
    o.insert("memberCount".into(), json!(g.members.len()));
    if with_permissions {
        o.insert(
            "permissions".into(),
            Value::Array(
                g.permissions
                    .iter()
                    .map(|p| permission_json(ws, p))
                    .collect(),
            ),
        );
    }
    Value::Object(o)
}

fn find_group(ws: &Workspace, id: &str) -> Result<usize, ApiError> {
    ws.groups
        .iter()
        .position(|g| g.id == id)
        .ok_or_else(ApiError::not_found)
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("The request body is not valid JSON."))
}

fn required_name(body: &[u8]) -> Result<String, ApiError> {
    let v = parse_body(body)?;
    match v.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(ApiError::validation("\"name\" must not be empty", "name")),
        Some(_) => Err(ApiError::validation("\"name\" must be a string", "name")),
        None => Err(ApiError::validation("\"name\" is required", "name")),
    }
}

fn required_query_array(q: &Query, name: &str) -> Result<Vec<String>, ApiError> {
    match q.array(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::validation(
            &format!("\"{name}\" is required"),
            name,
        )),
    }
}

fn required_body_strings(v: &Value, name: &str) -> Result<Vec<String>, ApiError> {
    let arr = match v.get(name) {
        None | Some(Value::Null) => {
            return Err(ApiError::validation(
                &format!("\"{name}\" is required"),
                name,
            ));
        }
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(ApiError::validation(
                &format!("\"{name}\" must be an array"),
                name,
            ));
        }
    };
    arr.iter()
        .enumerate()
        .map(|(i, e)| {
            e.as_str()
                .map(str::to_owned)
                .ok_or_else(|| ApiError::validation("must be a string", &format!("{name}.{i}")))
        })
        .collect()
}

fn delete_users(ctx: &mut Ctx<'_>, q: &Query) -> ApiResult {
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

/// Parses `{"permissions":[PermissionInputV1...]}` and checks roles, resource types and ids, labels.
fn parse_permission_inputs(
    ws: &Workspace,
    body: &[u8],
    accept_unknown: bool,
) -> Result<Vec<Permission>, ApiError> {
    let v = parse_body(body)?;
    let arr = match v.get("permissions") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => {
            return Err(ApiError::validation(
                "\"permissions\" is required",
                "permissions",
            ));
        }
        Some(_) => {
            return Err(ApiError::validation(
                "\"permissions\" must be an array",
                "permissions",
            ));
        }
    };
    arr.iter()
        .enumerate()
        .map(|(i, p)| {
            let field = format!("permissions.{i}");
            parse_permission(ws, p, &field, true, accept_unknown)
        })
        .collect()
}

/// Parses one `PermissionInputV1`. With `accept_unknown`, a resource of a type the mock does not
/// know is kept verbatim ([`ResourceType::Other`]) and, since the mock has no listing to check it
/// against, any non-empty id is accepted (a mock choice); without it, such a type is 422.
fn parse_permission(
    ws: &Workspace,
    p: &Value,
    field: &str,
    resources_required: bool,
    accept_unknown: bool,
) -> Result<Permission, ApiError> {
    let role_id = p.get("roleId").and_then(Value::as_str).ok_or_else(|| {
        ApiError::validation("\"roleId\" is required", &format!("{field}.roleId"))
    })?;
    if ws.role_name(role_id).is_none() {
        return Err(ApiError::validation(
            &format!("Role {role_id:?} does not exist"),
            &format!("{field}.roleId"),
        ));
    }
    let resources = match p.get("resources") {
        Some(Value::Array(a)) if !a.is_empty() => a.as_slice(),
        Some(Value::Array(_)) | None | Some(Value::Null) if !resources_required => &[],
        Some(Value::Array(_)) => {
            return Err(ApiError::validation(
                "\"resources\" must contain at least one resource",
                &format!("{field}.resources"),
            ));
        }
        _ => {
            return Err(ApiError::validation(
                "\"resources\" is required",
                &format!("{field}.resources"),
            ));
        }
    };
    let mut out = Vec::with_capacity(resources.len());
    for (j, r) in resources.iter().enumerate() {
        let rf = format!("{field}.resources.{j}");
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::validation("\"id\" is required", &format!("{rf}.id")))?;
        let kind = match r.get("type").and_then(Value::as_str) {
            Some(name) if accept_unknown => {
                let kind = ResourceType::from(name);
                kind.check_unknown_name()
                    .map_err(|msg| ApiError::validation(&msg, &format!("{rf}.type")))?;
                kind
            }
            name => name.and_then(ResourceType::parse).ok_or_else(|| {
                ApiError::validation(
                    "\"type\" must be one of FUNCTION, SOURCE, SPACE, WAREHOUSE, WORKSPACE",
                    &format!("{rf}.type"),
                )
            })?,
        };
        let exists = match &kind {
            ResourceType::Workspace => ws.id == id,
            ResourceType::Source => ws.sources.iter().any(|s| s.id == id),
            ResourceType::Warehouse => ws.warehouses.iter().any(|w| w.id == id),
            ResourceType::Function => ws.functions.iter().any(|f| f.id == id),
            ResourceType::Space => ws.spaces.iter().any(|s| s.id == id),
            // Mock choice: nothing to check an unknown type's id against.
            ResourceType::Other(_) => !id.is_empty(),
        };
        if !exists {
            let msg = if kind.is_known() {
                format!("{kind} {id:?} does not exist in this workspace")
            } else {
                format!("a {kind} resource needs a non-empty \"id\"")
            };
            return Err(ApiError::validation(&msg, &format!("{rf}.id")));
        }
        let labels = parse_labels(ws, r.get("labels"), &format!("{rf}.labels"))?;
        if !labels.is_empty() && kind != ResourceType::Workspace {
            return Err(ApiError::validation(
                "Labels are exclusive to Workspace-level permissions",
                &format!("{rf}.labels"),
            ));
        }
        out.push(PermissionResource {
            id: id.to_owned(),
            kind,
            labels,
        });
    }
    let labels = parse_labels(ws, p.get("labels"), &format!("{field}.labels"))?;
    Ok(Permission {
        role_id: role_id.to_owned(),
        resources: out,
        labels,
    })
}

fn parse_labels(ws: &Workspace, v: Option<&Value>, field: &str) -> Result<Vec<Label>, ApiError> {
    let arr = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::validation("\"labels\" must be an array", field)),
    };
    arr.iter()
        .enumerate()
        .map(|(i, l)| {
            let key = l.get("key").and_then(Value::as_str);
            let value = l.get("value").and_then(Value::as_str);
            let (Some(key), Some(value)) = (key, value) else {
                return Err(ApiError::validation(
                    "a label needs \"key\" and \"value\"",
                    &format!("{field}.{i}"),
                ));
            };
            let known = ws
                .labels
                .iter()
                .find(|x| x.key == key && x.value == value)
                .ok_or_else(|| {
                    ApiError::validation(
                        &format!("Label {key}:{value} does not exist"),
                        &format!("{field}.{i}"),
                    )
                })?;
            Ok(Label {
                key: key.to_owned(),
                value: value.to_owned(),
                description: l
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| known.description.clone()),
            })
        })
        .collect()
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

fn user_permissions(ctx: &mut Ctx<'_>, id: &str, body: &[u8], add: bool) -> ApiResult {
    let u = ctx
        .ws
        .users
        .iter()
        .position(|u| u.id == id)
        .ok_or_else(ApiError::not_found)?;
    set_permissions(ctx, body, add, (id, "user"), |ws| {
        &mut ws.users[u].permissions
    })
}

fn group_permissions(ctx: &mut Ctx<'_>, id: &str, body: &[u8], add: bool) -> ApiResult {
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

/// `POST /groups/{id}/users` (add) and `PUT /group/{id}/users` (replace).
///
/// Emails of workspace users become members; emails of pending workspace invites become group
/// invitees; any other email fails the whole call with 404 (nothing changes).
fn group_members(ctx: &mut Ctx<'_>, id: &str, body: &[u8], replace: bool) -> ApiResult {
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

fn create_invites(ctx: &mut Ctx<'_>, body: &[u8]) -> ApiResult {
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
fn first_by_email<'a, V>(entries: impl Iterator<Item = (&'a str, V)>) -> HashMap<String, V> {
    let mut map = HashMap::new();
    for (email, value) in entries {
        map.entry(email.to_ascii_lowercase()).or_insert(value);
    }
    map
}

/// Appends the emails not yet in `list` (ignoring ASCII case), in order.
fn push_new_emails(list: &mut Vec<String>, new: Vec<String>) {
    let mut present: HashSet<String> = list.iter().map(|e| e.to_ascii_lowercase()).collect();
    for email in new {
        if present.insert(email.to_ascii_lowercase()) {
            list.push(email);
        }
    }
}

fn looks_like_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !e.contains(char::is_whitespace)
        }
        None => false,
    }
}
