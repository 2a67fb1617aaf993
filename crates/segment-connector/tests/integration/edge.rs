//! Edge cases of the mapping inside a real sync: unknown permission scopes, roles missing
//! from the role list, scoped resources missing from their listing, label-scoped
//! permissions, punctuation and non-ASCII names.

use std::collections::HashMap;

use segment_connector::{SyncOptions, sync};
use segment_mock::{MockConfig, Workspace};
use serde_json::json;

use crate::support::{
    Contents, canned_server, canned_server_with_status, list_body, object_body, session_for, start,
    sync_mock,
};

#[tokio::test]
async fn unknown_scopes_unknown_roles_and_missing_resources() {
    let perms_u1 = json!([
        {"roleId": "r1", "roleName": "Workspace Owner", "resources": [{"id": "ws1", "type": "WORKSPACE"}]},
        {"roleId": "r2", "roleName": "Source Admin", "resources": [
            {"id": "src1", "type": "SOURCE"}, {"id": "gone", "type": "SOURCE"}]},
        {"roleId": "r9", "roleName": "Ghost Role", "resources": [{"id": "ws1", "type": "WORKSPACE"}]},
        {"roleId": "r1", "roleName": "Workspace Owner", "resources": [{"id": "d1", "type": "DESTINATION"}]},
        {"roleId": "r1", "roleName": "Workspace Owner", "resources": [{"id": "tp1", "type": "TRACKING_PLAN"}]},
        {"roleId": "r2", "roleName": "Source Admin", "resources": [
            {"id": "ws1", "type": "WORKSPACE", "labels": [{"key": "environment", "value": "prod", "description": "Prod"}]}]},
        {"roleId": "r4", "roleName": "Administrateur des Sources Ü", "resources": [{"id": "src1", "type": "SOURCE"}]},
        {"roleId": "r3", "roleName": "Read-only (Engage)", "resources": [{"id": "src1", "type": "SOURCE"}]},
        {"roleId": "r2", "roleName": "Source Admin", "resources": [{"id": "src1", "type": "SOURCE"}],
         "labels": [{"key": "région", "value": "été"}]}
    ]);
    let perms_u2 = json!([
        {"roleId": "r8", "roleName": "Phantom Role", "resources": [{"id": "src1", "type": "SOURCE"}]},
        {"roleId": "r1", "roleName": "Workspace Owner", "resources": [{"id": "d2", "type": "DESTINATION"}]}
    ]);
    let mut routes = HashMap::new();
    routes.insert(
        "/".to_owned(),
        object_body(
            "workspace",
            json!({"id": "ws1", "name": "Wörkspace Ünïcode", "slug": "w"}),
        ),
    );
    routes.insert(
        "/roles".to_owned(),
        list_body(
            "roles",
            json!([
                {"id": "r1", "name": "Workspace Owner", "description": "Owns"},
                {"id": "r2", "name": "Source Admin", "description": "Edits sources"},
                {"id": "r3", "name": "Read-only (Engage)", "description": "Reads"},
                {"id": "r4", "name": "Administrateur des Sources Ü", "description": "Gère"},
                {"id": "r5", "name": "Source-Admin", "description": "Same slug as r2"}
            ]),
        ),
    );
    routes.insert(
        "/users".to_owned(),
        list_body(
            "users",
            json!([
                {"id": "u1", "name": "Zoë Ünïcode", "email": "zoe@example.com"},
                {"id": "u2", "name": "", "email": "bob@example.com"}
            ]),
        ),
    );
    routes.insert(
        "/users/u1".to_owned(),
        object_body("user", json!({"id": "u1", "name": "Zoë Ünïcode", "email": "zoe@example.com", "permissions": perms_u1})),
    );
    routes.insert(
        "/users/u2".to_owned(),
        object_body(
            "user",
            json!({"id": "u2", "name": "", "email": "bob@example.com", "permissions": perms_u2}),
        ),
    );
    routes.insert(
        "/sources".to_owned(),
        list_body(
            "sources",
            json!([{"id": "src1", "slug": "web", "name": "Site Wéb", "workspaceId": "ws1", "enabled": true,
                    "writeKeys": ["SECRET-KEY"], "labels": []}]),
        ),
    );
    let base = canned_server(routes).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edge.c1z");
    let options = SyncOptions::default().with_resource_types(["user", "role", "source"]);
    let report = sync(&session_for(&base, "t"), &path, &options)
        .await
        .unwrap();

    assert_eq!(report.skipped_permissions, 3);
    assert_eq!(report.unknown_scope_types.get("DESTINATION"), Some(&2));
    assert_eq!(report.unknown_scope_types.get("TRACKING_PLAN"), Some(&1));
    assert_eq!(report.unresolved_scopes, 1);
    assert_eq!(report.synthesized_roles, 1);
    assert_eq!(report.requests, 6);
    assert_eq!(report.requests, report.min_requests);

    let c = Contents::read(&path);
    c.assert_integrity();
    let g = |id: &str| assert!(c.grants.contains_key(id), "missing grant {id}");
    let e = |id: &str| assert!(c.entitlements.contains_key(id), "missing entitlement {id}");
    g("role:r1:member:user:u1");
    g("source:src1:source_admin:user:u1");
    // The synthesised role exists with its member entitlement.
    assert_eq!(c.resources["role:r9"].display_name, "Ghost Role");
    g("role:r9:member:user:u1");
    // Label-scoped workspace permission: its own entitlement, never the unscoped one.
    e("role:r2:member@environment=prod");
    g("role:r2:member@environment=prod:user:u1");
    assert!(!c.grants.contains_key("role:r2:member:user:u1"));
    // A resource-scoped permission with labels gets the same suffix (non-ASCII escaped).
    e("source:src1:source_admin@r%C3%A9gion=%C3%A9t%C3%A9");
    g("source:src1:source_admin@r%C3%A9gion=%C3%A9t%C3%A9:user:u1");
    // Unicode alphanumerics are kept in slugs; punctuation dropped.
    e("source:src1:administrateur_des_sources_ü");
    g("source:src1:administrateur_des_sources_ü:user:u1");
    // A role seen scoped to sources gets entitlements there although its name says Engage.
    e("source:src1:read_only_engage");
    g("source:src1:read_only_engage:user:u1");
    // A role missing from the list but scoped to a source: entitlement from its name.
    e("source:src1:phantom_role");
    g("source:src1:phantom_role:user:u2");
    // r5 "Source-Admin" has the slug of r2: one entitlement, described by the first role.
    assert_eq!(
        c.entitlements["source:src1:source_admin"].description,
        "Source Admin - Edits sources"
    );
    assert_eq!(
        c.entitlements["source:src1:source_admin"].display_name,
        "Site Wéb Source Admin"
    );
    // No grant on unknown scope types, nothing secret in the file.
    assert!(
        c.grants
            .keys()
            .all(|k| !k.contains("d1") && !k.contains("tp1"))
    );
    for objects in c.encoded() {
        for bytes in objects.values() {
            assert!(!bytes.windows(10).any(|w| w == b"SECRET-KEY"));
        }
    }
    assert_eq!(
        c.resources["workspace:ws1"].display_name,
        "Wörkspace Ünïcode"
    );
    assert_eq!(c.resources["user:u1"].display_name, "Zoë Ünïcode");
}

/// The same unknown scope types, served by segment-mock (which keeps them verbatim) next to
/// known scopes on both a user and a group.
#[tokio::test]
async fn unknown_scope_types_through_the_mock() {
    let ws: Workspace = serde_json::from_value(json!({
        "id": "ws1", "name": "Acme", "slug": "acme",
        "roles": [
            {"id": "rO", "name": "Workspace Owner", "description": "Owns"},
            {"id": "rS", "name": "Source Admin", "description": "Edits sources"},
            {"id": "rW", "name": "Warehouse Admin", "description": "Edits warehouses"},
            {"id": "rD", "name": "Destination Admin", "description": "Edits destinations"}
        ],
        "users": [
            {"id": "u1", "name": "Ada Lovelace", "email": "ada@example.com", "permissions": [
                {"roleId": "rO", "resources": [{"id": "ws1", "type": "WORKSPACE"}]},
                {"roleId": "rD", "resources": [{"id": "dst123", "type": "DESTINATION"}]},
                {"roleId": "rS", "resources": [
                    {"id": "s1", "type": "SOURCE"}, {"id": "dst123", "type": "DESTINATION"}]}
            ]},
            {"id": "u2", "name": "Bob", "email": "bob@example.com", "permissions": []}
        ],
        "groups": [
            {"id": "g1", "name": "Ops", "members": ["bob@example.com"], "permissions": [
                {"roleId": "rD", "resources": [{"id": "tp9", "type": "TRACKING_PLAN"}]},
                {"roleId": "rW", "resources": [{"id": "w1", "type": "WAREHOUSE"}]}
            ]}
        ],
        "sources": [{"id": "s1", "slug": "web", "name": "Web"}],
        "warehouses": [{"id": "w1", "settings": {"name": "Lake"}}]
    }))
    .unwrap();
    ws.validate().unwrap();
    let server = start(MockConfig::new(ws)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unknown-scopes.c1z");
    let report = sync_mock(&server, &path, &SyncOptions::default()).await;

    assert_eq!(report.skipped_permissions, 3);
    assert_eq!(
        report.unknown_scope_types,
        [
            ("DESTINATION".to_owned(), 2),
            ("TRACKING_PLAN".to_owned(), 1)
        ]
        .into()
    );
    assert_eq!(report.unresolved_scopes, 0);
    assert_eq!(report.synthesized_roles, 0);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.requests, report.min_requests);

    let c = Contents::read(&path);
    c.assert_integrity();
    for id in [
        "workspace:ws1:member:user:u1",
        "workspace:ws1:member:user:u2",
        "role:rO:member:user:u1",
        "source:s1:source_admin:user:u1",
        "group:g1:member:user:u2",
        "warehouse:w1:warehouse_admin:group:g1",
    ] {
        assert!(c.grants.contains_key(id), "missing grant {id}");
    }
    let exp: baton_model::pb::GrantExpandable = baton_model::annotations::pick(
        &c.grants["warehouse:w1:warehouse_admin:group:g1"].annotations,
    )
    .unwrap()
    .unwrap();
    assert_eq!(exp.entitlement_ids, ["group:g1:member"]);
    // Nothing at all about the unknown-type resources, and no role-wide grant from them.
    let ids = c
        .resources
        .keys()
        .chain(c.entitlements.keys())
        .chain(c.grants.keys());
    for id in ids {
        assert!(!id.contains("dst123") && !id.contains("tp9"), "{id}");
    }
    assert!(!c.grants.contains_key("role:rD:member:user:u1"));
    assert!(!c.grants.contains_key("role:rD:member:group:g1"));
    assert_eq!(c.grants.len() as u64, report.grants);
}

#[tokio::test]
async fn unicode_names_through_the_mock() {
    let ws: Workspace = serde_json::from_value(json!({
        "id": "wsU", "name": "Société Générale des Données", "slug": "sgd",
        "roles": [
            {"id": "rA", "name": "Propriétaire de l'espace", "description": "Tout"},
            {"id": "rB", "name": "Source Admin", "description": "Sources"},
            {"id": "rC", "name": "エンゲージ Space 管理者", "description": "スペース"}
        ],
        "users": [
            {"id": "u1", "name": "Jürgen Groß", "email": "jurgen@example.de", "permissions": [
                {"roleId": "rA", "resources": [{"id": "wsU", "type": "WORKSPACE"}]},
                {"roleId": "rB", "resources": [{"id": "wsU", "type": "WORKSPACE",
                    "labels": [{"key": "équipe", "value": "données, analytiques"}]}]},
                {"roleId": "rC", "resources": [{"id": "spa_1", "type": "SPACE"}]}
            ]},
            {"id": "u2", "name": "李 小龍", "email": "li@example.cn", "permissions": []}
        ],
        "groups": [
            {"id": "g1", "name": "Équipe Données 📊", "members": ["li@example.cn"], "invites": ["Ana@Example.PT"],
             "permissions": [{"roleId": "rB", "resources": [{"id": "s1", "type": "SOURCE"}]}]}
        ],
        "invites": [{"email": "Ana@Example.PT"}],
        "sources": [{"id": "s1", "slug": "site", "name": "Site Wéb", "labels": [{"key": "équipe", "value": "données, analytiques"}]}],
        "spaces": [{"id": "spa_1", "slug": "prod", "name": "Producción"}],
        "labels": [{"key": "équipe", "value": "données, analytiques"}]
    }))
    .unwrap();
    let server = start(MockConfig::new(ws)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unicode.c1z");
    let report = sync_mock(&server, &path, &SyncOptions::default()).await;
    assert_eq!(report.requests, report.min_requests);
    let c = Contents::read(&path);
    c.assert_integrity();
    assert_eq!(c.resources["user:u2"].display_name, "李 小龍");
    assert_eq!(c.resources["group:g1"].display_name, "Équipe Données 📊");
    assert!(
        c.grants
            .contains_key("group:g1:member:invite:Ana@Example.PT")
    );
    assert!(c.grants.contains_key("group:g1:member:user:u2"));
    assert!(
        c.grants
            .contains_key("role:rB:member@%C3%A9quipe=donn%C3%A9es%2C analytiques:user:u1")
    );
    assert!(
        c.grants
            .contains_key("space:spa_1:エンゲージ_space_管理者:user:u1")
    );
    assert!(c.grants.contains_key("source:s1:source_admin:group:g1"));
    assert!(c.grants.contains_key("role:rA:member:user:u1"));
    assert_eq!(
        c.entitlements["role:rB:member@%C3%A9quipe=donn%C3%A9es%2C analytiques"].display_name,
        "Source Admin role member (labels: équipe=données, analytiques)"
    );
}

#[tokio::test]
async fn forbidden_first_request_is_typed() {
    let mut routes = HashMap::new();
    routes.insert(
        "/".to_owned(),
        (
            403,
            r#"{"errors":[{"type":"forbidden","message":"Forbidden"}]}"#.to_owned(),
        ),
    );
    let base = canned_server_with_status(routes).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("forbidden.c1z");
    let err = sync(
        &session_for(&base, "secret-token-value"),
        &path,
        &SyncOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, segment_connector::SyncError::Forbidden { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("403"));
    assert!(!format!("{err} {err:?}").contains("secret-token-value"));
    assert!(!path.exists());
}

#[tokio::test]
async fn forbidden_groups_are_skipped() {
    let mut routes: HashMap<String, (u16, String)> = HashMap::new();
    routes.insert(
        "/".to_owned(),
        (
            200,
            object_body("workspace", json!({"id": "ws1", "name": "W", "slug": "w"})),
        ),
    );
    routes.insert(
        "/groups".to_owned(),
        (
            403,
            r#"{"errors":[{"type":"forbidden","message":"No groups for you"}]}"#.to_owned(),
        ),
    );
    routes.insert(
        "/users".to_owned(),
        (
            200,
            list_body("users", json!([{"id": "u1", "name": "A", "email": "a@x"}])),
        ),
    );
    let base = canned_server_with_status(routes).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groups.c1z");
    let options = SyncOptions::default().with_resource_types(["user", "group"]);
    let report = sync(&session_for(&base, "t"), &path, &options)
        .await
        .unwrap();
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].resource_type, "group");
    assert_eq!(report.skipped[0].reason, "No groups for you");
    assert_eq!(report.requests, report.min_requests);
    let c = Contents::read(&path);
    c.assert_integrity();
    assert!(c.grants.contains_key("workspace:ws1:member:user:u1"));
}
