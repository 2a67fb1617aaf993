//! `cargo xtask bench [criterion|scale|all]`: the project's speed and memory measurements.
//!
//! * `criterion` (default): `cargo bench` for the crates that carry criterion benches.
//! * `sync-matrix`: the sync matrix under server rate limits (see the `sync_matrix` module),
//!   which writes its table into docs/BENCHMARKS.md.
//! * `scale`: release builds of the scale examples that produce the figures recorded in
//!   docs/BENCHMARKS.md (1,000,000-grant c1z write/read; a 2,000-user sync against the fake
//!   server with 20 ms latency at several concurrencies), each reporting its own peak RSS.
//!
//! Speed targets are checked here, never by timed assertions in tests.

use std::process::Command;

use anyhow::{Context, bail};

/// Crates with criterion benches (`benches/*.rs`, `harness = false`).
const CRITERION_CRATES: &[&str] = &["baton-c1z", "segment-connector"];

/// Concurrency levels measured by the sync scale run.
const SYNC_CONCURRENCY: &[u32] = &[1, 4, 16, 32];

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Criterion,
    Scale,
    SyncMatrix,
    All,
}

impl Which {
    pub(crate) fn parse(arg: Option<&str>) -> Option<Self> {
        match arg {
            None | Some("criterion") => Some(Self::Criterion),
            Some("scale") => Some(Self::Scale),
            Some("sync-matrix") => Some(Self::SyncMatrix),
            Some("all") => Some(Self::All),
            Some(_) => None,
        }
    }
}

pub(crate) fn run(which: Which) -> anyhow::Result<()> {
    let root = crate::project_root();
    if which == Which::SyncMatrix {
        return crate::sync_matrix::run();
    }
    if matches!(which, Which::Criterion | Which::All) {
        let mut cmd = Command::new(cargo());
        cmd.current_dir(&root).arg("bench");
        for krate in CRITERION_CRATES {
            cmd.args(["-p", krate]);
        }
        run_cmd(&mut cmd)?;
    }
    if matches!(which, Which::Scale | Which::All) {
        run_cmd(Command::new(cargo()).current_dir(&root).args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "baton-c1z",
            "--example",
            "c1z_scale",
            "--",
            "--grants",
            "1000000",
        ]))?;
        for c in SYNC_CONCURRENCY {
            run_cmd(Command::new(cargo()).current_dir(&root).args([
                "run",
                "--release",
                "--quiet",
                "-p",
                "segment-connector",
                "--example",
                "sync_scale",
                "--",
                "--concurrency",
                &c.to_string(),
            ]))?;
        }
    }
    Ok(())
}

pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

pub(crate) fn run_cmd(cmd: &mut Command) -> anyhow::Result<()> {
    eprintln!("$ {cmd:?}");
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}
