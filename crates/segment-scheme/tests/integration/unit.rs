//! Example-based tests of the identifier scheme: slugs, ids, permission keys, role resolution,
//! scope name rules.

use segment_api::{Label, Permission, PermissionResource, ResourceKind, Role};
use segment_scheme::*;

#[test]
fn slugs_match_the_incumbent_for_ascii() {
    assert_eq!(role_slug("Source Admin", "x"), "source_admin");
    assert_eq!(role_slug("Workspace Owner", "x"), "workspace_owner");
    assert_eq!(role_slug("Read-only (Engage)", "x"), "read_only_engage");
    assert_eq!(role_slug("Source Read-only", "x"), "source_read_only");
    assert_eq!(role_slug("Ünïcode Rôle", "x"), "ünïcode_rôle");
    assert_eq!(role_slug("()!", "r1"), "role-r1");
    assert_eq!(role_slug("", "r1"), "role-r1");
    assert_eq!(role_slug("a:b@c", "r1"), "abc");
}

#[test]
fn ids_round_trip() {
    for s in [
        "workspace:w1:member",
        "group:g1:member",
        "role:r1:member",
        "role:r1:member@environment=prod",
        "role:r1:member@a=1,a=2,b%3Dx=%40%2C%3A%25",
        "source:s1:source_admin",
        "space:sp:engage_admin@team=data",
        "function:f:role-r9",
    ] {
        let e: SegmentEntitlement = s.parse().unwrap();
        assert_eq!(e.to_string(), s);
        assert_eq!(e.entitlement_id().unwrap().to_string(), s);
    }
    for bad in [
        "workspace:w1:admin",
        "group:g1:member@a=b",
        "role:r1:admin",
        "role:r1:member@",
        "role:r1:member@b=1,a=1",
        "role:r1:member@a=1,a=1",
        "role:r1:member@a=%41",
        "role:r1:member@a=%3d",
        "role:r1:member@a",
        "source:s1:@a=b",
        "destination:d:admin",
        "user:u:member",
    ] {
        assert!(bad.parse::<SegmentEntitlement>().is_err(), "{bad}");
    }
}

#[test]
fn permission_keys() {
    let perm = Permission {
        role_id: "r".into(),
        role_name: "Source Admin".into(),
        resources: vec![PermissionResource {
            id: "ws".into(),
            kind: ResourceKind::Workspace,
            labels: vec![Label {
                key: "environment".into(),
                value: "prod".into(),
                description: Some("d".into()),
            }],
        }],
        labels: vec![],
    };
    let ent: SegmentEntitlement = "role:r:member@environment=prod".parse().unwrap();
    assert!(permission_matches(
        &perm.resources[0],
        &perm,
        &ent,
        "",
        "ws"
    ));
    let plain: SegmentEntitlement = "role:r:member".parse().unwrap();
    assert!(!permission_matches(
        &perm.resources[0],
        &perm,
        &plain,
        "",
        "ws"
    ));
    assert!(!permission_matches(
        &perm.resources[0],
        &perm,
        &ent,
        "",
        "other"
    ));
}

#[test]
fn slug_resolution_fails_closed() {
    let roles = vec![
        Role {
            id: "1".into(),
            name: "Source Admin".into(),
            description: String::new(),
        },
        Role {
            id: "2".into(),
            name: "Source-Admin".into(),
            description: String::new(),
        },
        Role {
            id: "3".into(),
            name: "Engage User".into(),
            description: String::new(),
        },
    ];
    assert_eq!(resolve_role_slug(&roles, "engage_user").unwrap().id, "3");
    assert!(matches!(
        resolve_role_slug(&roles, "source_admin"),
        Err(SchemeError::AmbiguousRoleSlug { .. })
    ));
    assert!(matches!(
        resolve_role_slug(&roles, "nope"),
        Err(SchemeError::UnknownRoleSlug { .. })
    ));
}

#[test]
fn scope_name_rules() {
    assert!(ScopeType::Source.role_name_applies("Source Admin"));
    assert!(ScopeType::Space.role_name_applies("Unify Read-only"));
    assert!(ScopeType::Space.role_name_applies("PERSONAS Admin"));
    assert!(!ScopeType::Warehouse.role_name_applies("Workspace Owner"));
    // Word starts only: "Workspace" is not a space role, "Resource" is not a source role.
    assert!(!ScopeType::Space.role_name_applies("Workspace Owner"));
    assert!(!ScopeType::Space.role_name_applies("Minimal Workspace Access"));
    assert!(!ScopeType::Source.role_name_applies("Resource Manager"));
    assert!(ScopeType::Space.role_name_applies("Spaces Admin"));
    assert!(ScopeType::Source.role_name_applies("Sources (Read-only)"));
}
