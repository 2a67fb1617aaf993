//! The session role cache: one listing for many lookups, invalidation, TTL,
//! and name lookups that never guess.

use std::time::Duration;

use futures::future::join_all;
use segment_cache::{Error, SessionConfig};
use segment_mock::{MockConfig, MockServer};

use crate::support::{self, Ticker, mock_requests, workspace_with_n_roles, workspace_with_roles};

const LIST_ROLES: &str = "listRoles";

async fn mock_with_n_roles(n: usize) -> MockServer {
    // A little latency so the concurrent lookups really overlap.
    support::start(MockConfig::new(workspace_with_n_roles(n)).latency(Duration::from_millis(50)))
        .await
}

#[tokio::test(start_paused = true)]
async fn one_listing_serves_fifty_concurrent_lookups() {
    let _ticker = Ticker::start();
    let server = mock_with_n_roles(95).await;
    let session = support::session(&server, 10, SessionConfig::default());

    let lookups = (0..50).map(|i| {
        let session = session.clone();
        async move {
            match i % 3 {
                0 => session.roles().await.map(|r| r.len()),
                1 => session
                    .role_by_name(&format!("role {}", i))
                    .await
                    .map(|r| usize::from(r.id == format!("role-{i:04}"))),
                _ => session
                    .role_by_id(&format!("role-{i:04}"))
                    .await
                    .map(|r| usize::from(r.is_some())),
            }
        }
    });
    let results = join_all(lookups).await;
    for (i, r) in results.into_iter().enumerate() {
        let value = r.unwrap();
        match i % 3 {
            0 => assert_eq!(value, 95),
            _ => assert_eq!(value, 1, "lookup {i}"),
        }
    }

    // One listing = ceil(95 / 10) pages.
    assert_eq!(mock_requests(&server, LIST_ROLES), 10);
    assert_eq!(server.counters().total, 10);
    let stats = session.stats();
    assert_eq!(stats.requests_of(LIST_ROLES), 10);
    assert_eq!(stats.requests, 10);

    // Later lookups are served from the cache.
    session.role_by_name("ROLE 94").await.unwrap();
    assert_eq!(mock_requests(&server, LIST_ROLES), 10);
}

#[tokio::test(start_paused = true)]
async fn roles_keep_the_api_order_and_all_pages() {
    let _ticker = Ticker::start();
    let server = mock_with_n_roles(23).await;
    let session = support::session(&server, 5, SessionConfig::default());
    let roles = session.roles().await.unwrap();
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    let expected: Vec<String> = (0..23).map(|i| format!("role-{i:04}")).collect();
    assert_eq!(ids, expected);
    assert_eq!(mock_requests(&server, LIST_ROLES), 5);
}

#[tokio::test(start_paused = true)]
async fn invalidation_makes_the_next_lookup_list_again() {
    let _ticker = Ticker::start();
    let server = mock_with_n_roles(12).await;
    let session = support::session(&server, 5, SessionConfig::default());
    session.roles().await.unwrap();
    assert_eq!(mock_requests(&server, LIST_ROLES), 3);

    // The workspace changes behind our back; the cache still answers (a
    // miss re-lists only once the list is `role_miss_refresh` old).
    server.set_workspace(workspace_with_roles([("new-role", "Brand New")]));
    assert!(matches!(
        session.role_by_name("Brand New").await,
        Err(Error::RoleNotFound { .. })
    ));
    assert_eq!(mock_requests(&server, LIST_ROLES), 3);

    session.invalidate_roles();
    let found = session.role_by_name("brand new").await.unwrap();
    assert_eq!(found.id, "new-role");
    assert_eq!(mock_requests(&server, LIST_ROLES), 4);

    // Many lookups right after an invalidation still cost one listing.
    session.invalidate_roles();
    let all = join_all((0..20).map(|_| session.roles())).await;
    assert!(all.iter().all(|r| r.as_ref().unwrap().len() == 1));
    assert_eq!(mock_requests(&server, LIST_ROLES), 5);
}

#[tokio::test(start_paused = true)]
async fn ttl_expiry_on_the_paused_clock() {
    let _ticker = Ticker::start();
    let server = mock_with_n_roles(3).await;
    let config = SessionConfig::default().with_role_ttl(Duration::from_secs(600));
    let session = support::session(&server, 100, config);
    assert_eq!(session.role_ttl(), Duration::from_secs(600));

    session.roles().await.unwrap();
    assert_eq!(mock_requests(&server, LIST_ROLES), 1);

    tokio::time::advance(Duration::from_secs(590)).await;
    session.roles().await.unwrap();
    assert_eq!(mock_requests(&server, LIST_ROLES), 1, "still fresh");

    tokio::time::advance(Duration::from_secs(15)).await;
    let again = join_all((0..10).map(|_| session.role_by_id("role-0002"))).await;
    assert!(again.iter().all(|r| r.as_ref().unwrap().is_some()));
    assert_eq!(
        mock_requests(&server, LIST_ROLES),
        2,
        "expired once, listed once"
    );

    session.roles().await.unwrap();
    assert_eq!(mock_requests(&server, LIST_ROLES), 2);
}

#[tokio::test(start_paused = true)]
async fn zero_ttl_is_rejected() {
    let server = mock_with_n_roles(1).await;
    let builder = segment_api::Client::builder(segment_api::Token::new(server.token()))
        .base_url(server.base_url());
    let config = SessionConfig::default().with_role_ttl(Duration::ZERO);
    assert!(matches!(
        segment_cache::Session::from_builder(builder, config),
        Err(Error::InvalidConfig(_))
    ));
}

fn lookup_workspace() -> segment_mock::Workspace {
    workspace_with_roles([
        ("r-owner", "Workspace Owner"),
        ("r-src-admin", "Source Admin"),
        ("r-src-admin-2", "SOURCE ADMIN"),
        ("r-src-read", "Source Read-only"),
        ("r-unicode", "Ärger Ölmanager"),
        ("r-space", "Engage Admin"),
    ])
}

#[tokio::test(start_paused = true)]
async fn name_lookup_is_case_insensitive_and_exact() {
    let _ticker = Ticker::start();
    let server = support::start(MockConfig::new(lookup_workspace())).await;
    let session = support::session(&server, 100, SessionConfig::default());

    assert_eq!(
        session.role_by_name("workspace owner").await.unwrap().id,
        "r-owner"
    );
    assert_eq!(
        session.role_by_name("WORKSPACE OWNER").await.unwrap().id,
        "r-owner"
    );
    assert_eq!(
        session.role_by_name("ärger ÖLMANAGER").await.unwrap().id,
        "r-unicode"
    );
    // Exact: no substring, prefix or whitespace-trimmed matches.
    for miss in [
        "Workspace",
        "Owner",
        " Workspace Owner",
        "Source Read",
        "Nope",
    ] {
        match session.role_by_name(miss).await {
            Err(Error::RoleNotFound { name }) => assert_eq!(name, miss),
            other => panic!("{miss:?}: {other:?}"),
        }
    }
    assert_eq!(mock_requests(&server, LIST_ROLES), 1);
}

#[tokio::test(start_paused = true)]
async fn ambiguous_names_report_every_candidate() {
    let _ticker = Ticker::start();
    let server = support::start(MockConfig::new(lookup_workspace())).await;
    let session = support::session(&server, 100, SessionConfig::default());

    let err = session.role_by_name("source admin").await.unwrap_err();
    let message = err.to_string();
    match err {
        Error::AmbiguousRole { name, candidates } => {
            assert_eq!(name, "source admin");
            let ids: Vec<&str> = candidates.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(ids, ["r-src-admin", "r-src-admin-2"]);
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert!(message.contains("r-src-admin, r-src-admin-2"), "{message}");
}

#[tokio::test(start_paused = true)]
async fn find_roles_filters_in_api_order() {
    let _ticker = Ticker::start();
    let server = support::start(MockConfig::new(lookup_workspace())).await;
    let session = support::session(&server, 2, SessionConfig::default());

    let source_roles = session
        .find_roles(|r| r.name.to_lowercase().starts_with("source"))
        .await
        .unwrap();
    let ids: Vec<&str> = source_roles.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r-src-admin", "r-src-admin-2", "r-src-read"]);
    assert!(session.find_roles(|_| false).await.unwrap().is_empty());
    assert_eq!(mock_requests(&server, LIST_ROLES), 3);
}

#[tokio::test(start_paused = true)]
async fn a_failed_listing_is_shared_then_retried() {
    let _ticker = Ticker::start();
    let server = support::start(MockConfig::new(lookup_workspace()).token("the-right-token")).await;
    let builder = segment_api::Client::builder(segment_api::Token::new("a-wrong-token"))
        .no_timeout()
        .base_url(server.base_url());
    let session = segment_cache::Session::from_builder(builder, SessionConfig::default()).unwrap();

    let results = join_all((0..10).map(|_| session.roles())).await;
    for r in &results {
        let err = r.as_ref().unwrap_err();
        assert!(
            matches!(err.api(), Some(segment_api::Error::Unauthorized { .. })),
            "{err:?}"
        );
        assert!(!err.to_string().contains("a-wrong-token"));
    }
    assert_eq!(
        mock_requests(&server, LIST_ROLES),
        1,
        "waiters share one failure"
    );

    // Errors are not cached.
    assert!(session.roles().await.is_err());
    assert_eq!(mock_requests(&server, LIST_ROLES), 2);
}

#[tokio::test(start_paused = true)]
async fn a_miss_lists_again_once_the_list_is_a_few_seconds_old() {
    let _ticker = Ticker::start();
    let server = support::start(MockConfig::new(lookup_workspace())).await;
    let session = support::session(&server, 100, SessionConfig::default());
    assert_eq!(
        session.role_miss_refresh(),
        SessionConfig::DEFAULT_ROLE_MISS_REFRESH
    );
    session.roles().await.unwrap();
    assert_eq!(mock_requests(&server, LIST_ROLES), 1);

    // A role is created after the listing.
    let mut ws = server.workspace();
    ws.roles.push(segment_mock::Role {
        id: "r-new".into(),
        name: "Brand New Role".into(),
        description: String::new(),
    });
    server.set_workspace(ws);

    // Right after a listing a miss is answered from the cache...
    assert!(matches!(
        session.role_by_name("brand new role").await,
        Err(Error::RoleNotFound { .. })
    ));
    assert_eq!(session.role_by_id("r-new").await.unwrap(), None);
    assert_eq!(mock_requests(&server, LIST_ROLES), 1);

    // ...once the list is 5 s old, concurrent misses share one new listing.
    tokio::time::advance(Duration::from_secs(6)).await;
    let (by_name, by_id) = futures::join!(
        join_all((0..10).map(|_| session.role_by_name("Brand New Role"))),
        join_all((0..10).map(|_| session.role_by_id("r-new"))),
    );
    assert!(by_name.iter().all(|r| r.as_ref().unwrap().id == "r-new"));
    assert!(by_id.iter().all(|r| r.as_ref().unwrap().is_some()));
    assert_eq!(mock_requests(&server, LIST_ROLES), 2);

    // Real misses re-list at most once per 5 s.
    for _ in 0..5 {
        assert!(session.role_by_id("r-nope").await.unwrap().is_none());
    }
    assert_eq!(mock_requests(&server, LIST_ROLES), 2);
    tokio::time::advance(Duration::from_secs(6)).await;
    let misses = join_all((0..10).map(|_| session.role_by_name("Nope"))).await;
    assert!(
        misses
            .iter()
            .all(|r| matches!(r, Err(Error::RoleNotFound { name }) if name == "Nope"))
    );
    assert_eq!(mock_requests(&server, LIST_ROLES), 3);
    // Hits and ambiguous names never re-list.
    tokio::time::advance(Duration::from_secs(6)).await;
    session.role_by_id("r-owner").await.unwrap().unwrap();
    assert!(matches!(
        session.role_by_name("source admin").await,
        Err(Error::AmbiguousRole { .. })
    ));
    assert_eq!(mock_requests(&server, LIST_ROLES), 3);
}
