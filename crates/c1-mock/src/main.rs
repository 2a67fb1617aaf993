//! `c1-mock`: run the fake ConductorOne tenant on loopback until Ctrl-C.
//!
//! ```text
//! c1-mock [--port N] [--dir DIR] [--sync] [--sync-after SECS]
//! ```
//!
//! Writes `ca.pem` and `client-secret` (mode 0600) into DIR (default: a new temp dir), prints
//! the client id, the `BATON_C1_API_HOST` value and those paths (never the secret itself),
//! with `--sync` queues one sync task at once, with `--sync-after SECS` one after SECS
//! seconds. On Ctrl-C it prints a summary: calls per kind, each task's time from GetTask to
//! FinishTask and its outcome, each upload's size and time, and any protocol violation.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use c1_mock::{C1Mock, MockOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut port = 0u16;
    let mut dir: Option<PathBuf> = None;
    let mut sync = false;
    let mut sync_after: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                port = args
                    .next()
                    .context("--port needs a value")?
                    .parse()
                    .context("--port")?
            }
            "--dir" => dir = Some(args.next().context("--dir needs a value")?.into()),
            "--sync" => sync = true,
            "--sync-after" => {
                sync_after = Some(
                    args.next()
                        .context("--sync-after needs a value")?
                        .parse()
                        .context("--sync-after")?,
                )
            }
            other => {
                bail!("unknown argument {other:?} (usage: c1-mock [--port N] [--dir DIR] [--sync])")
            }
        }
    }
    let mut options = MockOptions::default();
    options.bind = SocketAddr::from(([127, 0, 0, 1], port));
    let mock = C1Mock::start_with(options).await?;
    let dir = match dir {
        Some(d) => {
            std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
            d
        }
        None => tempfile::Builder::new()
            .prefix("c1-mock-")
            .tempdir()?
            .keep(),
    };
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, mock.ca_pem()).with_context(|| format!("writing {}", ca.display()))?;
    let secret = dir.join("client-secret");
    write_private(&secret, mock.client_secret().expose())?;
    if sync {
        mock.push_task(c1_proto::baton::task::TaskType::SyncFull(Default::default()));
    }
    let mut out = std::io::stdout().lock();
    use std::io::Write as _;
    writeln!(out, "c1-mock listening on {}", mock.addr())?;
    writeln!(out, "client id:          {}", mock.client_id())?;
    writeln!(out, "BATON_C1_API_HOST:  {}", mock.api_host())?;
    writeln!(out, "CA certificate:     {}", ca.display())?;
    writeln!(out, "client secret file: {}", secret.display())?;
    drop(out);
    let mock = std::sync::Arc::new(mock);
    if let Some(secs) = sync_after {
        let mock = mock.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
            mock.push_task(c1_proto::baton::task::TaskType::SyncFull(Default::default()));
        });
    }
    tokio::signal::ctrl_c().await?;
    let mut out = std::io::stdout().lock();
    summary(&mock, &mut out)?;
    Ok(())
}

/// Calls per kind, task timings, uploads and violations.
fn summary(mock: &C1Mock, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    use c1_mock::Call;
    let calls = mock.timed_calls();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    let mut handed_out = std::collections::HashMap::new();
    for (at, call) in &calls {
        let kind = match call {
            Call::Token { .. } => "token",
            Call::Hello(_) => "Hello",
            Call::GetTask { task_id } => {
                if let Some(id) = task_id {
                    handed_out.insert(id.clone(), *at);
                }
                "GetTask"
            }
            Call::Heartbeat { .. } => "Heartbeat",
            Call::Upload {
                task_id,
                bytes,
                chunks,
                accepted,
                took,
            } => {
                let secs = took.as_secs_f64();
                writeln!(
                    out,
                    "upload {task_id}: {bytes} bytes in {chunks} chunks, {:.3} s ({:.1} MiB/s), accepted: {accepted}",
                    secs,
                    *bytes as f64 / 1_048_576.0 / secs.max(1e-9)
                )?;
                "UploadAsset"
            }
            Call::FinishTask(f) => {
                let outcome = match &f.final_state {
                    Some(
                        c1_proto::baton::baton_service_finish_task_request::FinalState::Success(_),
                    ) => "success".to_owned(),
                    _ => format!(
                        "error {:?}",
                        f.status.as_ref().map(|s| (s.code, s.message.clone()))
                    ),
                };
                if let Some(start) = handed_out.get(&f.task_id) {
                    writeln!(
                        out,
                        "task {}: GetTask -> FinishTask {:.3} s, {outcome}",
                        f.task_id,
                        at.duration_since(*start).as_secs_f64()
                    )?;
                }
                "FinishTask"
            }
            _ => "other",
        };
        *counts.entry(kind).or_default() += 1;
    }
    writeln!(out, "calls: {counts:?}")?;
    for v in mock.violations() {
        writeln!(out, "VIOLATION: {v}")?;
    }
    Ok(())
}

/// Writes `text` to a new file only the owner can read.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
