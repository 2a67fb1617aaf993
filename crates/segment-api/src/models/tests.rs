//! Unit tests of the payload models: forgiving decoding, unknown enum values kept verbatim,
//! secrets dropped while parsing.

#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

#[test]
fn unknown_enum_values_round_trip() {
    let resource: PermissionResource = serde_json::from_value(
        json!({"id": "x", "type": "AUDIENCE", "labels": [{"key": "k", "value": "v"}]}),
    )
    .unwrap();
    assert_eq!(resource.kind, ResourceKind::Other("AUDIENCE".into()));
    assert_eq!(
        serde_json::to_value(&resource).unwrap(),
        json!({"id": "x", "type": "AUDIENCE", "labels": [{"key": "k", "value": "v"}]})
    );
    assert_eq!(ResourceKind::from("SPACE"), ResourceKind::Space);
    assert_eq!(
        ResourceKind::from(String::from("WORKSPACE")),
        ResourceKind::Workspace
    );
    assert_eq!(
        FunctionKind::from("INSERT_SOURCE").as_str(),
        "INSERT_SOURCE"
    );
    assert_eq!(
        FunctionKind::Other("NEW_KIND".into()).to_string(),
        "NEW_KIND"
    );
}

#[test]
fn permission_to_input_keeps_everything_writable() {
    let p: Permission = serde_json::from_value(json!({
        "policyId": "pol", "roleId": "r1", "roleName": "Source Admin", "subjectType": "user",
        "resources": [{"id": "w", "type": "WORKSPACE", "labels": [{"key": "environment", "value": "prod", "description": "d"}]},
                      {"id": "z", "type": "FUTURE_THING", "labels": []}],
        "labels": [{"key": "team", "value": "a"}]
    }))
    .unwrap();
    assert_eq!(
        serde_json::to_value(p.to_input()).unwrap(),
        json!({"roleId": "r1", "resources": [
            {"id": "w", "type": "WORKSPACE", "labels": [{"key": "environment", "value": "prod", "description": "d"}]},
            {"id": "z", "type": "FUTURE_THING"}],
            "labels": [{"key": "team", "value": "a"}]})
    );
    let plain = PermissionInput::new(
        "r",
        vec![PermissionResource::new("w", ResourceKind::Workspace)],
    );
    assert_eq!(
        serde_json::to_value(plain).unwrap(),
        json!({"roleId": "r", "resources": [{"id": "w", "type": "WORKSPACE"}]})
    );
}

#[test]
fn sources_and_warehouses_drop_secrets() {
    let s: Source = serde_json::from_value(json!({
        "id": "s", "slug": "swift", "name": "", "workspaceId": "w", "enabled": true,
        "writeKeys": ["SECRET"], "settings": {"token": "SECRET"}, "labels": [],
        "metadata": {"id": "m", "name": "Apple", "slug": "ios"}
    }))
    .unwrap();
    assert_eq!(s.metadata_name.as_deref(), Some("Apple"));
    assert!(!format!("{s:?}").contains("SECRET"));
    let w: Warehouse = serde_json::from_value(json!({
        "id": "h", "workspaceId": "w", "enabled": false,
        "settings": {"password": "SECRET", "name": "Analytics", "nested": {"a": [1, 2]}},
        "metadata": {"id": "55d3d3aea3c", "slug": "postgres", "name": "Postgres", "logos": {}}
    }))
    .unwrap();
    assert_eq!(w.display_name.as_deref(), Some("Analytics"));
    assert_eq!(
        w.metadata.as_ref().map(|m| m.slug.as_str()),
        Some("postgres")
    );
    assert!(!format!("{w:?}").contains("SECRET"));
    for settings in [
        json!({}),
        json!(null),
        json!({"name": 5}),
        json!({"name": {"x": "SECRET"}}),
    ] {
        let w: Warehouse = serde_json::from_value(
            json!({"id": "h", "workspaceId": "w", "enabled": true, "settings": settings}),
        )
        .unwrap();
        assert_eq!(w.display_name, None);
    }
}

#[test]
fn nulls_and_absences_are_tolerated() {
    let u: User =
        serde_json::from_value(json!({"id": "u", "name": null, "email": "e", "permissions": null}))
            .unwrap();
    assert_eq!(u.name, "");
    assert!(u.permissions.is_empty());
    let f: Function = serde_json::from_value(json!({})).unwrap();
    assert_eq!(f.id, "");
    assert_eq!(f.resource_type, None);
    let g: UserGroup = serde_json::from_value(json!({"id": "g", "name": "n"})).unwrap();
    assert_eq!(g.member_count, None);
}
