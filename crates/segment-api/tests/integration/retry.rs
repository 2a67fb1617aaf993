//! Retries and rate limits on tokio's paused clock (no real sleeps; elapsed time is exact).
//! Clients here opt out of reqwest timeouts (`no_timeout`): auto-advance of the paused
//! clock could fire them.

use std::sync::Arc;
use std::time::Duration;

use segment_api::hooks::Access;
use segment_api::{Client, Error, InviteInput, PermissionInput, RetryPolicy, Token};
use segment_mock::{Faults, MockConfig};
use tokio::time::Instant;

use crate::canned::{Canned, Reply};
use crate::support::{RecordingHook, builder, mock_with, workspace};

fn invite(email: &str) -> InviteInput {
    InviteInput {
        email: email.to_owned(),
        permissions: vec![],
    }
}

fn canned_client(canned: &Canned, hook: Arc<RecordingHook>, retry: RetryPolicy) -> Client {
    Client::builder(Token::new("t"))
        .no_timeout()
        .base_url(canned.base_url())
        .hook(hook)
        .retry_policy(retry)
        .build()
        .unwrap()
}

const POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    base_delay: Duration::from_millis(500),
    max_delay: Duration::from_secs(120),
    rate_limit_budget: Duration::from_secs(600),
};

const WORKSPACE_OK: &str = r#"{"data":{"workspace":{"id":"w","name":"n","slug":"s"}}}"#;

#[tokio::test(start_paused = true)]
async fn mock_write_limit_waits_ms_before_next_then_succeeds() {
    let server = mock_with(MockConfig::new(workspace()).write_limit_per_min(Some(1))).await;
    let hook = RecordingHook::new();
    let api = builder(&server).hook(hook.clone()).build().unwrap();
    api.create_invites(&[invite("first@example.com")])
        .await
        .unwrap();

    let start = Instant::now();
    api.create_invites(&[invite("second@example.com")])
        .await
        .unwrap();
    let elapsed = start.elapsed();

    let limited: Vec<_> = hook
        .afters()
        .into_iter()
        .filter(|a| a.status == Some(429))
        .collect();
    assert_eq!(limited.len(), 1, "{:?}", hook.events());
    let wait = limited[0].retry_after.unwrap();
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    let retries = hook.retries();
    assert_eq!(retries.len(), 1);
    assert_eq!(retries[0].0.operation, "createInvites");
    assert_eq!(retries[0].0.access, Access::Write);
    assert_eq!(retries[0].0.attempt, 1);
    assert_eq!(retries[0].1, wait, "on_retry saw the server's msBeforeNext");
    assert!(elapsed >= wait, "{elapsed:?} < {wait:?}");
    assert!(elapsed < wait + Duration::from_secs(1), "{elapsed:?}");
    // before/after around every attempt, including the retry.
    let attempts: Vec<u32> = hook.befores().iter().map(|b| b.attempt).collect();
    assert_eq!(attempts, [1, 1, 2]);
    assert_eq!(hook.afters().len(), 3);
    assert_eq!(server.counters().rate_limited, 1);
    assert!(
        server
            .workspace()
            .invites
            .iter()
            .any(|i| i.email == "second@example.com")
    );
}

#[tokio::test(start_paused = true)]
async fn canned_ms_before_next_is_exact() {
    let canned = Canned::start(vec![
        Reply::json(429, r#"{"errors":[{"type":"RequestError","message":"Too many requests","data":{"remainingPoints":0,"msBeforeNext":57647,"consumedPoints":21}}]}"#)
            .header("Retry-After", "5"),
        Reply::json(200, WORKSPACE_OK),
    ])
    .await;
    let hook = RecordingHook::new();
    let api = canned_client(&canned, hook.clone(), POLICY);
    let start = Instant::now();
    api.get_workspace().await.unwrap();
    let elapsed = start.elapsed();
    let want = Duration::from_millis(57_647);
    assert_eq!(
        hook.retries().iter().map(|r| r.1).collect::<Vec<_>>(),
        [want]
    );
    assert!(
        elapsed >= want && elapsed < want + Duration::from_secs(1),
        "{elapsed:?}"
    );
    let afters = hook.afters();
    assert_eq!(afters[0].status, Some(429));
    assert_eq!(afters[0].retry_after, Some(want));
    assert_eq!(afters[1].status, Some(200));
    assert_eq!(canned.requests().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn rate_limit_reset_header_then_retry_after_then_backoff() {
    let reset = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
    let canned = Canned::start(vec![
        Reply::json(
            429,
            r#"{"errors":[{"type":"RateLimited","message":"Rate limit exceeded"}]}"#,
        )
        .header("X-RateLimit-Reset", &reset)
        .header("Retry-After", "5"),
        Reply::json(
            429,
            r#"{"errors":[{"type":"RateLimited","message":"Rate limit exceeded"}]}"#,
        )
        .header("Retry-After", "7"),
        Reply::json(429, r#"{"errors":[{"type":"RateLimited"}]}"#),
        Reply::json(200, WORKSPACE_OK),
    ])
    .await;
    let hook = RecordingHook::new();
    let api = canned_client(
        &canned,
        hook.clone(),
        RetryPolicy {
            max_attempts: 4,
            ..POLICY
        },
    );
    api.get_workspace().await.unwrap();
    let delays: Vec<Duration> = hook.retries().iter().map(|r| r.1).collect();
    assert_eq!(delays.len(), 3);
    assert!(
        delays[0] > Duration::from_secs(28) && delays[0] <= Duration::from_secs(30),
        "{:?}",
        delays[0]
    );
    assert_eq!(delays[1], Duration::from_secs(7));
    // Third retry: a 429 without any hint is a failure like any other, the first one, so
    // exponential backoff from the base (500 ms) with equal jitter.
    assert!(
        delays[2] >= Duration::from_millis(250) && delays[2] <= Duration::from_millis(500),
        "{:?}",
        delays[2]
    );
}

#[tokio::test(start_paused = true)]
async fn rate_limit_budget_bounds_the_waits_and_each_wait_is_capped() {
    let canned = Canned::start(vec![Reply::json(
        429,
        r#"{"errors":[{"type":"RequestError","message":"Too many requests","data":{"msBeforeNext":600000}}]}"#,
    )])
    .await;
    let hook = RecordingHook::new();
    let policy = RetryPolicy {
        max_attempts: 1,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(60),
        // One capped wait (60 s) fits, a second one would not.
        rate_limit_budget: Duration::from_secs(90),
    };
    let api = canned_client(&canned, hook.clone(), policy);
    let err = api.create_invites(&[invite("a@b.c")]).await.unwrap_err();
    match &err {
        Error::RateLimited {
            operation,
            retry_after,
            messages,
        } => {
            assert_eq!(*operation, "createInvites");
            assert_eq!(*retry_after, Some(Duration::from_secs(600)));
            assert_eq!(messages, &["Too many requests"]);
        }
        other => panic!("{other}"),
    }
    assert!(err.is_retryable());
    assert_eq!(
        canned.requests().len(),
        2,
        "POST retried on 429 (not counted as a failed attempt), within the budget"
    );
    assert_eq!(
        hook.retries().iter().map(|r| r.1).collect::<Vec<_>>(),
        [Duration::from_secs(60)]
    );
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_for_get_put_delete_but_not_post() {
    let server = mock_with(MockConfig::new(workspace()).faults(Faults {
        rate_5xx: 1.0,
        ..Faults::none()
    }))
    .await;
    let api = builder(&server).build().unwrap();
    let ws = server.workspace();

    let err = api.get_workspace().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Server {
                operation: "getWorkspace",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(server.counters().total, 3, "GET: all 3 attempts");

    server.reset_counters();
    let err = api
        .create_invites(&[invite("x@example.com")])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Server {
                operation: "createInvites",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(server.counters().total, 1, "POST is never retried on 5xx");
    assert!(err.is_retryable() && !err.is_safe_to_repeat());

    server.reset_counters();
    api.replace_user_permissions(&ws.users[0].id, &Vec::<PermissionInput>::new())
        .await
        .unwrap_err();
    assert_eq!(server.counters().total, 3, "PUT replace is retried");

    server.reset_counters();
    api.delete_invites(&["x@example.com"]).await.unwrap_err();
    assert_eq!(server.counters().total, 3, "DELETE is retried");
}

#[tokio::test(start_paused = true)]
async fn transient_server_error_then_success() {
    let canned = Canned::start(vec![
        Reply::json(
            503,
            r#"{"errors":[{"type":"ServiceUnavailable","message":"busy"}]}"#,
        ),
        Reply::json(502, "bad gateway"),
        Reply::with_type(200, "application/vnd.segment.v1+json", WORKSPACE_OK),
    ])
    .await;
    let hook = RecordingHook::new();
    let api = canned_client(&canned, hook.clone(), POLICY);
    assert_eq!(api.get_workspace().await.unwrap().id, "w");
    let statuses: Vec<_> = hook.afters().iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(503), Some(502), Some(200)]);
    assert_eq!(hook.retries().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn connection_reset_after_sending_may_have_reached_the_server() {
    let server = mock_with(MockConfig::new(workspace()).faults(Faults {
        rate_reset: 1.0,
        ..Faults::none()
    }))
    .await;
    let api = builder(&server).build().unwrap();
    let err = api.get_workspace().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                may_have_reached_server: true,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_safe_to_repeat(), "a GET may be repeated");
    assert_eq!(server.counters().total, 3, "GET retried");
    server.reset_counters();
    let err = api
        .create_invites(&[invite("y@example.com")])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                operation: "createInvites",
                may_have_reached_server: true,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        server.counters().total,
        1,
        "a POST that may have been applied is not repeated"
    );
}

#[tokio::test(start_paused = true)]
async fn dropped_connection_is_not_repeated_for_post() {
    let canned = Canned::start(vec![
        Reply::Drop,
        Reply::json(201, r#"{"data":{"emails":["a@b.c"]}}"#),
    ])
    .await;
    let hook = RecordingHook::new();
    let api = canned_client(&canned, hook.clone(), POLICY);
    let err = api.create_invites(&[invite("a@b.c")]).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                may_have_reached_server: true,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_retryable() && !err.is_safe_to_repeat());
    assert_eq!(canned.requests().len(), 1);
    assert_eq!(hook.afters()[0].status, None);
}

#[tokio::test(start_paused = true)]
async fn connect_failure_did_not_reach_the_server_so_post_is_retried() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let hook = RecordingHook::new();
    let api = Client::builder(Token::new("t"))
        .no_timeout()
        .base_url(format!("http://127.0.0.1:{port}"))
        .hook(hook.clone())
        .retry_policy(POLICY)
        .build()
        .unwrap();
    let err = api.create_invites(&[invite("a@b.c")]).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                may_have_reached_server: false,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_retryable() && err.is_safe_to_repeat());
    assert_eq!(
        hook.befores().len(),
        3,
        "connect failures are safe to retry, even for POST"
    );
    assert!(hook.afters().iter().all(|a| a.status.is_none()));
}

#[tokio::test(start_paused = true)]
async fn an_absurd_rate_limit_reset_is_treated_as_absent() {
    let canned = Canned::start(vec![
        Reply::json(429, r#"{"errors":[{"type":"RateLimited"}]}"#)
            .header("X-RateLimit-Reset", "9223372036854775807")
            .header("Retry-After", "3"),
        Reply::json(200, WORKSPACE_OK)
            .header("X-RateLimit-Remaining", "5")
            .header("X-RateLimit-Reset", "9223372036854775807"),
    ])
    .await;
    let hook = RecordingHook::new();
    let api = canned_client(&canned, hook.clone(), POLICY);
    api.get_workspace().await.unwrap();
    assert_eq!(
        hook.retries().iter().map(|r| r.1).collect::<Vec<_>>(),
        [Duration::from_secs(3)],
        "Retry-After, not a wait until the end of time"
    );
    let afters = hook.afters();
    assert_eq!(afters[0].rate_limit.reset, None);
    assert_eq!(afters[0].retry_after, Some(Duration::from_secs(3)));
    assert_eq!(afters[1].rate_limit.reset, None);
    assert_eq!(afters[1].rate_limit.remaining, Some(5));
}

#[tokio::test(start_paused = true)]
async fn server_errors_wait_for_retry_after_only_never_for_the_rate_limit_reset() {
    let reset = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
    let canned = Canned::start(vec![
        Reply::json(503, r#"{"errors":[{"type":"ServiceUnavailable"}]}"#)
            .header("X-RateLimit-Reset", &reset),
        Reply::json(
            503,
            r#"{"errors":[{"type":"x","data":{"msBeforeNext":45000}}]}"#,
        )
        .header("X-RateLimit-Reset", &reset)
        .header("Retry-After", "3"),
        Reply::json(200, WORKSPACE_OK),
    ])
    .await;
    let hook = RecordingHook::new();
    let api = canned_client(&canned, hook.clone(), POLICY);
    api.get_workspace().await.unwrap();
    let delays: Vec<Duration> = hook.retries().iter().map(|r| r.1).collect();
    assert_eq!(delays.len(), 2);
    // Retry 1 without Retry-After: backoff from 500 ms with equal jitter.
    assert!(
        delays[0] >= Duration::from_millis(250) && delays[0] <= Duration::from_millis(500),
        "{:?}",
        delays[0]
    );
    assert_eq!(delays[1], Duration::from_secs(3));
    assert!(hook.afters().iter().all(|a| a.retry_after.is_none()));
}

#[tokio::test(start_paused = true)]
async fn a_success_whose_body_breaks_off_is_a_transport_failure_for_hooks() {
    let canned = Canned::start(vec![Reply::Truncated {
        status: 200,
        body: r#"{"data":{"work"#.to_owned(),
        declared_len: 500,
    }])
    .await;
    let hook = RecordingHook::new();
    let api = canned_client(&canned, hook.clone(), RetryPolicy::never());
    let err = api.get_workspace().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                may_have_reached_server: true,
                ..
            }
        ),
        "{err}"
    );
    let afters = hook.afters();
    assert_eq!(afters.len(), 1);
    assert_eq!(afters[0].status, None, "counted as a transport failure");
}

#[tokio::test(start_paused = true)]
async fn a_stalled_server_times_out_by_default() {
    let canned = Canned::start(vec![Reply::Stall]).await;
    // Default timeouts (no `no_timeout`); on the paused clock the stall costs no real time.
    let api = Client::builder(Token::new("t"))
        .base_url(canned.base_url())
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let start = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(3600), api.get_workspace())
        .await
        .expect("the client gave up by itself");
    match outcome {
        Err(Error::Transport { source, .. }) => assert!(source.is_timeout(), "{source}"),
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed() <= segment_api::DEFAULT_TIMEOUT);
    assert_eq!(canned.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn many_429s_with_a_wait_do_not_spend_the_retry_count() {
    let too_many = Reply::json(
        429,
        r#"{"errors":[{"type":"RequestError","message":"Too many requests","data":{"remainingPoints":0,"msBeforeNext":1000,"consumedPoints":9}}]}"#,
    );
    let mut script = vec![too_many; 10];
    script.push(Reply::json(
        503,
        r#"{"errors":[{"type":"ServiceUnavailable"}]}"#,
    ));
    script.push(Reply::json(200, WORKSPACE_OK));
    let canned = Canned::start(script).await;
    let hook = RecordingHook::new();
    // Two attempts may fail; ten 429s with a wait come on top.
    let policy = RetryPolicy {
        max_attempts: 2,
        ..POLICY
    };
    let api = canned_client(&canned, hook.clone(), policy);
    let start = Instant::now();
    assert_eq!(api.get_workspace().await.unwrap().id, "w");
    assert_eq!(canned.requests().len(), 12);
    assert!(
        start.elapsed() >= Duration::from_secs(10),
        "waited every msBeforeNext"
    );
}

#[tokio::test(start_paused = true)]
async fn a_read_whose_body_is_cut_off_is_retried() {
    let canned = Canned::start(vec![
        Reply::json(200, r#"{"data":{"workspace":{"id":"w","na"#),
        Reply::json(200, r#"{"data":{"workspace":"#),
        Reply::json(200, WORKSPACE_OK),
    ])
    .await;
    let hook = RecordingHook::new();
    let api = canned_client(&canned, hook.clone(), POLICY);
    assert_eq!(api.get_workspace().await.unwrap().id, "w");
    let statuses: Vec<_> = hook.afters().iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [None, None, Some(200)],
        "counted like transport failures"
    );
    assert_eq!(hook.retries().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn cut_off_bodies_are_retried_a_bounded_number_of_times() {
    let canned = Canned::start(vec![Reply::json(200, r#"{"data":{"work"#)]).await;
    let hook = RecordingHook::new();
    let api = canned_client(&canned, hook.clone(), POLICY);
    let err = api.get_workspace().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert_eq!(canned.requests().len(), 3, "max_attempts");
}

#[tokio::test(start_paused = true)]
async fn a_body_of_the_wrong_shape_is_not_retried() {
    let canned = Canned::start(vec![
        Reply::json(200, r#"{"data":{"workspace":{"id":7}}}"#),
        Reply::json(200, WORKSPACE_OK),
    ])
    .await;
    let hook = RecordingHook::new();
    let api = canned_client(&canned, hook.clone(), POLICY);
    let err = api.get_workspace().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert_eq!(canned.requests().len(), 1);
}
