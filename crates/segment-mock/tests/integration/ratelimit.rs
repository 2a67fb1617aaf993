//! Rate limiting on a paused tokio clock (no real sleeps, no timed assertions).

use std::time::Duration;

use serde_json::json;

use crate::common::{Harness, config};

#[tokio::test(start_paused = true)]
async fn write_bucket_refuses_then_refills() {
    let h = Harness::start(
        config()
            .write_limit_per_min(Some(3))
            .read_limit_per_min(None),
    )
    .await;
    for i in 0..3 {
        let r = h.post("/groups", &json!({"name": format!("g{i}")})).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-ratelimit-consumed"),
            Some((i + 1).to_string().as_str())
        );
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some((2 - i).to_string().as_str())
        );
    }
    tokio::time::advance(Duration::from_secs(20)).await;
    let r = h.post("/groups", &json!({"name": "refused"})).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.content_type(), "application/json");
    let e = &r.errors()[0];
    assert_eq!(e["type"], "RequestError");
    assert_eq!(e["message"], "Too many requests");
    assert_eq!(e["data"]["remainingPoints"], 0);
    assert_eq!(e["data"]["consumedPoints"], 4);
    let ms = e["data"]["msBeforeNext"].as_u64().unwrap();
    assert!((39_000..=40_000).contains(&ms), "{ms}");
    // The refused write did not happen.
    assert!(
        !h.server
            .workspace()
            .groups
            .iter()
            .any(|g| g.name == "refused")
    );
    // Reads have their own (here unlimited) bucket.
    assert_eq!(h.get("/groups").await.status, 200);
    assert_eq!(h.server.counters().rate_limited, 1);

    tokio::time::advance(Duration::from_millis(ms)).await;
    let r = h.post("/groups", &json!({"name": "after"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ratelimit-consumed"), Some("1"));
}

#[tokio::test(start_paused = true)]
async fn read_bucket_is_configurable() {
    let h = Harness::start(config().read_limit_per_min(Some(2))).await;
    assert_eq!(h.get("/").await.status, 200);
    assert_eq!(h.get("/users").await.status, 200);
    let r = h.get("/roles").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.errors()[0]["data"]["msBeforeNext"], 60_000);
    // Writes are unaffected by the read bucket.
    let r = h.post("/groups", &json!({"name": "w"})).await;
    assert_eq!(r.status, 200);
    h.server.set_rate_limits(None, None);
    assert_eq!(h.get("/roles").await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn latency_uses_tokio_time() {
    let h = Harness::start(config().latency(Duration::from_secs(30))).await;
    let start = tokio::time::Instant::now();
    assert_eq!(h.get("/").await.status, 200);
    // The paused clock advanced by the injected latency (virtual time, not wall time).
    assert!(start.elapsed() >= Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn window_length_is_configurable_and_headers_tell_the_truth() {
    let h = Harness::start(
        config()
            .read_limit_per_min(Some(3))
            .rate_window(Duration::from_secs(10)),
    )
    .await;
    let before = std::time::SystemTime::now();
    for i in 1..=3u64 {
        let r = h.get("/users").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-ratelimit-consumed"),
            Some(i.to_string().as_str())
        );
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some((3 - i).to_string().as_str())
        );
        // Reset is an HTTP date about one window ahead (whole seconds).
        let reset = httpdate_parse(r.header("x-ratelimit-reset").unwrap());
        let ahead = reset.duration_since(before).unwrap_or_default();
        assert!(ahead <= Duration::from_secs(12), "{ahead:?}");
    }
    tokio::time::advance(Duration::from_secs(4)).await;
    let r = h.get("/users").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.errors()[0]["data"]["msBeforeNext"], 6_000);
    assert_eq!(r.errors()[0]["data"]["consumedPoints"], 4);
    assert_eq!(h.server.counters().rate_limited, 1);
    tokio::time::advance(Duration::from_secs(6)).await;
    assert_eq!(h.get("/users").await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn limits_are_set_over_the_admin_route() {
    let h = Harness::start(config()).await;
    let limits: segment_mock::RateLimits = h
        .client
        .get(h.url("/__admin/rate-limits"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(limits.read, None, "reads are unlimited by default");
    assert_eq!(limits.window_ms, 60_000);
    let r = h
        .client
        .put(h.url("/__admin/rate-limits"))
        .json(&json!({"read": 1, "write": 5, "window_ms": 2000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        h.server.rate_limits(),
        segment_mock::RateLimits {
            read: Some(1),
            write: Some(5),
            window_ms: 2000
        }
    );
    assert_eq!(h.get("/users").await.status, 200);
    let r = h.get("/users").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.errors()[0]["data"]["msBeforeNext"], 2000);
    let r = h
        .client
        .put(h.url("/__admin/rate-limits"))
        .json(&json!({"read": 1, "window_ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

fn httpdate_parse(s: &str) -> std::time::SystemTime {
    httpdate::parse_http_date(s).unwrap()
}
