//! One sync against segment-mock with per-request latency, for measuring concurrency and
//! memory: prints requests made vs the minimum, wall time and peak RSS (VmHWM of this process).
//!
//! ```text
//! cargo run --release -p segment-connector --example sync_scale -- --concurrency 16
//! ```
//! Options: `--concurrency N` (16), `--latency-ms N` (20), `--users N` (2000),
//! `--groups N` (20), `--sources N` (200), `--functions-per-kind N` (10), `--warehouses N`
//! (10), `--spaces N` (5), `--invites N` (100), `--mock-read-limit N` (per minute; default
//! unlimited), `--client-read-limit N` (per minute, burst 20 like the session default;
//! default unlimited, i.e. the pacer does not throttle).
//!
//! By default the mock runs in this process, so the peak RSS includes the mock's copy of the
//! workspace. With `--base-url URL` (and `--token T`, default segment-mock's) the sync runs
//! against a mock started separately (the `segment-mock` binary, same size flags), so the peak
//! RSS is the connector's alone; the size and latency flags then describe that server and only
//! serve the printout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use segment_api::{Client, Token};
use segment_cache::{PacerConfig, RateLimit, Session, SessionConfig};
use segment_connector::{SyncOptions, sync};
use segment_mock::{DEFAULT_TOKEN, GenSpec, MockConfig, MockServer, generate};

fn arg_str(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn arg(name: &str) -> Option<u64> {
    arg_str(name)?.parse().ok()
}

fn size(name: &str, default: usize) -> Result<usize, std::num::TryFromIntError> {
    arg(name).map_or(Ok(default), usize::try_from)
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
    let users = size("--users", 2000)?;
    let mock_read_limit = arg("--mock-read-limit").map(u32::try_from).transpose()?;
    let client_read_limit = arg("--client-read-limit").map(u32::try_from).transpose()?;

    // Default: 2,000 users, 20 groups, 200 sources, 50 functions (10 per kind),
    // 10 warehouses, 5 spaces, 100 invites.
    let spec = GenSpec::sized(
        users,
        size("--groups", 20)?,
        size("--sources", 200)?,
        size("--functions-per-kind", 10)?,
        size("--warehouses", 10)?,
        size("--spaces", 5)?,
        size("--invites", 100)?,
    );
    let (server, base_url, token) = match arg_str("--base-url") {
        Some(url) => {
            let token = arg_str("--token").unwrap_or_else(|| DEFAULT_TOKEN.to_owned());
            (None, url, token)
        }
        None => {
            let config = MockConfig::new(generate(&spec))
                .latency(latency)
                .wall_clock_latency(true)
                .read_limit_per_min(mock_read_limit);
            let server = MockServer::start(config).await?;
            let (url, token) = (server.base_url(), server.token().to_owned());
            (Some(server), url, token)
        }
    };

    let pacer = PacerConfig::unlimited()
        .with_read(client_read_limit.map(|n| RateLimit::per_minute(n).with_burst(20)));
    let builder = Client::builder(Token::new(token)).base_url(base_url);
    let session = Session::from_builder(builder, SessionConfig::default().with_pacer(pacer))?;

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("scale.c1z");
    let options = SyncOptions::default().with_concurrency(concurrency);
    let started = Instant::now();
    let report = sync(&session, &path, &options).await?;
    let wall = started.elapsed();

    println!(
        "concurrency={concurrency} latency={}ms users={} mock={} requests={} min_requests={} mock_requests={} wall={:.2}s peak_rss={}MiB resources={} entitlements={} grants={} file={}KiB",
        latency.as_millis(),
        report.sizes.users,
        if server.is_some() {
            "in-process"
        } else {
            "external"
        },
        report.requests,
        report.min_requests,
        server
            .as_ref()
            .map_or_else(|| "?".to_owned(), |s| s.counters().total.to_string()),
        wall.as_secs_f64(),
        peak_rss_kib().map_or_else(|| "?".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0)),
        report.resources.values().sum::<u64>(),
        report.entitlements,
        report.grants,
        report.file_bytes / 1024,
    );
    Ok(())
}
