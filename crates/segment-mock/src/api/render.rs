//! JSON rendering of workspace objects in Segment's response shapes.

use serde_json::{Map, Value, json};

use super::permissions::permission_key;
use crate::ids::{hash_strs, ksuid_from_hash};
use crate::model::{Group, Label, Logos, Permission, PermissionResource, Workspace};

pub(super) fn minimal_user(id: &str, name: &str, email: &str) -> Value {
    json!({"id": id, "name": name, "email": email})
}

pub(super) fn label_json(l: &Label) -> Value {
    let mut o = Map::new();
    o.insert("key".into(), json!(l.key));
    o.insert("value".into(), json!(l.value));
    if let Some(d) = &l.description {
        o.insert("description".into(), json!(d));
    }
    Value::Object(o)
}

pub(super) fn logos_json(l: &Logos) -> Value {
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
pub(super) fn permission_json(ws: &Workspace, p: &Permission) -> Value {
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
pub(super) fn access_permission_json(
    ws: &Workspace,
    p: &Permission,
    subject: Option<(&str, &str)>,
) -> Value {
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

pub(super) fn group_json(ws: &Workspace, g: &Group, with_permissions: bool) -> Value {
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
