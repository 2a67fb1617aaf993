//! One sync against segment-mock with per-request latency, for measuring concurrency:
//! prints requests made vs the minimum, wall time and peak RSS (VmHWM, which includes the
//! in-process mock server).
//!
//! ```text
//! cargo run --release -p segment-connector --example sync_scale -- --concurrency 16
//! ```
//! Options: `--concurrency N` (16), `--latency-ms N` (20), `--users N` (2000),
//! `--mock-read-limit N` (per minute; default unlimited), `--client-read-limit N` (per
//! minute, burst 20 like the session default; default unlimited, i.e. the pacer does not
//! throttle).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use segment_api::{Client, Token};
use segment_cache::{PacerConfig, RateLimit, Session, SessionConfig};
use segment_connector::{SyncOptions, sync};
use segment_mock::{GenSpec, MockConfig, MockServer, generate};

fn arg(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let concurrency = usize::try_from(arg("--concurrency").unwrap_or(16))?;
    let latency = Duration::from_millis(arg("--latency-ms").unwrap_or(20));
    let users = usize::try_from(arg("--users").unwrap_or(2000))?;
    let mock_read_limit = arg("--mock-read-limit").map(u32::try_from).transpose()?;
    let client_read_limit = arg("--client-read-limit").map(u32::try_from).transpose()?;

    // 2,000 users, 20 groups, 200 sources, 50 functions (10 per kind), 10 warehouses,
    // 5 spaces, 100 invites.
    let workspace = generate(&GenSpec::sized(users, 20, 200, 10, 10, 5, 100));
    let config = MockConfig::new(workspace)
        .latency(latency)
        .read_limit_per_min(mock_read_limit);
    let server = MockServer::start(config).await?;

    let pacer = PacerConfig::unlimited()
        .with_read(client_read_limit.map(|n| RateLimit::per_minute(n).with_burst(20)));
    let builder = Client::builder(Token::new(server.token())).base_url(server.base_url());
    let session = Session::from_builder(builder, SessionConfig::default().with_pacer(pacer))?;

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("scale.c1z");
    let options = SyncOptions::default().with_concurrency(concurrency);
    let started = Instant::now();
    let report = sync(&session, &path, &options).await?;
    let wall = started.elapsed();

    println!(
        "concurrency={concurrency} latency={}ms users={users} requests={} min_requests={} mock_requests={} wall={:.2}s peak_rss={}MiB resources={} entitlements={} grants={} file={}KiB",
        latency.as_millis(),
        report.requests,
        report.min_requests,
        server.counters().total,
        wall.as_secs_f64(),
        peak_rss_kib().map_or_else(|| "?".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0)),
        report.resources.values().sum::<u64>(),
        report.entitlements,
        report.grants,
        report.file_bytes / 1024,
    );
    Ok(())
}
