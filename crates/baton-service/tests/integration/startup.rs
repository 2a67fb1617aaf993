//! §15.3 scenarios 1–3: startup and token caching, a refused token, a transient Hello failure.

use std::time::Duration;

use baton_service::clock::Wait;
use c1_mock::{C1Mock, Call, MockOptions};

use crate::support::{Harness, WAIT};

fn get_tasks(calls: &[Call]) -> usize {
    calls
        .iter()
        .filter(|c| matches!(c, Call::GetTask { .. }))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_fetches_one_token_says_hello_then_polls() {
    let mut h = Harness::start(|_| {}).await;
    assert!(h.mock.wait_until(WAIT, |c| get_tasks(c) >= 3).await);
    h.stop().await.unwrap();
    let calls = h.mock.calls();
    let tokens = calls
        .iter()
        .filter(|c| matches!(c, Call::Token { .. }))
        .count();
    assert_eq!(tokens, 1, "one token for every call (expires_in 3600)");
    assert!(matches!(calls[0], Call::Token { issued: true }));
    let Call::Hello(hello) = &calls[1] else {
        panic!("second call is not Hello: {:?}", calls[1]);
    };
    assert!(hello.task_id.is_empty());
    assert_eq!(hello.host_id, "test-host");
    assert_eq!(
        hello.connector_metadata.as_ref().unwrap().display_name,
        "Test connector"
    );
    assert!(matches!(calls[2], Call::GetTask { .. }));
    // next_poll is 100 ms; an empty queue waits at least the 1 s floor.
    let polls = h.clock.waits(Wait::Poll);
    assert!(
        polls.iter().skip(1).all(|d| *d == Duration::from_secs(1)),
        "{polls:?}"
    );
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realistic_client_id_reaches_the_tenant_through_the_api_host_override() {
    let mut options = MockOptions::default();
    options.client_host = Some("acme.conductor.one".into());
    let mock = C1Mock::start_with(options).await.unwrap();
    let api_host = mock.api_host();
    let mut h = Harness::start_with(mock, |c| c.api_host = Some(api_host)).await;
    assert!(h.mock.client_id().contains("@acme.conductor.one/"));
    assert!(h.mock.wait_until(WAIT, |c| get_tasks(c) >= 1).await);
    h.stop().await.unwrap();
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_ends_the_runner_with_one_clear_line() {
    let mock = C1Mock::start().await.unwrap();
    mock.refuse_tokens(true);
    let mut h = Harness::start_with(mock, |_| {}).await;
    let err = h.join().await.unwrap_err().to_string();
    assert!(
        err.starts_with("ConductorOne refused the credentials"),
        "{err}"
    );
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains('\n'), "{err}");
    assert!(!err.contains(h.mock.client_secret().expose()));
    let calls = h.mock.calls();
    assert!(!calls.iter().any(|c| matches!(c, Call::GetTask { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_retries_after_transient_failures() {
    let mock = C1Mock::start().await.unwrap();
    mock.fail_hello(&[tonic::Code::Unavailable, tonic::Code::Unavailable]);
    let mut h = Harness::start_with(mock, |_| {}).await;
    assert!(h.mock.wait_until(WAIT, |c| get_tasks(c) >= 1).await);
    h.stop().await.unwrap();
    assert_eq!(
        h.clock.waits(Wait::HelloBackoff),
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
    let hellos = h
        .mock
        .calls()
        .iter()
        .filter(|c| matches!(c, Call::Hello(_)))
        .count();
    assert_eq!(hellos, 3);
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fatal_hello_error_ends_the_runner() {
    let mock = C1Mock::start().await.unwrap();
    mock.fail_hello(&[tonic::Code::InvalidArgument]);
    let mut h = Harness::start_with(mock, |_| {}).await;
    let err = h.join().await.unwrap_err().to_string();
    assert!(err.contains("rejected the connector's Hello"), "{err}");
}

#[tokio::test]
async fn malformed_credentials_fail_before_any_network_io() {
    let mock = C1Mock::start().await.unwrap();
    let clock = baton_service::clock::RecordingClock::new(Duration::from_millis(5));
    let temp = tempfile::tempdir().unwrap();
    let mut config = Harness::config(&mock, &clock, temp.path());
    config.client_secret = "secret-token:conductorone.com:v1:not-a-jwk".into();
    let err = baton_service::run(
        config,
        crate::support::TestConnector::default(),
        std::future::pending(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("invalid client secret"), "{err}");
    assert!(!err.contains("not-a-jwk"));
    let mut config = Harness::config(&mock, &clock, temp.path());
    config.client_id = "no-at-sign".into();
    let err = baton_service::run(
        config,
        crate::support::TestConnector::default(),
        std::future::pending(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("invalid client id"), "{err}");
    assert!(mock.calls().is_empty(), "{:?}", mock.calls());
}
