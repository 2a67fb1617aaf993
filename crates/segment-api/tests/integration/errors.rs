//! Error classification against `segment-mock` (and raw faults), and client-side refusals.

use futures::TryStreamExt;
use segment_api::{
    Error, InviteInput, PermissionInput, PermissionResource, ResourceKind, RetryPolicy, Token,
};
use segment_mock::{Faults, MockConfig, Plan};

use crate::canned::{Canned, Reply};
use crate::support::{client, mock, mock_with, workspace};

#[tokio::test]
async fn wrong_token_is_unauthorized_and_never_echoed() {
    let server = mock().await;
    let secret = "wrong-secret-token-value";
    let api = segment_api::Client::builder(Token::new(secret))
        .base_url(server.base_url())
        .build()
        .unwrap();
    let err = api.get_workspace().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unauthorized {
                operation: "getWorkspace",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.status(), Some(401));
    assert!(!err.messages().is_empty());
    assert!(!err.to_string().contains(secret));
    assert!(!format!("{err:?}").contains(secret));
    assert!(!format!("{api:?}").contains(secret));
    assert_eq!(server.counters().total, 1, "401 is not retried");
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let server = mock().await;
    let api = client(&server);
    let err = api.get_user("does-not-exist").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                operation: "getUser",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.messages(), ["Resource not found"]);
    assert!(err.to_string().contains("\"Resource not found\""));
    let err = api
        .list_users_from_user_group("nope")
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::NotFound {
            operation: "listUsersFromUserGroup",
            ..
        }
    ));
}

#[tokio::test]
async fn team_plan_lacks_groups() {
    let server = mock_with(MockConfig::new(workspace()).plan(Plan::Team)).await;
    let api = client(&server);
    let err = api.list_user_groups_page(None).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::PlanLacksFeature {
                operation: "listUserGroups",
                status: 400,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.messages()[0].starts_with("Your plan does not include User Groups"));
    let ws = server.workspace();
    let err = api
        .remove_users_from_user_group("g", &[&ws.users[0].email])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PlanLacksFeature { .. }), "{err}");
    server.set_plan(Plan::Business);
    assert!(api.list_user_groups_page(None).await.is_ok());
}

#[tokio::test]
async fn duplicate_invite_already_exists() {
    let server = mock().await;
    let api = client(&server);
    let ws = server.workspace();
    for email in [ws.invites[0].email.clone(), ws.users[0].email.clone()] {
        let err = api
            .create_invites(&[InviteInput {
                email,
                permissions: vec![],
            }])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::AlreadyExists {
                    operation: "createInvites",
                    status: 400,
                    ..
                }
            ),
            "{err}"
        );
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn unknown_role_is_a_validation_error() {
    let server = mock().await;
    let api = client(&server);
    let ws = server.workspace();
    let bad = PermissionInput::new(
        "no-such-role",
        vec![PermissionResource::new(
            ws.id.clone(),
            ResourceKind::Workspace,
        )],
    );
    let err = api
        .add_user_permissions(&ws.users[0].id, &[bad])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Validation {
                operation: "addPermissionsToUser",
                status: 422,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("no-such-role"), "{err}");
    // An unknown resource kind is sent verbatim and rejected by the server, not the client.
    let odd = PermissionInput::new(
        segment_mock::WORKSPACE_OWNER_ROLE_ID,
        vec![PermissionResource::new(
            ws.id.clone(),
            ResourceKind::Other("AUDIENCE".into()),
        )],
    );
    let err = api
        .add_user_permissions(&ws.users[0].id, &[odd])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Validation { status: 422, .. }),
        "{err}"
    );
    assert!(
        server
            .request_log()
            .last()
            .unwrap()
            .body
            .contains("\"AUDIENCE\"")
    );
}

#[tokio::test]
async fn disabled_feature_is_forbidden() {
    let features = segment_mock::Features {
        spaces: false,
        warehouses: true,
        functions: true,
    };
    let server = mock_with(MockConfig::new(workspace()).features(features)).await;
    let err = client(&server).list_spaces_page(None).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Forbidden {
                operation: "listSpaces",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn malformed_json_is_retried_like_a_transport_error_then_is_decode() {
    let server = mock_with(MockConfig::new(workspace()).faults(Faults {
        malformed_json_rate: 1.0,
        ..Faults::none()
    }))
    .await;
    let err = client(&server).get_workspace().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Decode {
                operation: "getWorkspace",
                ..
            }
        ),
        "{err}"
    );
    // Every attempt of the policy (3) was made: a cut-off body may be whole next time.
    assert_eq!(server.counters().total, 3);
}

#[tokio::test]
async fn page_without_pagination_is_decode_never_a_silent_end() {
    let server = mock_with(MockConfig::new(workspace()).faults(Faults {
        drop_pagination_once: true,
        ..Faults::none()
    }))
    .await;
    let api = client(&server);
    let err = api.list_users_page(None).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Decode {
                operation: "listUsers",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("pagination"), "{err}");
    // Mid-stream: the stream yields the error and ends.
    server.set_faults(Faults {
        drop_pagination_once: true,
        ..Faults::none()
    });
    let results: Vec<_> = futures::StreamExt::collect::<Vec<_>>(api.list_roles()).await;
    assert_eq!(results.len(), 1);
    assert!(matches!(results[0], Err(Error::Decode { .. })));
}

#[tokio::test]
async fn revoked_token_mid_stream_ends_the_stream_with_the_error() {
    let server = mock_with(MockConfig::new(workspace()).faults(Faults {
        unauthorized_after: Some(2),
        ..Faults::none()
    }))
    .await;
    let api = client(&server);
    let results: Vec<_> = futures::StreamExt::collect::<Vec<_>>(api.list_users()).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 14);
    assert!(matches!(
        results.last(),
        Some(Err(Error::Unauthorized { .. }))
    ));
}

#[tokio::test]
async fn client_side_refusals_send_nothing() {
    let server = mock().await;
    let api = client(&server);
    let refusals = [
        api.delete_users(&[]).await.unwrap_err(),
        api.delete_invites(&[]).await.unwrap_err(),
        api.delete_invites(&[""]).await.unwrap_err(),
        api.remove_users_from_user_group("g", &[])
            .await
            .unwrap_err(),
        api.add_users_to_user_group("g", &[]).await.unwrap_err(),
        api.create_invites(&[]).await.unwrap_err(),
        api.add_user_permissions("u", &[]).await.unwrap_err(),
        api.get_user("").await.unwrap_err(),
        api.get_user("..").await.unwrap_err(),
        api.get_user_group(".").await.unwrap_err(),
        api.list_users_from_user_group("")
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err(),
    ];
    for err in refusals {
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    }
    assert_eq!(server.counters().total, 0);
}

#[tokio::test]
async fn error_bodies_from_a_raw_server() {
    let canned = Canned::start(vec![
        Reply::json(422, r#"{"errors":[{"type":"input-validation","message":"\"metadataId\" is required","field":"warehouse.metadataId"},{"type":"input-validation","message":"second"}]}"#),
        Reply::json(409, r#"{"errors":[{"type":"Conflict","message":"conflict"}]}"#),
        Reply::json(413, r#"{"errors":[{"type":"PayloadLimitError","message":"The payload limit size of 25mb has been reached"}]}"#),
        Reply::with_type(200, "text/html", "<html>proxy login</html>"),
        Reply::with_type(200, "application/vnd.segment.v1+json", r#"{"data":{"workspace":{"id":"w","name":"n","slug":"s"}}}"#),
    ])
    .await;
    let api = segment_api::Client::builder(Token::new("t"))
        .base_url(canned.base_url())
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let err = api.get_workspace().await.unwrap_err();
    assert!(matches!(err, Error::Validation { status: 422, .. }));
    assert_eq!(err.messages(), ["\"metadataId\" is required", "second"]);
    assert_eq!(
        err.to_string(),
        r#"Segment getWorkspace: request rejected as invalid (HTTP 422): "\"metadataId\" is required"; "second""#
    );
    assert!(matches!(
        api.get_workspace().await.unwrap_err(),
        Error::UnexpectedStatus { status: 409, .. }
    ));
    assert!(matches!(
        api.get_workspace().await.unwrap_err(),
        Error::UnexpectedStatus { status: 413, .. }
    ));
    let err = api.get_workspace().await.unwrap_err();
    assert!(
        matches!(err, Error::Decode { .. }) && err.to_string().contains("text/html"),
        "{err}"
    );
    assert_eq!(api.get_workspace().await.unwrap().id, "w");
    let seen = canned.requests();
    assert_eq!(seen.len(), 5);
    let first = &seen[0];
    assert_eq!(first.header("authorization"), Some("Bearer t"));
    assert_eq!(first.header("accept"), Some("application/json"));
    assert!(
        first
            .header("user-agent")
            .unwrap()
            .starts_with("baton-segment-rs/")
    );
    assert_eq!(
        first.header("content-type"),
        None,
        "no body, no content type"
    );
}

#[tokio::test]
async fn writes_send_json_content_type() {
    let canned = Canned::start(vec![Reply::json(201, r#"{"data":{"emails":["a@b.c"]}}"#)]).await;
    let api = segment_api::Client::builder(Token::new("t"))
        .base_url(canned.base_url())
        .build()
        .unwrap();
    let out = api
        .create_invites(&[InviteInput {
            email: "a@b.c".into(),
            permissions: vec![],
        }])
        .await
        .unwrap();
    assert_eq!(out, ["a@b.c"]);
    let seen = &canned.requests()[0];
    assert_eq!(
        (seen.method.as_str(), seen.target.as_str()),
        ("POST", "/invites")
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.body, r#"{"invites":[{"email":"a@b.c"}]}"#);
}
