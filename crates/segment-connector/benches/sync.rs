//! Criterion benchmark: a whole sync of a generated workspace against the in-process mock
//! (no latency, no rate limits), at a few concurrency levels. Measures the engine, the
//! mapping, the HTTP client and the c1z writer together.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use segment_api::{Client, Token};
use segment_cache::{PacerConfig, Session, SessionConfig};
use segment_connector::{SyncOptions, sync};
use segment_mock::{GenSpec, MockConfig, MockServer, generate};

fn bench_sync(c: &mut Criterion) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("cannot build the tokio runtime: {e}"),
    };
    let workspace = generate(&GenSpec::sized(500, 10, 50, 4, 4, 2, 20));
    let server = match rt.block_on(MockServer::start(MockConfig::new(workspace))) {
        Ok(s) => s,
        Err(e) => panic!("cannot start the mock: {e}"),
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("cannot create a temp dir: {e}"),
    };

    let mut group = c.benchmark_group("sync_500_users");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for concurrency in [1usize, 16] {
        group.bench_with_input(
            BenchmarkId::from_parameter(concurrency),
            &concurrency,
            |b, &concurrency| {
                b.iter(|| {
                    let builder =
                        Client::builder(Token::new(server.token())).base_url(server.base_url());
                    let session = match Session::from_builder(
                        builder,
                        SessionConfig::default().with_pacer(PacerConfig::unlimited()),
                    ) {
                        Ok(s) => s,
                        Err(e) => panic!("session: {e}"),
                    };
                    let path = dir.path().join(format!("bench-{concurrency}.c1z"));
                    let _ = std::fs::remove_file(&path);
                    let options = SyncOptions::default().with_concurrency(concurrency);
                    match rt.block_on(sync(&session, &path, &options)) {
                        Ok(report) => black_box(report.grants),
                        Err(e) => panic!("sync failed: {e}"),
                    }
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_sync);
criterion_main!(benches);
