//! Request parsing: JSON bodies, required fields and query arrays, permission inputs and labels,
//! with Segment's validation errors.

use serde_json::{Map, Value};

use crate::model::{Label, Permission, PermissionResource, ResourceType, Workspace};
use crate::query::Query;
use crate::reply::ApiError;

pub(super) fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("The request body is not valid JSON."))
}

pub(super) fn required_name(body: &[u8]) -> Result<String, ApiError> {
    let v = parse_body(body)?;
    match v.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(ApiError::validation("\"name\" must not be empty", "name")),
        Some(_) => Err(ApiError::validation("\"name\" must be a string", "name")),
        None => Err(ApiError::validation("\"name\" is required", "name")),
    }
}

pub(super) fn required_query_array(q: &Query, name: &str) -> Result<Vec<String>, ApiError> {
    match q.array(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::validation(
            &format!("\"{name}\" is required"),
            name,
        )),
    }
}

pub(super) fn required_body_strings(v: &Value, name: &str) -> Result<Vec<String>, ApiError> {
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

/// Parses `{"permissions":[PermissionInputV1...]}` and checks roles, resource types and ids, labels.
pub(super) fn parse_permission_inputs(
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
pub(super) fn parse_permission(
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

pub(super) fn looks_like_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !e.contains(char::is_whitespace)
        }
        None => false,
    }
}
