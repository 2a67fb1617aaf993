//! Fault injection: resets, 5xx, 429, slow and malformed bodies, dropped pagination, revoked token.

use std::time::Duration;

use segment_mock::Faults;
use serde_json::json;

use crate::common::{Harness, config};

async fn statuses(h: &Harness, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        match h
            .client
            .get(h.url("/roles"))
            .bearer_auth(h.server.token())
            .send()
            .await
        {
            Ok(r) => out.push(r.status().as_u16()),
            Err(_) => out.push(0),
        }
    }
    out
}

#[tokio::test]
async fn faults_are_deterministic_for_a_seed() {
    let faults = Faults {
        rate_429: 0.2,
        rate_5xx: 0.2,
        rate_reset: 0.1,
        seed: 7,
        ..Faults::default()
    };
    let h = Harness::start(config().faults(faults.clone())).await;
    let first = statuses(&h, 60).await;
    h.server.set_faults(faults.clone());
    let second = statuses(&h, 60).await;
    assert_eq!(first, second);
    for code in [0, 200, 429, 500, 503] {
        assert!(first.contains(&code), "{code} missing from {first:?}");
    }
    h.server.set_faults(Faults { seed: 8, ..faults });
    assert_ne!(statuses(&h, 60).await, first);
    let c = h.server.counters();
    assert!(c.faults_injected > 0);
    assert!(c.per_fault["reset"] > 0);
    let log = h.server.request_log();
    assert!(
        log.iter()
            .any(|l| l.status == 0 && l.fault.as_deref() == Some("reset"))
    );
}

#[tokio::test]
async fn reset_closes_without_a_response() {
    let h = Harness::start(config().faults(Faults {
        rate_reset: 1.0,
        ..Faults::default()
    }))
    .await;
    let err = h
        .client
        .get(h.url("/"))
        .bearer_auth(h.server.token())
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status());
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "{err:?}"
    );
    // The server is still alive for a fresh connection once faults are cleared.
    h.server.set_faults(Faults::none());
    assert_eq!(h.get("/").await.status, 200);
}

#[tokio::test]
async fn server_errors_and_injected_429() {
    let h = Harness::start(config().faults(Faults {
        rate_5xx: 1.0,
        ..Faults::default()
    }))
    .await;
    let r = h.get("/").await;
    assert!(r.status == 500 || r.status == 503);
    assert_eq!(r.content_type(), "application/json");
    assert!(!r.errors().is_empty());
    h.server.set_faults(Faults {
        rate_429: 1.0,
        ..Faults::default()
    });
    let r = h.get("/").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.errors()[0]["data"]["msBeforeNext"], 1000);
    // Faulted writes change nothing.
    let before = h.server.workspace();
    h.post("/groups", &json!({"name": "never"})).await;
    assert_eq!(h.server.workspace(), before);
}

#[tokio::test]
async fn malformed_json_bodies() {
    let h = Harness::start(config().faults(Faults {
        malformed_json_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let r = h.get("/users").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "application/vnd.segment.v1+json");
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
}

#[tokio::test(start_paused = true)]
async fn slow_bodies_arrive_in_two_parts() {
    let h = Harness::start(config().faults(Faults {
        slow_body: Some(Duration::from_secs(10)),
        ..Faults::default()
    }))
    .await;
    let start = tokio::time::Instant::now();
    let resp = h
        .client
        .get(h.url("/users"))
        .bearer_auth(h.server.token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let headers_at = start.elapsed();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["data"]["users"].is_array());
    assert!(headers_at < Duration::from_secs(10));
    assert!(start.elapsed() >= Duration::from_secs(10));
}

#[tokio::test]
async fn pagination_dropped_once() {
    let h = Harness::start(config().faults(Faults {
        drop_pagination_once: true,
        ..Faults::default()
    }))
    .await;
    assert!(h.get("/").await.data().get("pagination").is_none());
    let first = h.get("/users").await.data();
    assert!(first.get("pagination").is_none());
    assert!(first["users"].is_array());
    let second = h.get("/users").await.data();
    assert!(second["pagination"]["current"].is_string());
    assert_eq!(h.server.counters().per_fault["drop_pagination"], 1);
}

#[tokio::test]
async fn unauthorized_after_n_requests() {
    let h = Harness::start(config().faults(Faults {
        unauthorized_after: Some(3),
        ..Faults::default()
    }))
    .await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(h.get("/").await.status);
    }
    assert_eq!(codes, vec![200, 200, 200, 401, 401]);
}

#[tokio::test]
async fn read_only_429_with_a_chosen_wait() {
    let h = Harness::start(config().faults(Faults {
        rate_429: 1.0,
        malformed_json_rate: 1.0,
        ms_before_next: Some(25),
        reads_only: true,
        ..Faults::default()
    }))
    .await;
    let r = h.get("/users").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.errors()[0]["data"]["msBeforeNext"], 25);
    // Writes are never faulted: neither refused nor truncated.
    let r = h.post("/groups", &json!({"name": "kept"})).await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_ok());
    assert_eq!(h.server.counters().per_fault.get("429"), Some(&1));
    assert_eq!(h.server.counters().rate_limited, 1);
}
