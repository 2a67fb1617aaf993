//! Criterion benchmark: write then read back a c1z of 1 000 000 grants (10 000 users,
//! 1 000 groups, 100 roles). `C1Z_BENCH_GRANTS=N` changes the number of grants.

#[path = "../examples/support/scale_data.rs"]
#[allow(dead_code)]
mod scale_data;

use baton_c1z::{C1zReader, C1zWriter, GrantFilter, ReaderOptions, WriterOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::time::Duration;

fn grants() -> usize {
    std::env::var("C1Z_BENCH_GRANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn write_file(path: &std::path::Path, n: usize) {
    let _ = std::fs::remove_file(path);
    let mut w = C1zWriter::create(path, WriterOptions::default()).expect("create");
    scale_data::write_workspace(&mut w, scale_data::Shape::with_grants(n)).expect("write");
    w.finish().expect("finish");
}

fn bench(c: &mut Criterion) {
    let n = grants();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.c1z");
    let mut group = c.benchmark_group("c1z");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("write_{n}_grants"), |b| {
        b.iter(|| write_file(&path, n))
    });
    write_file(&path, n);
    group.bench_function(format!("read_{n}_grants"), |b| {
        b.iter(|| {
            let reader = C1zReader::open(&path, ReaderOptions::default()).expect("open");
            let view = reader.latest().expect("latest");
            let mut count = 0;
            for g in view.grants(&GrantFilter::default()) {
                std::hint::black_box(g.expect("grant"));
                count += 1;
            }
            assert_eq!(count, n);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
