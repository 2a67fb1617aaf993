//! Account creation (invitations) with duplicate classification, and deletes.

use std::sync::Arc;

use baton_model::ids::ResourceRef;
use segment_api::hooks::RequestHook;
use segment_mock::Faults;
use segment_provision::{AccountRequest, OutcomeKind, ProvisionError, ProvisionOptions};
use serde_json::json;

use crate::support::{Trigger, env, env_with_observer, id};

#[tokio::test]
async fn invite_a_new_address_with_roles_and_groups() {
    let env = env(ProvisionOptions::default()).await;
    let request = AccountRequest::new("New.Person@example.com")
        .with_entitlement(id("role:r-min:member"))
        .with_entitlement(id("source:s1:source_read_only"))
        .with_entitlement(id("group:g-ops:member"))
        .with_entitlement(id("workspace:ws1:member"));
    let out = env.prov.create_account(&request).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::Invited);
    assert_eq!(out.resource, Some(id("invite:New.Person@example.com")));
    assert_eq!(
        out.to_string(),
        "invited New.Person@example.com (invite:New.Person@example.com) (2 writes); \
         group membership(s) ensured after the invitation: g-ops"
    );
    assert_eq!(
        out.writes[0].body,
        Some(
            json!({"invites": [{"email": "New.Person@example.com", "permissions": [
            {"roleId": "r-min", "resources": [{"id": "ws1", "type": "WORKSPACE"}]},
            {"roleId": "r-src-ro", "resources": [{"id": "s1", "type": "SOURCE"}]}]}]})
        )
    );
    assert_eq!(out.writes[1].path, "/groups/g-ops/users");

    let ws = env.server.workspace();
    let invite = ws
        .invites
        .iter()
        .find(|i| i.email == "New.Person@example.com")
        .unwrap();
    assert_eq!(invite.permissions.len(), 2);
    assert!(
        env.group_members("g-ops")
            .contains("new.person@example.com")
    );
    assert_eq!(env.writes(), 2);

    // Creating it again: already invited; the group membership is ensured, not re-added.
    let again = env.prov.create_account(&request).await.unwrap();
    assert_eq!(again.kind, OutcomeKind::AlreadyInvited);
    assert!(again.writes.is_empty());
    assert_eq!(env.writes(), 3, "one rejected POST /invites, nothing else");
}

#[tokio::test]
async fn already_invited_reports_the_invite() {
    let env = env(ProvisionOptions::default()).await;
    let out = env
        .prov
        .create_account(&AccountRequest::new("other.pending@EXAMPLE.com"))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::AlreadyInvited);
    assert!(out.is_noop());
    // The invite resource as Segment lists it.
    assert_eq!(out.resource, Some(id("invite:Other.Pending@example.com")));
    assert!(
        out.to_string().contains("already has a pending invitation"),
        "{out}"
    );
    assert!(env.successful_writes().is_empty());
}

#[tokio::test]
async fn already_a_member_reports_the_user() {
    let env = env(ProvisionOptions::default()).await;
    let out = env
        .prov
        .create_account(&AccountRequest::new("CAROL@example.com"))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::AlreadyAMember);
    assert_eq!(out.resource, Some(id("user:u-carol")));
    let v = serde_json::to_value(&out).unwrap();
    assert_eq!(v["kind"], "already_a_member");
    assert_eq!(v["resource"], "user:u-carol");
    assert!(env.successful_writes().is_empty());
}

/// Segment says "already invited", then listing the invitations fails: an error that says to
/// retry, never a guess.
#[tokio::test]
async fn lookup_failure_asks_to_retry() {
    let faults = Faults {
        rate_5xx: 1.0,
        ..Faults::default()
    };
    let env = env_with_observer(ProvisionOptions::default(), |server| {
        let hook: Arc<dyn RequestHook> =
            Trigger::faults_after(server, "createInvites", 400, faults);
        hook
    })
    .await;
    let e = env
        .prov
        .create_account(&AccountRequest::new("bob@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProvisionError::AccountLookupFailed { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("retry account creation"), "{e}");
    assert!(e.is_retryable());
    assert_eq!(env.calls("listInvites"), 1);
}

/// Segment says "already invited", but the address is neither invited nor a member (it was
/// withdrawn meanwhile): an error that says to retry.
#[tokio::test]
async fn inconclusive_lookup_asks_to_retry() {
    let env = env_with_observer(ProvisionOptions::default(), |server| {
        let hook: Arc<dyn RequestHook> = Trigger::on_status(server, "createInvites", 400, |ws| {
            ws.invites.retain(|i| i.email != "pending@example.com");
            for g in &mut ws.groups {
                g.invites.retain(|e| e != "pending@example.com");
            }
        });
        hook
    })
    .await;
    let e = env
        .prov
        .create_account(&AccountRequest::new("pending@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProvisionError::AccountLookupInconclusive { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("retry"), "{e}");
}

#[tokio::test]
async fn invalid_requests_write_nothing() {
    let env = env(ProvisionOptions::default()).await;
    for email in ["", "no-at-sign", "a b@example.com", "x@"] {
        let e = env
            .prov
            .create_account(&AccountRequest::new(email))
            .await
            .unwrap_err();
        assert!(
            matches!(e, ProvisionError::InvalidEmail { .. }),
            "{email}: {e}"
        );
    }
    // A role that does not resolve: fail closed before inviting.
    let request =
        AccountRequest::new("x@example.com").with_entitlement(id("source:s1:data_steward"));
    let e = env.prov.create_account(&request).await.unwrap_err();
    assert!(matches!(e, ProvisionError::AmbiguousRole { .. }), "{e}");
    assert_eq!(env.writes(), 0);
}

#[tokio::test]
async fn delete_users_and_invites() {
    let env = env(ProvisionOptions::default()).await;
    let dave: ResourceRef = id("user:u-dave");
    let out = env.prov.delete_resource(&dave).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::Removed);
    assert_eq!(out.writes[0].to_string(), "DELETE /users?userIds.0=u-dave");
    assert!(
        env.server
            .workspace()
            .users
            .iter()
            .all(|u| u.id != "u-dave")
    );
    let again = env.prov.delete_resource(&dave).await.unwrap();
    assert_eq!(again.kind, OutcomeKind::AlreadyGone);
    assert_eq!(
        again.to_string(),
        "user:u-dave does not exist (already deleted); nothing to do"
    );

    let out = env
        .prov
        .delete_resource(&id("invite:other.pending@example.com"))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Removed);
    assert_eq!(out.resource, Some(id("invite:Other.Pending@example.com")));
    assert_eq!(
        out.writes[0].path,
        "/invites?emails.0=Other.Pending%40example.com"
    );
    let gone = env
        .prov
        .delete_resource(&id("invite:never@example.com"))
        .await
        .unwrap();
    assert_eq!(gone.kind, OutcomeKind::AlreadyGone);

    let e = env
        .prov
        .delete_resource(&id("group:g-ops"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::UnsupportedDelete { .. }), "{e}");
    assert_eq!(env.writes(), 2);
}
