//! Fault injection through the CLI (issue 8): 429 storms with `msBeforeNext`, server errors,
//! connection resets and cut-off bodies together still give a sync identical to a fault-free
//! one, with the default `--retries`.

use segment_mock::{Faults, GenSpec};

use crate::c1z;
use crate::common::{self, with_conn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_with_errors_resets_and_cut_off_bodies_gives_the_fault_free_content() {
    let spec = GenSpec::sized(300, 12, 10, 2, 2, 2, 20);
    let server = common::start(segment_mock::generate(&spec)).await;
    let dir = tempfile::tempdir().unwrap();

    let clean = with_conn(&server, &["sync", "-f", "clean.c1z", "--output", "json"]);
    common::run(dir.path(), &clean).await.expect_code(0);

    server.reset_counters();
    server.set_faults(Faults {
        rate_429: 0.30,
        ms_before_next: Some(20),
        rate_5xx: 0.05,
        rate_reset: 0.02,
        malformed_json_rate: 0.01,
        seed: 8,
        ..Faults::default()
    });
    let faulty = with_conn(&server, &["sync", "-f", "faulty.c1z", "--output", "json"]);
    let out = common::run(dir.path(), &faulty).await;
    out.expect_code(0);
    let summary = out.json();
    let counters = server.counters();
    for kind in ["429", "5xx", "reset", "malformed_json"] {
        assert!(
            counters.per_fault.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} fault was injected: {counters:?}"
        );
    }
    assert!(
        summary["rate_limited"].as_u64().unwrap() > 0,
        "the 429s reached the client: {summary}"
    );

    assert!(
        c1z::render(&dir.path().join("clean.c1z")) == c1z::render(&dir.path().join("faulty.c1z")),
        "the sync under faults wrote other content than the fault-free sync"
    );
}
