//! Every client operation against `segment-mock`: paths, methods, bodies, pagination.

use futures::{StreamExt, TryStreamExt};
use segment_api::{
    FunctionKind, InviteInput, InvitePermissionInput, PermissionInput, PermissionResource,
    ResourceKind,
};
use segment_mock::{MINIMAL_WORKSPACE_ACCESS_ROLE_ID, WORKSPACE_OWNER_ROLE_ID};

use crate::support::{builder, client, mock};

type Shape = Vec<(
    String,
    Vec<(String, String, Vec<(String, String)>)>,
    Vec<(String, String)>,
)>;

/// A stored permission set without label descriptions (the mock fills descriptions in from
/// the workspace's label list when answering, so a write-back stores them).
fn shape(permissions: &[segment_mock::Permission]) -> Shape {
    let labels = |ls: &[segment_mock::Label]| {
        ls.iter()
            .map(|l| (l.key.clone(), l.value.clone()))
            .collect::<Vec<_>>()
    };
    permissions
        .iter()
        .map(|p| {
            let resources = p
                .resources
                .iter()
                .map(|r| (r.id.clone(), r.kind.as_str().to_owned(), labels(&r.labels)))
                .collect();
            (p.role_id.clone(), resources, labels(&p.labels))
        })
        .collect()
}

#[tokio::test]
async fn get_workspace_and_labels() {
    let server = mock().await;
    let api = client(&server);
    let ws = server.workspace();
    let got = api.get_workspace().await.unwrap();
    assert_eq!(
        (got.id.as_str(), got.name.as_str(), got.slug.as_str()),
        (ws.id.as_str(), ws.name.as_str(), ws.slug.as_str())
    );
    let labels = api.list_labels().await.unwrap();
    assert_eq!(labels.len(), ws.labels.len());
    assert!(
        labels
            .iter()
            .zip(&ws.labels)
            .all(|(a, b)| a.key == b.key && a.value == b.value)
    );
    let log = server.request_log();
    assert_eq!(log[0].operation, "getWorkspace");
    assert_eq!(log[0].raw_path, "/");
    assert_eq!(log[1].operation, "listLabels");
    assert_eq!(log[1].raw_query, "", "listLabels is not paginated");
}

#[tokio::test]
async fn list_users_follows_cursors_with_dotted_query() {
    let server = mock().await;
    let api = client(&server);
    let ws = server.workspace();
    let users: Vec<_> = api.list_users().try_collect().await.unwrap();
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    let expected: Vec<&str> = ws.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, expected);
    assert!(
        users.iter().all(|u| u.permissions.is_empty()),
        "listUsers carries no permissions"
    );

    let log = server.request_log();
    assert_eq!(log.len(), ws.users.len().div_ceil(7));
    assert_eq!(log[0].raw_query, "pagination.count=7");
    for (i, req) in log.iter().enumerate().skip(1) {
        assert_eq!(req.operation, "listUsers");
        assert_eq!(req.query_param("pagination.count"), Some("7"));
        // Cursors are base64 with `=` padding, which must be percent-encoded.
        assert!(
            req.raw_query
                .starts_with("pagination.count=7&pagination.cursor="),
            "{}",
            req.raw_query
        );
        let cursor = req.query_param("pagination.cursor").unwrap();
        if cursor.contains('=') {
            assert!(req.raw_query.contains("%3D"), "page {i}: {}", req.raw_query);
            assert!(!req.raw_query.split_once("cursor=").unwrap().1.contains('='));
        }
    }

    let first = api.list_users_page(None).await.unwrap();
    assert_eq!(first.items.len(), 7);
    assert_eq!(first.total_entries, Some(ws.users.len() as u64));
    let second = api.list_users_page(first.next.as_deref()).await.unwrap();
    assert_eq!(second.items[0].id, ws.users[7].id);
}

#[tokio::test]
async fn default_page_size_is_1000_and_one_page_suffices() {
    let server = mock().await;
    let api = segment_api::Client::builder(segment_api::Token::new(server.token()))
        .base_url(server.base_url())
        .build()
        .unwrap();
    let page = api.list_users_page(None).await.unwrap();
    assert_eq!(page.next, None);
    assert_eq!(server.request_log()[0].raw_query, "pagination.count=1000");
}

#[tokio::test]
async fn get_user_has_permissions_with_role_names() {
    let server = mock().await;
    let api = client(&server);
    let ws = server.workspace();
    let with_perms = ws.users.iter().find(|u| !u.permissions.is_empty()).unwrap();
    let user = api.get_user(&with_perms.id).await.unwrap();
    assert_eq!(user.email, with_perms.email);
    assert_eq!(user.permissions.len(), with_perms.permissions.len());
    for (got, want) in user.permissions.iter().zip(&with_perms.permissions) {
        assert_eq!(got.role_id, want.role_id);
        assert_eq!(Some(got.role_name.as_str()), ws.role_name(&want.role_id));
        assert_eq!(got.resources.len(), want.resources.len());
        for (r, w) in got.resources.iter().zip(&want.resources) {
            assert_eq!(r.id, w.id);
            assert_eq!(r.kind.as_str(), w.kind.as_str());
            assert_eq!(r.labels.len(), w.labels.len());
        }
    }
    let log = server.request_log();
    assert_eq!(log[0].operation, "getUser");
    assert_eq!(log[0].path_params, vec![with_perms.id.clone()]);
}

#[tokio::test]
async fn user_permissions_add_then_revoke_by_replace_round_trips() {
    let server = mock().await;
    let api = client(&server);
    let ws = server.workspace();
    let user = ws.users.iter().find(|u| !u.permissions.is_empty()).unwrap();
    let source = &ws.sources[0];
    let source_admin = ws.roles.iter().find(|r| r.name == "Source Admin").unwrap();
    let grant = PermissionInput::new(
        source_admin.id.clone(),
        vec![PermissionResource::new(
            source.id.clone(),
            ResourceKind::Source,
        )],
    );
    let after_add = api
        .add_user_permissions(&user.id, std::slice::from_ref(&grant))
        .await
        .unwrap();
    assert_eq!(after_add.len(), user.permissions.len() + 1);
    let log = server.request_log();
    let add = log.last().unwrap();
    assert_eq!(
        (add.method.as_str(), add.operation.as_str()),
        ("POST", "addPermissionsToUser")
    );
    let body: serde_json::Value = serde_json::from_str(&add.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"permissions": [{"roleId": source_admin.id, "resources": [{"id": source.id, "type": "SOURCE"}]}]})
    );

    // Revoke the added permission: write every other permission back unchanged.
    let current = api.get_user(&user.id).await.unwrap();
    let keep: Vec<PermissionInput> = current
        .permissions
        .iter()
        .filter(|p| !(p.role_id == grant.role_id && p.resources == grant.resources))
        .map(|p| p.to_input())
        .collect();
    assert_eq!(keep.len(), user.permissions.len());
    let after_replace = api.replace_user_permissions(&user.id, &keep).await.unwrap();
    assert_eq!(after_replace.len(), keep.len());
    let stored = server
        .workspace()
        .users
        .into_iter()
        .find(|u| u.id == user.id)
        .unwrap();
    assert_eq!(
        shape(&stored.permissions),
        shape(&user.permissions),
        "labels and resources written back unchanged"
    );
    let log = server.request_log();
    assert_eq!(log.last().unwrap().method, "PUT");
    assert_eq!(log.last().unwrap().operation, "replacePermissionsForUser");
}

#[tokio::test]
async fn groups_listing_and_membership_changes() {
    let server = mock().await;
    let api = client(&server);
    let ws = server.workspace();

    let groups: Vec<_> = api.list_user_groups().try_collect().await.unwrap();
    assert_eq!(groups.len(), ws.groups.len());
    let group = &ws.groups[0];
    let got = api.get_user_group(&group.id).await.unwrap();
    assert_eq!(got.name, group.name);
    assert_eq!(got.member_count, Some(group.members.len() as u64));
    assert_eq!(got.permissions.len(), group.permissions.len());

    let members: Vec<_> = api
        .list_users_from_user_group(&group.id)
        .try_collect()
        .await
        .unwrap();
    let mut emails: Vec<_> = members.iter().map(|m| m.email.to_lowercase()).collect();
    let mut want: Vec<_> = group.members.iter().map(|m| m.to_lowercase()).collect();
    emails.sort();
    want.sort();
    assert_eq!(emails, want);

    let invitees: Vec<String> = api
        .list_invites_from_user_group(&group.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(invitees, group.invites);

    let member = ws.user_by_email(&group.members[0]).unwrap();
    let of_user: Vec<_> = api
        .list_user_groups_from_user(&member.id)
        .try_collect()
        .await
        .unwrap();
    assert!(of_user.iter().any(|g| g.id == group.id));

    // Add a user who is not a member yet, then remove them again.
    let outsider = ws
        .users
        .iter()
        .find(|u| {
            !group
                .members
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&u.email))
        })
        .unwrap();
    let updated = api
        .add_users_to_user_group(&group.id, &[&outsider.email])
        .await
        .unwrap();
    assert_eq!(updated.member_count, Some(group.members.len() as u64 + 1));
    assert!(updated.permissions.is_empty());
    let add = server.request_log().pop().unwrap();
    assert_eq!(
        (add.method.as_str(), add.path.as_str()),
        ("POST", format!("/groups/{}/users", group.id).as_str())
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&add.body).unwrap(),
        serde_json::json!({"emails": [outsider.email]})
    );

    api.remove_users_from_user_group(&group.id, &[&outsider.email])
        .await
        .unwrap();
    let remove = server.request_log().pop().unwrap();
    assert_eq!(remove.method, "DELETE");
    assert_eq!(
        remove.raw_path,
        format!("/group/{}/users", group.id),
        "singular `group`"
    );
    assert_eq!(remove.operation, "removeUsersFromUserGroup");
    assert!(remove.raw_query.starts_with("emails.0="));
    assert!(remove.raw_query.contains("%40"));
    assert_eq!(
        remove.query_param("emails.0"),
        Some(outsider.email.as_str())
    );
    assert_eq!(server.workspace().groups[0].members, group.members);
}

#[tokio::test]
async fn group_permissions_add_and_replace() {
    let server = mock().await;
    let api = client(&server);
    let ws = server.workspace();
    let group = &ws.groups[1];
    let grant = PermissionInput::new(
        MINIMAL_WORKSPACE_ACCESS_ROLE_ID,
        vec![PermissionResource::new(
            ws.id.clone(),
            ResourceKind::Workspace,
        )],
    );
    let added = api
        .add_permissions_to_user_group(&group.id, std::slice::from_ref(&grant))
        .await
        .unwrap();
    assert!(added.iter().any(|p| p.role_id == grant.role_id));
    let current = api.get_user_group(&group.id).await.unwrap();
    let keep: Vec<_> = current
        .permissions
        .iter()
        .filter(|p| p.role_id != grant.role_id || p.resources != grant.resources)
        .map(|p| p.to_input())
        .collect();
    let replaced = api
        .replace_permissions_for_user_group(&group.id, &keep)
        .await
        .unwrap();
    assert_eq!(replaced.len(), keep.len());
    let stored = server
        .workspace()
        .groups
        .into_iter()
        .find(|g| g.id == group.id)
        .unwrap();
    assert_eq!(shape(&stored.permissions), shape(&group.permissions));
    let ops: Vec<(String, String)> = server
        .request_log()
        .into_iter()
        .map(|r| (r.method, r.operation))
        .collect();
    assert!(ops.contains(&("POST".into(), "addPermissionsToUserGroup".into())));
    assert!(ops.contains(&("PUT".into(), "replacePermissionsForUserGroup".into())));
}

#[tokio::test]
async fn roles_invites_and_user_deletion() {
    let server = mock().await;
    let api = client(&server);
    let ws = server.workspace();
    let roles: Vec<_> = api.list_roles().try_collect().await.unwrap();
    assert_eq!(roles.len(), ws.roles.len());
    assert!(
        roles
            .iter()
            .any(|r| r.id == WORKSPACE_OWNER_ROLE_ID && r.name == "Workspace Owner")
    );

    let before: Vec<String> = api.list_invites().try_collect().await.unwrap();
    assert_eq!(before.len(), ws.invites.len());

    let invite = InviteInput {
        email: "new.person+tag@example.com".to_owned(),
        permissions: vec![InvitePermissionInput {
            role_id: MINIMAL_WORKSPACE_ACCESS_ROLE_ID.to_owned(),
            resources: vec![PermissionResource::new(
                ws.id.clone(),
                ResourceKind::Workspace,
            )],
            labels: vec![],
        }],
    };
    let created = api
        .create_invites(std::slice::from_ref(&invite))
        .await
        .unwrap();
    assert_eq!(created, vec![invite.email.clone()]);
    let create = server.request_log().pop().unwrap();
    assert_eq!(
        (
            create.method.as_str(),
            create.operation.as_str(),
            create.status
        ),
        ("POST", "createInvites", 201)
    );
    let after: Vec<String> = api.list_invites().try_collect().await.unwrap();
    assert!(after.contains(&invite.email));

    api.delete_invites(&[&invite.email]).await.unwrap();
    let delete = server.request_log().pop().unwrap();
    assert_eq!(
        (delete.method.as_str(), delete.raw_path.as_str()),
        ("DELETE", "/invites")
    );
    assert_eq!(delete.raw_query, "emails.0=new.person%2Btag%40example.com");
    assert_eq!(delete.query_param("emails.0"), Some(invite.email.as_str()));
    let after: Vec<String> = api.list_invites().try_collect().await.unwrap();
    assert!(!after.contains(&invite.email));

    let (a, b) = (&ws.users[3].id, &ws.users[4].id);
    api.delete_users(&[a, b]).await.unwrap();
    let del = server.request_log().pop().unwrap();
    assert_eq!(
        (del.method.as_str(), del.operation.as_str()),
        ("DELETE", "deleteUsers")
    );
    assert_eq!(del.raw_query, format!("userIds.0={a}&userIds.1={b}"));
    assert_eq!(server.workspace().users.len(), ws.users.len() - 2);
}

#[tokio::test]
async fn resources_sources_warehouses_functions_spaces() {
    let server = mock().await;
    let api = client(&server);
    let ws = server.workspace();

    let sources: Vec<_> = api.list_sources().try_collect().await.unwrap();
    assert_eq!(sources.len(), ws.sources.len());
    for (got, want) in sources.iter().zip(&ws.sources) {
        assert_eq!(
            (got.id.as_str(), got.slug.as_str(), got.enabled),
            (want.id.as_str(), want.slug.as_str(), want.enabled)
        );
        assert_eq!(got.workspace_id, ws.id);
        assert_eq!(
            got.metadata_name.as_deref(),
            Some(want.metadata.name.as_str())
        );
        for key in &want.write_keys {
            assert!(
                !format!("{got:?}").contains(key.as_str()),
                "write keys are not kept"
            );
        }
    }

    let warehouses: Vec<_> = api.list_warehouses().try_collect().await.unwrap();
    assert_eq!(warehouses.len(), ws.warehouses.len());
    for (got, want) in warehouses.iter().zip(&ws.warehouses) {
        assert_eq!(
            got.display_name.as_deref(),
            want.settings.get("name").and_then(|v| v.as_str())
        );
        assert_eq!(
            got.metadata.as_ref().map(|m| m.slug.as_str()),
            Some(want.metadata.slug.as_str())
        );
    }

    for kind in FunctionKind::ALL {
        let functions: Vec<_> = api
            .list_functions(kind.clone())
            .try_collect()
            .await
            .unwrap();
        let want: Vec<_> = ws
            .functions
            .iter()
            .filter(|f| f.resource_type.as_str() == kind.as_str())
            .collect();
        assert_eq!(functions.len(), want.len(), "{kind}");
        assert!(
            functions
                .iter()
                .all(|f| f.resource_type.as_ref() == Some(&kind))
        );
        let req = server.request_log().pop().unwrap();
        assert_eq!(req.query_param("resourceType"), Some(kind.as_str()));
        assert!(
            req.raw_query
                .starts_with(&format!("resourceType={kind}&pagination.count=7"))
        );
    }

    // Alpha endpoint: served as application/vnd.segment.v1alpha+json.
    let spaces: Vec<_> = api.list_spaces().try_collect().await.unwrap();
    assert_eq!(spaces.len(), ws.spaces.len());
    assert!(
        spaces
            .iter()
            .zip(&ws.spaces)
            .all(|(a, b)| a.id == b.id && a.slug == b.slug && a.name == b.name)
    );
}

#[tokio::test]
async fn streams_and_pages_count_requests_exactly() {
    let server = mock().await;
    let api = builder(&server).page_size(1).build().unwrap();
    let ws = server.workspace();
    let n = api.list_roles().count().await;
    assert_eq!(n, ws.roles.len());
    assert_eq!(
        server.counters().per_operation.get("listRoles").copied(),
        Some(ws.roles.len() as u64)
    );
}

#[test]
fn public_types_are_thread_safe() {
    fn check<T: Send + Sync + 'static>() {}
    check::<segment_api::Client>();
    check::<segment_api::Error>();
    check::<segment_api::Page<segment_api::User>>();
    fn clone<T: Clone>() {}
    clone::<segment_api::Client>();
}
