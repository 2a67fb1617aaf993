//! Revokes: exactly one entry removed, everything else kept byte for byte; idempotency;
//! fail-closed role resolution.

use baton_model::ids::{EntitlementId, GrantId, ResourceRef};
use segment_provision::{OutcomeKind, ProvisionError, ProvisionOptions};
use serde_json::json;

use crate::support::{all_permissions, env, env_on, fixture, id};

/// Alice's stored permissions with `f` applied (to describe the expected "after").
fn edited(
    before: &serde_json::Value,
    f: impl FnOnce(&mut Vec<serde_json::Value>),
) -> serde_json::Value {
    let mut perms = before.as_array().unwrap().clone();
    f(&mut perms);
    serde_json::Value::Array(perms)
}

#[tokio::test]
async fn revoke_removes_one_resource_and_keeps_the_rest_byte_for_byte() {
    let env = env(ProvisionOptions::default()).await;
    let alice: ResourceRef = id("user:u-alice");
    let before_all = all_permissions(&env.server.workspace());
    let before = env.user_json("u-alice");

    let out = env
        .prov
        .revoke_from(&id("source:s1:source_admin"), &alice)
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Revoked);
    assert_eq!(out.writes.len(), 1);
    assert_eq!(out.writes[0].method, "PUT");
    assert_eq!(out.conflict_retries, 0);

    // Only the s1 resource left its permission; Source Admin on s2 stays, as do the labelled
    // workspace role (with its label description) and the permission-level labels.
    let expected = edited(&before, |p| {
        p[1]["resources"].as_array_mut().unwrap().remove(0);
    });
    assert_eq!(env.user_json("u-alice"), expected);
    assert_eq!(
        expected[1],
        json!({"roleId": "r-src-admin", "resources": [{"id": "s2", "type": "SOURCE", "labels": []}]})
    );
    // Nobody else changed.
    let mut after_all = all_permissions(&env.server.workspace());
    after_all.remove("user:u-alice");
    let mut before_others = before_all;
    before_others.remove("user:u-alice");
    assert_eq!(after_all, before_others);

    // Read fresh, written, read back: GET, PUT, GET.
    let log: Vec<String> = env
        .server
        .request_log()
        .iter()
        .filter(|r| r.path.starts_with("/users/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        log,
        [
            "GET /users/u-alice",
            "PUT /users/u-alice/permissions",
            "GET /users/u-alice"
        ]
    );

    // Again: nothing to do, nothing written.
    let again = env
        .prov
        .revoke_from(&id("source:s1:source_admin"), &alice)
        .await
        .unwrap();
    assert_eq!(again.kind, OutcomeKind::AlreadyRevoked);
    assert_eq!(env.writes(), 1);
}

#[tokio::test]
async fn revoking_a_labelled_entry_drops_that_permission_only() {
    let env = env(ProvisionOptions::default()).await;
    let alice: ResourceRef = id("user:u-alice");
    let before = env.user_json("u-alice");

    // The unscoped entitlement is not the labelled one: nothing to revoke.
    let wide = env
        .prov
        .revoke_from(&id("role:r-min:member"), &alice)
        .await
        .unwrap();
    assert_eq!(wide.kind, OutcomeKind::AlreadyRevoked);
    assert_eq!(env.writes(), 0);

    let out = env
        .prov
        .revoke_from(&id("role:r-min:member@environment=prod"), &alice)
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Revoked);
    assert_eq!(
        env.user_json("u-alice"),
        edited(&before, |p| {
            p.remove(2);
        })
    );

    // Permission-level labels are part of the entry.
    let f = env
        .prov
        .revoke_from(&id("function:f1:function_admin"), &alice)
        .await
        .unwrap();
    assert_eq!(f.kind, OutcomeKind::AlreadyRevoked);
    let f = env
        .prov
        .revoke_from(&id("function:f1:function_admin@team=growth"), &alice)
        .await
        .unwrap();
    assert_eq!(f.kind, OutcomeKind::Revoked);
    assert_eq!(
        env.user_json("u-alice"),
        edited(&before, |p| {
            p.remove(3);
            p.remove(2);
        })
    );
    assert_eq!(env.writes(), 2);
}

#[tokio::test]
async fn revoke_from_a_group_and_by_grant_id() {
    let env = env(ProvisionOptions::default()).await;
    let before = env.group_json("g-eng");
    let grant: GrantId = id("function:f1:function_admin:group:g-eng");
    env.prov
        .grant(grant.entitlement(), &id("group:g-eng"))
        .await
        .unwrap();
    let out = env.prov.revoke(&grant).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::Revoked);
    assert_eq!(
        out.writes[0].to_string(),
        r#"PUT /groups/g-eng/permissions {"permissions":[{"resources":[{"id":"wh1","type":"WAREHOUSE"}],"roleId":"r-wh-admin"}]}"#
    );
    assert_eq!(env.group_json("g-eng"), before);
    let again = env.prov.revoke(&grant).await.unwrap();
    assert_eq!(again.kind, OutcomeKind::AlreadyRevoked);

    let out = env
        .prov
        .revoke(&id("role:r-owner:member:user:u-alice"))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Revoked);
    // The set-up grant, the group revoke, the user revoke.
    assert_eq!(env.writes(), 3);
}

#[tokio::test]
async fn revoke_group_memberships_of_users_and_invites() {
    let env = env(ProvisionOptions::default()).await;
    let eng: EntitlementId = id("group:g-eng:member");

    let out = env
        .prov
        .revoke_from(&eng, &id("user:u-alice"))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Revoked);
    assert_eq!(
        out.writes[0].to_string(),
        "DELETE /group/g-eng/users?emails.0=alice%40example.com"
    );
    let invitee = env
        .prov
        .revoke_from(&eng, &id("invite:Pending@Example.com"))
        .await
        .unwrap();
    assert_eq!(invitee.kind, OutcomeKind::Revoked);
    // Removed with Segment's spelling of the address.
    assert_eq!(
        invitee.writes[0].path,
        "/group/g-eng/users?emails.0=pending%40example.com"
    );
    assert_eq!(
        env.group_members("g-eng").into_iter().collect::<Vec<_>>(),
        ["bob@example.com"]
    );

    for principal in ["user:u-alice", "user:u-carol", "invite:pending@example.com"] {
        let out = env.prov.revoke_from(&eng, &id(principal)).await.unwrap();
        assert_eq!(out.kind, OutcomeKind::AlreadyRevoked, "{principal}");
    }
    assert_eq!(env.writes(), 2);
}

/// A slug that matches no role, or two roles, is an error and nothing is written (the
/// incumbent reported "already revoked" and left the permission in place).
#[tokio::test]
async fn unresolvable_slugs_fail_closed() {
    let env = env(ProvisionOptions::default()).await;
    let dave: ResourceRef = id("user:u-dave");
    let before = env.server.workspace();

    let e = env
        .prov
        .revoke_from(&id("source:s1:data_steward"), &dave)
        .await
        .unwrap_err();
    match &e {
        ProvisionError::AmbiguousRole {
            slug, candidates, ..
        } => {
            assert_eq!(slug, "data_steward");
            let ids: Vec<&str> = candidates.iter().map(|(id, _)| id.as_str()).collect();
            assert_eq!(ids, ["r-steward-1", "r-steward-2"]);
        }
        other => panic!("expected AmbiguousRole, got {other}"),
    }
    let message = e.to_string();
    assert!(
        message.contains("r-steward-1") && message.contains("r-steward-2"),
        "{message}"
    );
    assert!(message.contains("nothing was changed"), "{message}");

    let e = env
        .prov
        .revoke_from(&id("source:s1:renamed_role"), &dave)
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::RoleNotFound { .. }), "{e}");
    assert!(!e.is_retryable());

    // Via a grant id too.
    let e = env
        .prov
        .revoke(&id("source:s1:renamed_role:user:u-dave"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::RoleNotFound { .. }), "{e}");

    assert_eq!(env.writes(), 0);
    assert_eq!(env.server.workspace(), before);
}

/// A principal or group that does not exist holds nothing: revokes are no-ops (so a plan
/// "revoke, then delete the user" re-runs cleanly); grants to it fail.
#[tokio::test]
async fn revokes_involving_missing_principals_or_groups_are_already_revoked() {
    let env = env(ProvisionOptions::default()).await;
    let cases = [
        ("role:r-owner:member", "user:u-nobody"),
        ("source:s1:source_admin", "group:g-nobody"),
        ("group:g-eng:member", "user:u-nobody"),
        ("group:g-nobody:member", "user:u-bob"),
        ("group:g-nobody:member", "invite:pending@example.com"),
    ];
    for (ent, principal) in cases {
        let out = env
            .prov
            .revoke_from(&id(ent), &id(principal))
            .await
            .unwrap();
        assert_eq!(
            out.kind,
            OutcomeKind::AlreadyRevoked,
            "{ent} from {principal}"
        );
        assert!(
            out.note.as_deref().unwrap_or("").contains("does not exist"),
            "{out:?}"
        );
        let e = env.prov.grant(&id(ent), &id(principal)).await.unwrap_err();
        assert!(
            matches!(
                e,
                ProvisionError::PrincipalNotFound { .. } | ProvisionError::GroupNotFound { .. }
            ),
            "{e}"
        );
    }
    assert_eq!(env.writes(), 0);

    // Revoke, then delete the user; the re-run is all no-ops.
    let mut plan = segment_provision::Plan::new();
    plan.push(segment_provision::PlanOperation::revoke(&id(
        "space:sp1:engage_user:user:u-dave",
    )))
    .push(segment_provision::PlanOperation::revoke(&id(
        "group:g-eng:member:user:u-bob",
    )))
    .push(segment_provision::PlanOperation::delete(&id("user:u-bob")));
    let first = env.prov.apply(&plan).await;
    assert!(first.is_success(), "{first}");
    let rerun = env.prov.apply(&plan).await;
    assert!(rerun.is_success(), "{rerun}");
    assert!(
        rerun
            .results
            .iter()
            .all(|r| r.result.as_ref().unwrap().is_noop()),
        "{rerun}"
    );
    assert!(rerun.writes.is_empty());
}

/// Alice's fixture permissions plus one on an unknown resource type (`DESTINATION`) and one
/// mixing a known and an unknown (`TRACKING_PLAN`) resource, served by a mock that accepts
/// unknown types in request bodies (a future Segment).
async fn env_with_unknown_types() -> crate::support::Env {
    let mut ws = fixture();
    let alice = ws.users.iter_mut().find(|u| u.id == "u-alice").unwrap();
    let extra: Vec<segment_mock::Permission> = serde_json::from_value(json!([
        {"roleId": "r-steward-1", "resources": [{"id": "dst123", "type": "DESTINATION", "labels": []}]},
        {"roleId": "r-src-ro", "resources": [
            {"id": "s2", "type": "SOURCE", "labels": []},
            {"id": "tp9", "type": "TRACKING_PLAN", "labels": []}
        ]}
    ]))
    .unwrap();
    alice.permissions.extend(extra);
    ws.validate().unwrap();
    let env = env_on(ws, ProvisionOptions::default()).await;
    env.server.set_accept_unknown_resource_types(true);
    env
}

/// Alice's permissions as they appear in the mock's workspace dump (the fixture format).
fn dumped_alice(env: &crate::support::Env) -> serde_json::Value {
    let dump: serde_json::Value =
        serde_json::from_str(&env.server.workspace().to_json_string()).unwrap();
    let users = dump["users"].as_array().unwrap();
    let alice = users.iter().find(|u| u["id"] == "u-alice").unwrap();
    alice["permissions"].clone()
}

#[tokio::test]
async fn revokes_keep_unknown_type_and_label_scoped_permissions_byte_for_byte() {
    let env = env_with_unknown_types().await;
    let alice: ResourceRef = id("user:u-alice");
    let before_all = all_permissions(&env.server.workspace());
    let before = dumped_alice(&env);
    assert_eq!(
        before[4]["resources"][0],
        json!({"id": "dst123", "type": "DESTINATION", "labels": []})
    );

    // A resource-scoped entry next to the unknown-type and label-scoped permissions.
    let out = env
        .prov
        .revoke_from(&id("source:s1:source_admin"), &alice)
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Revoked);
    let step1 = edited(&before, |p| {
        p[1]["resources"].as_array_mut().unwrap().remove(0);
    });
    assert_eq!(dumped_alice(&env), step1);
    let put = env.successful_writes().pop().unwrap();
    assert!(
        put.body.contains(
            r#"{"roleId":"r-steward-1","resources":[{"id":"dst123","type":"DESTINATION"}]}"#
        ),
        "{}",
        put.body
    );

    // A label-scoped entry: only that permission goes.
    let out = env
        .prov
        .revoke_from(&id("role:r-min:member@environment=prod"), &alice)
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Revoked);
    let step2 = edited(&step1, |p| {
        p.remove(2);
    });
    assert_eq!(dumped_alice(&env), step2);

    // The known resource of a permission that also holds an unknown-type resource: the
    // unknown one stays, alone, in that permission.
    let out = env
        .prov
        .revoke_from(&id("source:s2:source_read_only"), &alice)
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Revoked);
    let step3 = edited(&step2, |p| {
        let last = p.len() - 1;
        p[last]["resources"].as_array_mut().unwrap().remove(0);
    });
    assert_eq!(dumped_alice(&env), step3);
    assert_eq!(
        step3.as_array().unwrap().last().unwrap(),
        &json!({"roleId": "r-src-ro", "resources": [{"id": "tp9", "type": "TRACKING_PLAN", "labels": []}]})
    );
    // The unknown-type and permission-level-labelled permissions are untouched throughout.
    assert_eq!(step3[2], before[3]);
    assert_eq!(step3[3], before[4]);
    assert_eq!(env.writes(), 3);

    // Nobody else changed.
    let mut after_all = all_permissions(&env.server.workspace());
    let mut before_others = before_all;
    after_all.remove("user:u-alice");
    before_others.remove("user:u-alice");
    assert_eq!(after_all, before_others);
}
