//! Regression tests of review findings: principal types are never guessed (an inferred type
//! that does not exist fails closed), accounts of existing members and pending invitations
//! keep their requested entitlements, a stale role cache never yields "already revoked", group
//! memberships go by user id with fresh emails, plans that cannot keep their order on one
//! principal are refused, and `with_directory` keeps the per-principal queues.

use std::sync::Arc;

use baton_model::ids::ResourceRef;
use segment_api::hooks::RequestHook;
use segment_mock::Workspace;
use segment_provision::{
    AccountRequest, OutcomeKind, Plan, PlanOperation, PrincipalDirectory, ProvisionError,
    ProvisionOptions, Provisioner,
};

use crate::support::{Trigger, env, env_with_observer, id};

// ---- principal types -------------------------------------------------------------------------

#[tokio::test]
async fn principals_without_a_type_are_resolved_never_guessed() {
    let env = env(ProvisionOptions::default()).await;
    let r = |id: &'static str| env.prov.resolve_principal(id);
    assert_eq!(r("u-bob").await.unwrap(), id("user:u-bob"));
    assert_eq!(r("g-eng").await.unwrap(), id("group:g-eng"));
    assert_eq!(
        r("someone@example.com").await.unwrap(),
        id("invite:someone@example.com")
    );
    let err = r("nobody-at-all").await.unwrap_err();
    assert!(
        matches!(&err, ProvisionError::UnknownPrincipal { id } if id == "nobody-at-all"),
        "{err:?}"
    );
    assert!(err.to_string().contains("pass --principal-type"), "{err}");
    assert_eq!(env.writes(), 0);
}

#[tokio::test]
async fn an_inferred_principal_that_does_not_exist_is_an_error_not_already_revoked() {
    let env = env(ProvisionOptions::default()).await;
    // g-eng is a group: as a user it does not exist. A role of it must not be reported as
    // already revoked when the type was only inferred.
    let ent = id("function:f1:function_admin");
    let as_user: ResourceRef = id("user:g-eng");
    let err = env
        .prov
        .revoke_from_inferred(&ent, &as_user)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProvisionError::PrincipalNotFound { principal } if principal == "user:g-eng"),
        "{err:?}"
    );
    let err = env
        .prov
        .revoke_from_inferred(&id("group:g-ops:member"), &id("user:nobody"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProvisionError::PrincipalNotFound { .. }),
        "{err:?}"
    );

    // Stated by the caller: a principal that does not exist holds nothing, and the text says
    // why (it does not exist, rather than "does not have").
    let out = env.prov.revoke_from(&ent, &as_user).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::AlreadyRevoked);
    assert!(
        out.to_string()
            .ends_with("; user:g-eng does not exist in Segment"),
        "{out}"
    );
    assert_eq!(env.writes(), 0);
    assert_eq!(env.keys("group:g-eng").len(), 1, "the group kept its role");
}

// ---- accounts --------------------------------------------------------------------------------

#[tokio::test]
async fn an_existing_member_gets_the_requested_roles_and_groups() {
    let env = env(ProvisionOptions::default()).await;
    let request = AccountRequest::new("BOB@example.com")
        .with_entitlement(id("role:r-min:member"))
        .with_entitlement(id("source:s2:source_admin"))
        .with_entitlement(id("group:g-ops:member"))
        .with_entitlement(id("workspace:ws1:member"));
    let out = env.prov.create_account(&request).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::AlreadyAMember);
    assert_eq!(out.resource, Some(id("user:u-bob")));
    assert!(!out.is_noop(), "{out}");
    let kinds: Vec<(String, OutcomeKind)> = out
        .applied
        .iter()
        .map(|o| (o.entitlement.as_ref().unwrap().to_string(), o.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("role:r-min:member".to_owned(), OutcomeKind::Granted),
            ("source:s2:source_admin".to_owned(), OutcomeKind::Granted),
            ("group:g-ops:member".to_owned(), OutcomeKind::Granted),
        ]
    );
    assert!(
        out.applied
            .iter()
            .all(|o| o.principal == Some(id("user:u-bob")))
    );
    let text = out.to_string();
    assert!(
        text.contains("requested entitlements applied to the existing member user:u-bob"),
        "{text}"
    );
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["applied"].as_array().unwrap().len(), 3);
    let keys = env.keys("user:u-bob");
    assert!(keys.iter().any(|k| k.role_id == "r-min"));
    assert!(
        keys.iter()
            .any(|k| k.role_id == "r-src-admin" && k.resource_id == "s2")
    );
    assert!(env.group_members("g-ops").contains("bob@example.com"));

    // Again: everything is in place, a plain no-op.
    let again = env.prov.create_account(&request).await.unwrap();
    assert_eq!(again.kind, OutcomeKind::AlreadyAMember);
    assert!(again.is_noop(), "{again}");
    assert!(
        again
            .applied
            .iter()
            .all(|o| o.kind == OutcomeKind::AlreadyGranted)
    );
}

#[tokio::test]
async fn existing_members_in_a_plan_and_in_a_dry_run_get_their_entitlements() {
    let env = env(ProvisionOptions::default().with_dry_run(true)).await;
    let mut plan = Plan::new();
    plan.push(PlanOperation::create_account(
        &AccountRequest::new("dave@example.com").with_entitlement(id("group:g-ops:member")),
    ))
    .push(PlanOperation::create_account(&AccountRequest::new(
        "brand.new@example.com",
    )));
    let report = env.prov.apply(&plan).await;
    assert!(report.is_success(), "{report}");
    let dave = report.results[0].result.as_ref().unwrap();
    assert_eq!(dave.kind, OutcomeKind::AlreadyAMember);
    assert_eq!(dave.applied[0].kind, OutcomeKind::Granted);
    assert!(dave.applied[0].dry_run);
    assert_eq!(dave.writes.len(), 1, "{dave}");
    assert_eq!(env.writes(), 0);
}

#[tokio::test]
async fn a_pending_invitation_cannot_take_roles_and_says_so() {
    let env = env(ProvisionOptions::default()).await;
    let request = AccountRequest::new("Pending@example.com")
        .with_entitlement(id("role:r-min:member"))
        .with_entitlement(id("group:g-ops:member"));
    let out = env.prov.create_account(&request).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::AlreadyInvited);
    assert_eq!(out.resource, Some(id("invite:pending@example.com")));
    assert_eq!(out.roles_not_applied, [id("role:r-min:member")]);
    assert!(!out.is_noop(), "{out}");
    let note = out.note.clone().unwrap();
    assert!(
        note.contains("ensured for the pending invitation: g-ops")
            && note.contains("role(s) NOT applied: role:r-min:member"),
        "{note}"
    );
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["roles_not_applied"][0], "role:r-min:member");
    // The groups were ensured.
    assert!(env.group_members("g-ops").contains("pending@example.com"));

    // Again: the groups are in place, but the roles still cannot be applied: not a no-op.
    let again = env.prov.create_account(&request).await.unwrap();
    assert!(again.writes.is_empty());
    assert!(!again.is_noop(), "{again}");

    // Groups only, already in place: a plain no-op.
    let groups_only =
        AccountRequest::new("pending@example.com").with_entitlement(id("group:g-ops:member"));
    let out = env.prov.create_account(&groups_only).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::AlreadyInvited);
    assert!(out.is_noop(), "{out}");
}

// ---- role cache ------------------------------------------------------------------------------

/// The fixture with "Source Admin" re-created under a new id (the old role renamed), and
/// Alice's source-admin permission moved to the new role.
fn recreated_source_admin(mut ws: Workspace) -> Workspace {
    let old = ws.roles.iter_mut().find(|r| r.id == "r-src-admin").unwrap();
    old.name = "Legacy Source Admin".into();
    ws.roles.push(segment_mock::Role {
        id: "r-src-admin-2".into(),
        name: "Source Admin".into(),
        description: "Edit sources".into(),
    });
    let alice = ws.users.iter_mut().find(|u| u.id == "u-alice").unwrap();
    for p in &mut alice.permissions {
        if p.role_id == "r-src-admin" {
            p.role_id = "r-src-admin-2".into();
        }
    }
    ws
}

#[tokio::test]
async fn a_stale_role_cache_never_yields_already_revoked() {
    let env = env(ProvisionOptions::default()).await;
    // The session lists roles before the role is re-created.
    env.session.roles().await.unwrap();
    env.server
        .set_workspace(recreated_source_admin(env.server.workspace()));

    let out = env
        .prov
        .revoke_from(&id("source:s1:source_admin"), &id("user:u-alice"))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Revoked, "{out}");
    let keys = env.keys("user:u-alice");
    assert!(
        !keys
            .iter()
            .any(|k| k.role_id == "r-src-admin-2" && k.resource_id == "s1")
    );
    assert!(
        keys.iter()
            .any(|k| k.role_id == "r-src-admin-2" && k.resource_id == "s2")
    );
}

#[tokio::test]
async fn a_principal_holding_another_role_with_the_slug_fails_closed() {
    // Between the principal's read and the fresh role listing, the new role is renamed: the
    // fresh list resolves the slug to the old role, while the read shows the new one under
    // that slug. Neither "already revoked" nor a write: an error naming both.
    let env = env_with_observer(ProvisionOptions::default(), |server| {
        let hook: Arc<dyn RequestHook> = Trigger::new(server, "getUser", 1, |ws| {
            let new = ws
                .roles
                .iter_mut()
                .find(|r| r.id == "r-src-admin-2")
                .unwrap();
            new.name = "Renamed Meanwhile".into();
            let old = ws.roles.iter_mut().find(|r| r.id == "r-src-admin").unwrap();
            old.name = "Source Admin".into();
        });
        hook
    })
    .await;
    env.session.roles().await.unwrap();
    env.server
        .set_workspace(recreated_source_admin(env.server.workspace()));
    let err = env
        .prov
        .revoke_from(&id("source:s1:source_admin"), &id("user:u-alice"))
        .await
        .unwrap_err();
    match &err {
        ProvisionError::RoleMismatch {
            resolved, found, ..
        } => {
            assert_eq!(resolved.0, "r-src-admin");
            assert_eq!(found.0, "r-src-admin-2");
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("r-src-admin") && text.contains("r-src-admin-2"),
        "{text}"
    );
    assert_eq!(env.writes(), 0);
}

// ---- group memberships -----------------------------------------------------------------------

#[tokio::test]
async fn group_memberships_go_by_user_id_with_fresh_emails() {
    let env = env(ProvisionOptions::default()).await;
    // An outdated c1z: Dave's old address is now Alice's, Carol's is Bob's.
    let mut directory = PrincipalDirectory::new();
    directory.insert("u-dave", "alice@example.com");
    directory.insert("u-carol", "bob@example.com");
    let prov = Provisioner::new(env.session.clone(), ProvisionOptions::default())
        .with_directory(directory);

    // Dave is not a member of g-eng (Alice is): he is added, under his real address.
    let out = prov
        .grant(&id("group:g-eng:member"), &id("user:u-dave"))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Granted, "{out}");
    assert!(env.group_members("g-eng").contains("dave@example.com"));

    // Carol is not a member (Bob is): nothing to revoke, and Bob stays.
    let out = prov
        .revoke_from(&id("group:g-eng:member"), &id("user:u-carol"))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::AlreadyRevoked, "{out}");
    assert!(env.group_members("g-eng").contains("bob@example.com"));
    assert!(env.group_members("g-eng").contains("alice@example.com"));
}

// ---- plans -----------------------------------------------------------------------------------

#[tokio::test]
async fn plans_whose_order_on_one_principal_cannot_be_kept_are_refused() {
    let env = env(ProvisionOptions::default()).await;
    let mut plan = Plan::new();
    plan.push(PlanOperation::delete(&id("invite:pending@example.com")))
        .push(PlanOperation::create_account(&AccountRequest::new(
            "Pending@example.com",
        )))
        .push(PlanOperation::grant(
            &id("group:g-ops:member"),
            &id("user:u-bob"),
        ));
    let report = env.prov.apply(&plan).await;
    for r in &report.results[..2] {
        let err = r.result.as_ref().unwrap_err();
        assert!(
            matches!(err, ProvisionError::InvalidPlan { reason } if reason.contains("#0 (delete), #1 (create_account)")),
            "{err}"
        );
    }
    assert_eq!(
        report.results[2].result.as_ref().unwrap().kind,
        OutcomeKind::Granted
    );
    // Nothing was done for the refused operations.
    assert!(
        env.server
            .workspace()
            .invites
            .iter()
            .any(|i| i.email == "pending@example.com")
    );
}

#[tokio::test]
async fn an_account_and_a_revoke_of_the_same_member_keep_plan_order() {
    let env = env(ProvisionOptions::default()).await;
    let mut plan = Plan::new();
    plan.push(PlanOperation::create_account(
        &AccountRequest::new("bob@example.com").with_entitlement(id("role:r-min:member")),
    ))
    .push(PlanOperation::Revoke {
        grant: None,
        entitlement: Some("role:r-min:member".into()),
        principal: Some("user:u-bob".into()),
        principal_type: None,
    });
    let report = env.prov.apply(&plan).await;
    assert!(report.is_success(), "{report}");
    assert_eq!(
        report.results[1].result.as_ref().unwrap().kind,
        OutcomeKind::Revoked
    );
    assert!(!env.keys("user:u-bob").iter().any(|k| k.role_id == "r-min"));
}

// ---- queues ----------------------------------------------------------------------------------

#[tokio::test]
async fn with_directory_keeps_the_queues_of_earlier_clones() {
    let env = env(ProvisionOptions::default()).await;
    let first = env.prov.clone();
    let second = env.prov.clone().with_directory(PrincipalDirectory::new());
    let ent = id("group:g-ops:member");
    let bob: ResourceRef = id("user:u-bob");
    // Submitted grant-then-revoke; polled revoke first. Serialized, they run in submission
    // order: the revoke sees the grant.
    let grant = first.grant(&ent, &bob);
    let revoke = second.revoke_from(&ent, &bob);
    let (revoked, granted) = tokio::join!(revoke, grant);
    assert_eq!(granted.unwrap().kind, OutcomeKind::Granted);
    assert_eq!(revoked.unwrap().kind, OutcomeKind::Revoked);
    assert!(env.group_members("g-ops").is_empty());
}
