//! Grants of every entitlement kind to every supported principal type, their idempotency,
//! and the refusals.

use baton_model::ids::{EntitlementId, ResourceRef};
use segment_api::ResourceKind;
use segment_provision::{OutcomeKind, ProvisionError, ProvisionOptions};
use segment_scheme::{LabelSet, PermissionKey};

use crate::support::{body, env, id, sent_path};

fn key(role: &str, kind: ResourceKind, res: &str, labels: &[(&str, &str)]) -> PermissionKey {
    PermissionKey {
        role_id: role.into(),
        kind,
        resource_id: res.into(),
        labels: LabelSet::from_pairs(labels.iter().copied()),
    }
}

#[tokio::test]
async fn workspace_role_to_user_then_already_granted() {
    let env = env(ProvisionOptions::default()).await;
    let ent: EntitlementId = id("role:r-owner:member");
    let bob: ResourceRef = id("user:u-bob");
    let before = env.user_json("u-bob");

    let out = env.prov.grant(&ent, &bob).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::Granted);
    assert_eq!(
        out.to_string(),
        "granted role:r-owner:member to user:u-bob (1 write)"
    );
    assert!(
        env.keys("user:u-bob")
            .contains(&key("r-owner", ResourceKind::Workspace, "ws1", &[]))
    );
    // The other permission is untouched.
    assert_eq!(env.user_json("u-bob")[0], before[0]);

    // The write sent is exactly the one reported.
    let writes = env.successful_writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].operation, "addPermissionsToUser");
    assert_eq!(sent_path(&writes[0]), out.writes[0].path);
    assert_eq!(Some(body(&writes[0])), out.writes[0].body);
    assert_eq!(
        body(&writes[0]),
        serde_json::json!({"permissions": [{"roleId": "r-owner", "resources": [{"id": "ws1", "type": "WORKSPACE"}]}]})
    );

    let again = env.prov.grant(&ent, &bob).await.unwrap();
    assert_eq!(again.kind, OutcomeKind::AlreadyGranted);
    assert!(again.writes.is_empty());
    assert_eq!(env.writes(), 1);
}

#[tokio::test]
async fn workspace_role_to_group() {
    let env = env(ProvisionOptions::default()).await;
    let ent: EntitlementId = id("role:r-min:member");
    let ops: ResourceRef = id("group:g-ops");
    let out = env.prov.grant(&ent, &ops).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::Granted);
    assert_eq!(out.writes[0].operation, "addPermissionsToUserGroup");
    assert_eq!(out.writes[0].path, "/groups/g-ops/permissions");
    assert!(
        env.keys("group:g-ops")
            .contains(&key("r-min", ResourceKind::Workspace, "ws1", &[]))
    );
    let again = env.prov.grant(&ent, &ops).await.unwrap();
    assert_eq!(again.kind, OutcomeKind::AlreadyGranted);
    assert_eq!(env.writes(), 1);
}

#[tokio::test]
async fn label_scoped_roles_keep_their_labels_and_are_not_conflated() {
    let env = env(ProvisionOptions::default()).await;
    let alice: ResourceRef = id("user:u-alice");
    // Alice holds r-min on the workspace narrowed to environment=prod.
    let held = env
        .prov
        .grant(&id("role:r-min:member@environment=prod"), &alice)
        .await
        .unwrap();
    assert_eq!(held.kind, OutcomeKind::AlreadyGranted);
    // The unscoped entitlement is a different one.
    let wide = env
        .prov
        .grant(&id("role:r-min:member"), &alice)
        .await
        .unwrap();
    assert_eq!(wide.kind, OutcomeKind::Granted);
    // A new label set is written on the WORKSPACE resource.
    let dev = env
        .prov
        .grant(&id("role:r-min:member@environment=dev"), &alice)
        .await
        .unwrap();
    assert_eq!(dev.kind, OutcomeKind::Granted);
    assert_eq!(
        dev.writes[0].body,
        Some(
            serde_json::json!({"permissions": [{"roleId": "r-min", "resources": [
            {"id": "ws1", "type": "WORKSPACE", "labels": [{"key": "environment", "value": "dev"}]}]}]})
        )
    );
    let keys = env.keys("user:u-alice");
    for labels in [
        &[][..],
        &[("environment", "prod")][..],
        &[("environment", "dev")][..],
    ] {
        assert!(keys.contains(&key("r-min", ResourceKind::Workspace, "ws1", labels)));
    }
    // Permission-level labels count too: Alice's Function Admin carries team=growth.
    let f = env
        .prov
        .grant(&id("function:f1:function_admin@team=growth"), &alice)
        .await
        .unwrap();
    assert_eq!(f.kind, OutcomeKind::AlreadyGranted);
    assert_eq!(env.writes(), 2);
}

#[tokio::test]
async fn scoped_roles_to_users_and_groups() {
    let env = env(ProvisionOptions::default()).await;
    let bob: ResourceRef = id("user:u-bob");
    let eng: ResourceRef = id("group:g-eng");
    let dave: ResourceRef = id("user:u-dave");
    let cases: [(&str, &ResourceRef, OutcomeKind); 7] = [
        ("source:s2:source_read_only", &bob, OutcomeKind::Granted),
        (
            "source:s1:source_read_only",
            &bob,
            OutcomeKind::AlreadyGranted,
        ),
        (
            "warehouse:wh1:warehouse_admin",
            &eng,
            OutcomeKind::AlreadyGranted,
        ),
        ("warehouse:wh1:warehouse_admin", &bob, OutcomeKind::Granted),
        ("function:f1:function_admin", &eng, OutcomeKind::Granted),
        ("space:sp1:engage_user", &dave, OutcomeKind::AlreadyGranted),
        ("space:sp1:engage_user", &eng, OutcomeKind::Granted),
    ];
    for (ent, principal, kind) in cases {
        let out = env.prov.grant(&id(ent), principal).await.unwrap();
        assert_eq!(out.kind, kind, "{ent} to {principal}");
    }
    assert!(
        env.keys("user:u-bob")
            .contains(&key("r-src-ro", ResourceKind::Source, "s2", &[]))
    );
    assert!(env.keys("user:u-bob").contains(&key(
        "r-wh-admin",
        ResourceKind::Warehouse,
        "wh1",
        &[]
    )));
    assert!(env.keys("group:g-eng").contains(&key(
        "r-fn-admin",
        ResourceKind::Function,
        "f1",
        &[]
    )));
    assert!(
        env.keys("group:g-eng")
            .contains(&key("r-engage", ResourceKind::Space, "sp1", &[]))
    );
    assert_eq!(env.writes(), 4);
}

#[tokio::test]
async fn group_membership_to_users_and_invites() {
    let env = env(ProvisionOptions::default()).await;
    let ops: EntitlementId = id("group:g-ops:member");
    let eng: EntitlementId = id("group:g-eng:member");

    // Carol's email is looked up (GET /users/{id}) and used as Segment spells it.
    let out = env.prov.grant(&ops, &id("user:u-carol")).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::Granted);
    assert_eq!(
        out.writes[0].to_string(),
        r#"POST /groups/g-ops/users {"emails":["Carol@Example.com"]}"#
    );
    assert!(env.group_members("g-ops").contains("carol@example.com"));
    let again = env.prov.grant(&ops, &id("user:u-carol")).await.unwrap();
    assert_eq!(again.kind, OutcomeKind::AlreadyGranted);

    // Members and pending invitees are both "already there".
    let alice = env.prov.grant(&eng, &id("user:u-alice")).await.unwrap();
    assert_eq!(alice.kind, OutcomeKind::AlreadyGranted);
    let pending = env
        .prov
        .grant(&eng, &id("invite:PENDING@example.com"))
        .await
        .unwrap();
    assert_eq!(pending.kind, OutcomeKind::AlreadyGranted);
    let other = env
        .prov
        .grant(&eng, &id("invite:Other.Pending@example.com"))
        .await
        .unwrap();
    assert_eq!(other.kind, OutcomeKind::Granted);
    assert!(
        env.group_members("g-eng")
            .contains("other.pending@example.com")
    );
    assert_eq!(env.writes(), 2);
}

#[tokio::test]
async fn refusals_write_nothing() {
    let env = env(ProvisionOptions::default()).await;
    let invite: ResourceRef = id("invite:pending@example.com");

    let e = env
        .prov
        .grant(&id("role:r-owner:member"), &invite)
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::RoleOnInvite { .. }), "{e}");
    assert!(
        e.to_string().contains("once the invitation is accepted"),
        "{e}"
    );
    let e = env
        .prov
        .grant(&id("source:s1:source_admin"), &invite)
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::RoleOnInvite { .. }), "{e}");

    let ws: EntitlementId = id("workspace:ws1:member");
    let e = env.prov.grant(&ws, &id("user:u-bob")).await.unwrap_err();
    assert!(
        matches!(e, ProvisionError::WorkspaceMembershipGrant { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("create-account"), "{e}");
    let e = env
        .prov
        .revoke_from(&ws, &id("user:u-bob"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProvisionError::WorkspaceMembershipRevoke { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("delete-resource"), "{e}");

    let e = env
        .prov
        .grant(&id("group:g-ops:member"), &id("group:g-eng"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProvisionError::UnsupportedPrincipal { .. }),
        "{e}"
    );
    let e = env
        .prov
        .grant(&id("role:r-owner:member"), &id("source:s1"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::InvalidPrincipal { .. }), "{e}");
    let e = env
        .prov
        .grant(&id("role:no-such-role:member"), &id("user:u-bob"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::UnknownRole { .. }), "{e}");
    let e = env
        .prov
        .grant(&id("source:s1:no_such_role"), &id("user:u-bob"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::RoleNotFound { .. }), "{e}");
    let e = env
        .prov
        .grant(&id("source:s1:data_steward"), &id("user:u-bob"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::AmbiguousRole { .. }), "{e}");
    let e = env
        .prov
        .grant(&id("destination:d1:member"), &id("user:u-bob"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProvisionError::InvalidEntitlement { .. }),
        "{e}"
    );
    let e = env
        .prov
        .grant(&id("role:r-owner:member"), &id("user:u-nobody"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::PrincipalNotFound { .. }), "{e}");
    let e = env
        .prov
        .grant(&id("group:g-ops:member"), &id("user:u-nobody"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::PrincipalNotFound { .. }), "{e}");
    let e = env
        .prov
        .grant(&id("group:g-nope:member"), &id("user:u-bob"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::GroupNotFound { .. }), "{e}");

    assert_eq!(env.writes(), 0);
}
