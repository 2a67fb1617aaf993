//! `cargo xtask bench sync-matrix`: the sync of the 2,000-user benchmark workspace against the
//! `segment-mock` binary under server read limits of 300, 600, 1,200 and 6,000 requests a
//! minute and none, at 20 ms and 150 ms of latency, run with the CLI's defaults only (no
//! tuning flags). Writes the table between the `sync-matrix` markers of docs/BENCHMARKS.md.
//!
//! Each cell: wall time of the `segment-cli sync` process, the bound
//! `max(requests / limit, requests × latency / concurrency)` with the CLI's default
//! concurrency, the requests the sync made and the 429 answers it received (both from its
//! `--output json` summary), and its `pace` line.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::bench::{cargo, run_cmd};

/// Server read limits per minute (`None` = no limit).
const LIMITS: &[Option<u32>] = &[Some(300), Some(600), Some(1200), Some(6000), None];
/// Per-request latency of the fake server, in milliseconds.
const LATENCIES_MS: &[u64] = &[20, 150];
/// The CLI's default `--concurrency` (segment-connector's default).
const DEFAULT_CONCURRENCY: u32 = 16;
/// The workspace: `GenSpec::sized(2000, 20, 200, 10, 10, 5, 100)` as segment-mock flags.
const WORKSPACE: &[&str] = &[
    "--users",
    "2000",
    "--groups",
    "20",
    "--sources",
    "200",
    "--functions-per-kind",
    "10",
    "--warehouses",
    "10",
    "--spaces",
    "5",
    "--invites",
    "100",
];
const TOKEN: &str = "sync-matrix-token";
const BEGIN: &str = "<!-- sync-matrix:begin (written by `cargo xtask bench sync-matrix`) -->";
const END: &str = "<!-- sync-matrix:end -->";

/// One measured cell.
struct Cell {
    latency_ms: u64,
    limit: Option<u32>,
    wall: Duration,
    requests: u64,
    rate_limited: u64,
    pace: String,
    failure: Option<String>,
}

impl Cell {
    fn bound(&self) -> Duration {
        let requests = self.requests as f64;
        let by_limit = self.limit.map_or(0.0, |l| requests * 60.0 / f64::from(l));
        let by_latency =
            requests * (self.latency_ms as f64 / 1000.0) / f64::from(DEFAULT_CONCURRENCY);
        Duration::from_secs_f64(by_limit.max(by_latency))
    }

    fn row(&self) -> String {
        let limit = self
            .limit
            .map_or_else(|| "none".to_owned(), |l| format!("{l}/min"));
        if let Some(failure) = &self.failure {
            return format!(
                "| {} ms | {limit} | FAILED: {failure} | | | | | |",
                self.latency_ms
            );
        }
        let bound = self.bound();
        let ratio = self.wall.as_secs_f64() / bound.as_secs_f64().max(f64::EPSILON);
        let share = 100.0 * self.rate_limited as f64 / (self.requests.max(1) as f64);
        format!(
            "| {} ms | {limit} | {:.1} s | {:.1} s | {ratio:.2} | {} | {} ({share:.2}%) | {} |",
            self.latency_ms,
            self.wall.as_secs_f64(),
            bound.as_secs_f64(),
            self.requests,
            self.rate_limited,
            self.pace
        )
    }
}

pub(crate) fn run() -> anyhow::Result<()> {
    let root = crate::project_root();
    run_cmd(Command::new(cargo()).current_dir(&root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "segment-cli",
        "-p",
        "segment-mock",
    ]))?;
    let bin = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("release");
    let mut rows = Vec::new();
    for &latency_ms in LATENCIES_MS {
        for &limit in LIMITS {
            let cell = measure(&bin, latency_ms, limit)?;
            let row = cell.row();
            eprintln!("{row}");
            rows.push(row);
        }
    }
    let doc = root.join("docs/BENCHMARKS.md");
    write_table(&doc, &rows)?;
    eprintln!("wrote the table into {}", doc.display());
    Ok(())
}

fn measure(bin: &Path, latency_ms: u64, limit: Option<u32>) -> anyhow::Result<Cell> {
    let mut mock = Command::new(bin.join("segment-mock"));
    mock.args(WORKSPACE)
        .args(["--token", TOKEN, "--write-limit", "60"])
        .args(["--latency-ms", &latency_ms.to_string()])
        .args(["--read-limit", &limit.unwrap_or(0).to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut mock = Mock(mock.spawn().context("starting segment-mock")?);
    let base_url = mock.base_url()?;

    let dir = std::env::temp_dir().join(format!(
        "sync-matrix-{}-{latency_ms}-{}",
        std::process::id(),
        limit.unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut cli = Command::new(bin.join("segment-cli"));
    cli.current_dir(&dir)
        .args(["sync", "-f", "sync.c1z", "--output", "json"])
        .args(["--base-url", &base_url, "--token", TOKEN]);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BATON_") {
            cli.env_remove(key);
        }
    }
    eprintln!("$ {cli:?}");
    let start = Instant::now();
    let out = cli.output().context("running segment-cli")?;
    let wall = start.elapsed();
    drop(mock);
    let _ = std::fs::remove_dir_all(&dir);

    let mut cell = Cell {
        latency_ms,
        limit,
        wall,
        requests: 0,
        rate_limited: 0,
        pace: String::new(),
        failure: None,
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or("").to_owned();
        cell.failure = Some(format!("{} ({last})", out.status));
        return Ok(cell);
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("the sync summary is not JSON")?;
    let number = |key: &str| summary[key].as_u64().with_context(|| format!("no {key}"));
    cell.requests = number("requests")?;
    cell.rate_limited = number("rate_limited")?;
    cell.pace = summary["pace"].as_str().unwrap_or("").to_owned();
    Ok(cell)
}

/// The segment-mock child, killed when dropped.
struct Mock(Child);

impl Mock {
    fn base_url(&mut self) -> anyhow::Result<String> {
        let stdout = self.0.stdout.take().context("segment-mock has no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        while let Some(line) = lines.next() {
            let line = line.context("reading segment-mock's output")?;
            if let Some(url) = line.strip_prefix("base_url=") {
                // Keep reading what it prints next: a closed pipe would kill it mid-run.
                std::thread::spawn(move || lines.for_each(drop));
                return Ok(url.to_owned());
            }
        }
        bail!("segment-mock exited without printing its base_url")
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write_table(doc: &Path, rows: &[String]) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(doc).with_context(|| format!("reading {}", doc.display()))?;
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        bail!("{} lacks the sync-matrix markers", doc.display());
    };
    let mut table = String::new();
    table.push_str(BEGIN);
    table.push_str(
        "\n| latency | server read limit | wall time | bound | wall / bound | requests | 429s | pace (the sync's summary line) |\n|---|---|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        table.push_str(row);
        table.push('\n');
    }
    let updated = format!("{}{table}{}", &text[..begin], &text[end..]);
    std::fs::write(doc, updated).with_context(|| format!("writing {}", doc.display()))
}
