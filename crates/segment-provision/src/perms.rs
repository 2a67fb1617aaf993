//! Pure edits of a principal's permission list: does it hold an entry, add one, remove exactly
//! one entry (keeping everything else as read: other resources, labels with their
//! descriptions, unknown resource types, order), replay a sequence of changes, compare states.

use std::collections::HashMap;

use segment_api::{Label, Permission, PermissionInput, ResourceKind};
use segment_scheme::{LabelSet, PermissionKey};

/// One requested change of a permission list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PermChange {
    /// Grant: add `input` unless `key` is already held.
    Add {
        key: PermissionKey,
        input: PermissionInput,
    },
    /// Revoke: remove every occurrence of the entry `key`.
    Remove { key: PermissionKey },
}

impl PermChange {
    #[cfg(test)]
    pub(crate) fn key(&self) -> &PermissionKey {
        match self {
            Self::Add { key, .. } | Self::Remove { key } => key,
        }
    }
}

/// Whether some resource of some permission is the entry `key`.
pub(crate) fn holds(perms: &[Permission], key: &PermissionKey) -> bool {
    perms
        .iter()
        .any(|p| PermissionKey::all_of(p).any(|k| &k == key))
}

fn resource_is(
    role_id: &str,
    perm_labels: &[Label],
    kind: &ResourceKind,
    id: &str,
    labels: &[Label],
    key: &PermissionKey,
) -> bool {
    role_id == key.role_id
        && *kind == key.kind
        && id == key.resource_id
        && LabelSet::from_labels(labels.iter().chain(perm_labels)) == key.labels
}

/// Removes the entry `key` wherever it occurs: the matching resource leaves its permission
/// (whose other resources stay); a permission left without resources is dropped. Everything
/// else is untouched. Returns whether anything was removed.
pub(crate) fn remove_entry(perms: &mut Vec<Permission>, key: &PermissionKey) -> bool {
    let mut removed = false;
    perms.retain_mut(|p| {
        let before = p.resources.len();
        let (role_id, perm_labels) = (&p.role_id, &p.labels);
        p.resources
            .retain(|r| !resource_is(role_id, perm_labels, &r.kind, &r.id, &r.labels, key));
        if p.resources.len() == before {
            return true;
        }
        removed = true;
        !p.resources.is_empty()
    });
    removed
}

/// Appends the permission of `input` (as a new permission entry).
pub(crate) fn add_entry(perms: &mut Vec<Permission>, input: &PermissionInput) {
    perms.push(Permission {
        role_id: input.role_id.clone(),
        role_name: String::new(),
        resources: input.resources.clone(),
        labels: input.labels.clone(),
    });
}

/// Applies one change; returns whether it changed the list.
pub(crate) fn apply(perms: &mut Vec<Permission>, change: &PermChange) -> bool {
    match change {
        PermChange::Add { key, input } => {
            if holds(perms, key) {
                false
            } else {
                add_entry(perms, input);
                true
            }
        }
        PermChange::Remove { key } => remove_entry(perms, key),
    }
}

/// The list after applying `changes` in order to `state`.
pub(crate) fn replay<'a>(
    state: &[Permission],
    changes: impl IntoIterator<Item = &'a PermChange>,
) -> Vec<Permission> {
    let mut perms = state.to_vec();
    for change in changes {
        apply(&mut perms, change);
    }
    perms
}

type NormLabels = Vec<(String, String)>;
type NormResource = (String, String, NormLabels);

/// A permission reduced to what identifies it: role, resources (order-insensitive) and
/// labels, ignoring role names and label descriptions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NormPermission {
    role_id: String,
    resources: Vec<NormResource>,
    labels: NormLabels,
}

fn norm_labels(labels: &[Label]) -> NormLabels {
    let mut v: NormLabels = labels
        .iter()
        .map(|l| (l.key.clone(), l.value.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

pub(crate) fn normalize(p: &Permission) -> NormPermission {
    let mut resources: Vec<NormResource> = p
        .resources
        .iter()
        .map(|r| {
            (
                r.kind.as_str().to_owned(),
                r.id.clone(),
                norm_labels(&r.labels),
            )
        })
        .collect();
    resources.sort();
    NormPermission {
        role_id: p.role_id.clone(),
        resources,
        labels: norm_labels(&p.labels),
    }
}

/// Whether two lists hold the same permissions (as multisets, ignoring order, role names and
/// label descriptions).
pub(crate) fn same_state(a: &[Permission], b: &[Permission]) -> bool {
    let mut a: Vec<NormPermission> = a.iter().map(normalize).collect();
    let mut b: Vec<NormPermission> = b.iter().map(normalize).collect();
    a.sort();
    b.sort();
    a == b
}

/// When `desired` is `current` plus some permissions (every permission of `current` is still
/// there, unchanged), those extra permissions; `None` when something of `current` is gone or
/// changed (then the whole list must be replaced).
pub(crate) fn additions_only(
    current: &[Permission],
    desired: &[Permission],
) -> Option<Vec<PermissionInput>> {
    let mut remaining: HashMap<NormPermission, usize> = HashMap::new();
    for p in current {
        *remaining.entry(normalize(p)).or_default() += 1;
    }
    let mut extra = Vec::new();
    for p in desired {
        match remaining.get_mut(&normalize(p)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => extra.push(p.to_input()),
        }
    }
    remaining.values().all(|n| *n == 0).then_some(extra)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use segment_api::PermissionResource;
    use serde_json::json;

    fn perms(v: serde_json::Value) -> Vec<Permission> {
        serde_json::from_value(v).unwrap()
    }

    fn key(role: &str, kind: &str, id: &str, labels: &[(&str, &str)]) -> PermissionKey {
        PermissionKey {
            role_id: role.into(),
            kind: ResourceKind::from(kind),
            resource_id: id.into(),
            labels: LabelSet::from_pairs(labels.iter().copied()),
        }
    }

    fn body(perms: &[Permission]) -> serde_json::Value {
        let inputs: Vec<PermissionInput> = perms.iter().map(Permission::to_input).collect();
        serde_json::to_value(inputs).unwrap()
    }

    /// The PUT body of a revoke is the read list minus exactly one entry, with labels (and
    /// their descriptions), permission-level labels and unknown resource types intact.
    #[test]
    fn remove_keeps_everything_else_exactly() {
        let read = perms(json!([
            {"roleId": "owner", "roleName": "Workspace Owner",
             "resources": [{"id": "ws", "type": "WORKSPACE", "labels": []}]},
            {"roleId": "src-admin", "roleName": "Source Admin", "resources": [
                {"id": "s1", "type": "SOURCE", "labels": []},
                {"id": "s2", "type": "SOURCE", "labels": []},
                {"id": "aud-1", "type": "AUDIENCE", "labels": [{"key": "k", "value": "v", "description": "d"}]}]},
            {"roleId": "ro", "roleName": "Read-only",
             "resources": [{"id": "ws", "type": "WORKSPACE",
                            "labels": [{"key": "environment", "value": "prod", "description": "Production"}]}],
             "labels": [{"key": "team", "value": "a"}]},
            {"roleId": "future", "roleName": "Future", "resources": [{"id": "t1", "type": "TRACKING_PLAN"}]}
        ]));
        let mut edited = read.clone();
        assert!(remove_entry(
            &mut edited,
            &key("src-admin", "SOURCE", "s1", &[])
        ));
        assert_eq!(
            body(&edited),
            json!([
                {"roleId": "owner", "resources": [{"id": "ws", "type": "WORKSPACE"}]},
                {"roleId": "src-admin", "resources": [
                    {"id": "s2", "type": "SOURCE"},
                    {"id": "aud-1", "type": "AUDIENCE", "labels": [{"key": "k", "value": "v", "description": "d"}]}]},
                {"roleId": "ro", "resources": [{"id": "ws", "type": "WORKSPACE",
                    "labels": [{"key": "environment", "value": "prod", "description": "Production"}]}],
                 "labels": [{"key": "team", "value": "a"}]},
                {"roleId": "future", "resources": [{"id": "t1", "type": "TRACKING_PLAN"}]}
            ])
        );

        // The label set of an entry is resource labels ∪ permission labels: the unlabelled
        // key does not match the labelled entry, the full set does.
        let mut edited = read.clone();
        assert!(!remove_entry(
            &mut edited,
            &key("ro", "WORKSPACE", "ws", &[])
        ));
        assert!(!remove_entry(
            &mut edited,
            &key("ro", "WORKSPACE", "ws", &[("environment", "prod")])
        ));
        assert_eq!(edited, read);
        assert!(remove_entry(
            &mut edited,
            &key(
                "ro",
                "WORKSPACE",
                "ws",
                &[("environment", "prod"), ("team", "a")]
            )
        ));
        assert_eq!(
            edited.len(),
            3,
            "a permission left without resources is dropped"
        );
        assert_eq!(
            body(&edited[..3]),
            body(&[read[0].clone(), read[1].clone(), read[3].clone()])
        );

        // Unknown resource types can be revoked too.
        let mut edited = read.clone();
        assert!(remove_entry(
            &mut edited,
            &key("future", "TRACKING_PLAN", "t1", &[])
        ));
        assert_eq!(edited.len(), 3);
    }

    #[test]
    fn replay_and_additions() {
        let read =
            perms(json!([{"roleId": "a", "resources": [{"id": "ws", "type": "WORKSPACE"}]}]));
        let add_b = PermChange::Add {
            key: key("b", "SOURCE", "s1", &[]),
            input: PermissionInput::new(
                "b",
                vec![PermissionResource::new("s1", ResourceKind::Source)],
            ),
        };
        let remove_a = PermChange::Remove {
            key: key("a", "WORKSPACE", "ws", &[]),
        };
        let desired = replay(&read, [&add_b]);
        assert_eq!(additions_only(&read, &desired).unwrap().len(), 1);
        let desired = replay(&read, [&add_b, &remove_a]);
        assert!(additions_only(&read, &desired).is_none());
        let desired = replay(
            &read,
            [
                &add_b,
                &PermChange::Remove {
                    key: add_b.key().clone(),
                },
            ],
        );
        assert!(same_state(&read, &desired));
        assert!(holds(&replay(&read, [&add_b, &add_b]), add_b.key()));
        assert_eq!(replay(&read, [&add_b, &add_b]).len(), 2);
    }
}
