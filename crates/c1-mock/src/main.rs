//! `c1-mock`: run the fake ConductorOne tenant on loopback until Ctrl-C.
//!
//! ```text
//! c1-mock [--port N] [--dir DIR] [--sync]
//! ```
//!
//! Writes `ca.pem` and `client-secret` (mode 0600) into DIR (default: a new temp dir), prints
//! the client id, the `BATON_C1_API_HOST` value and those paths (never the secret itself), and
//! with `--sync` queues one sync task. On exit it prints the calls it received.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use c1_mock::{C1Mock, MockOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut port = 0u16;
    let mut dir: Option<PathBuf> = None;
    let mut sync = false;
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
    tokio::signal::ctrl_c().await?;
    let mut out = std::io::stdout().lock();
    for call in mock.calls() {
        writeln!(out, "{call:?}")?;
    }
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
