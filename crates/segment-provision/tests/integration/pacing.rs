//! Writes stay within the session's shared write limit (tokio's paused clock).

use segment_api::{Client, RetryPolicy, Token};
use segment_cache::{PacerConfig, RateLimit, Session, SessionConfig};
use segment_mock::{MockConfig, MockServer};
use segment_provision::{Plan, PlanOperation, ProvisionOptions, Provisioner};

use crate::support::{fixture, id};

#[tokio::test(start_paused = true)]
async fn a_plan_never_exceeds_the_write_limit() {
    // Segment (the mock) allows 3 writes a minute; so does the session's pacer.
    let config = MockConfig::new(fixture()).write_limit_per_min(Some(3));
    let server = MockServer::start(config).await.unwrap();
    let builder = Client::builder(Token::new(server.token()))
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::never());
    let pacer = PacerConfig::default()
        .with_write(Some(RateLimit::per_minute(3)))
        .with_read(None);
    let session =
        Session::from_builder(builder, SessionConfig::default().with_pacer(pacer)).unwrap();
    let prov = Provisioner::new(
        session.clone(),
        ProvisionOptions::default().with_concurrency(8),
    );

    let mut plan = Plan::new();
    for principal in [
        "user:u-alice",
        "user:u-bob",
        "user:u-carol",
        "user:u-dave",
        "group:g-ops",
        "group:g-eng",
    ] {
        plan.push(PlanOperation::grant(
            &id("role:r-owner:member"),
            &id(principal),
        ));
    }
    let report = prov.apply(&plan).await;
    assert!(report.is_success(), "{report}");
    assert_eq!(report.writes.len(), 5, "alice already owns the workspace");
    let counters = server.counters();
    assert_eq!(counters.writes, 5);
    assert_eq!(
        counters.rate_limited, 0,
        "the pacer kept every write within the limit"
    );
    assert!(session.stats().pacer_wait > std::time::Duration::ZERO);
}
