//! A generated workspace of 2,000 users through the CLI: referential integrity of the whole
//! file, requests equal to the minimum (checked against the mock's own counters), and the same
//! logical content whatever the concurrency and page size.

use segment_mock::GenSpec;

use crate::c1z;
use crate::common::{self, with_conn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_users_minimum_requests_and_stable_content() {
    let spec = GenSpec::sized(2_000, 40, 30, 3, 4, 3, 50);
    let server = common::start(segment_mock::generate(&spec)).await;
    let dir = tempfile::tempdir().unwrap();

    let mut renders = Vec::new();
    for (file, extra) in [
        ("c16.c1z", ["--concurrency", "16", "--page-size", "1000"]),
        ("c1.c1z", ["--concurrency", "1", "--page-size", "250"]),
    ] {
        server.reset_counters();
        let mut a = with_conn(&server, &["sync", "-f", file, "--output", "json"]);
        a.extend(common::args(&extra));
        let out = common::run(dir.path(), &a).await;
        out.expect_code(0);
        let summary = out.json();
        let requests = summary["requests"].as_u64().unwrap();
        assert_eq!(
            summary["min_requests"].as_u64().unwrap(),
            requests,
            "{summary}"
        );
        assert_eq!(
            server.counters().total,
            requests,
            "the mock saw another count"
        );
        assert_eq!(summary["retries"], 0);
        assert_eq!(summary["resources"]["user"], 2_000);
        assert!(requests > 2_000, "every user is read: {requests}");

        let path = dir.path().join(file);
        let (resources, entitlements, grants) = c1z::check_integrity(&path);
        assert_eq!(
            summary["entitlements"].as_u64().unwrap(),
            entitlements as u64
        );
        assert_eq!(summary["grants"].as_u64().unwrap(), grants as u64);
        let listed: u64 = summary["resources"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(listed, resources as u64);
        renders.push(c1z::render(&path));
    }
    assert!(
        renders[0] == renders[1],
        "concurrency 16 and concurrency 1 wrote different content"
    );
}
