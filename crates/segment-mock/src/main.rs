//! `segment-mock` binary: serves a fake Segment Public API on 127.0.0.1 and prints its base URL
//! and (fake) token to stdout.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use segment_mock::{Features, GenSpec, MockConfig, MockServer, Plan, Workspace, generate};

/// Fake Twilio Segment Public API for tests and demos (loopback only).
#[derive(Debug, Parser)]
#[command(name = "segment-mock", version)]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the generated workspace.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Generated users.
    #[arg(long, default_value_t = 25)]
    users: usize,
    /// Generated groups.
    #[arg(long, default_value_t = 4)]
    groups: usize,
    /// Typical members per non-empty group (default: derived from users/groups).
    #[arg(long)]
    memberships_per_group: Option<usize>,
    /// Generated sources.
    #[arg(long, default_value_t = 6)]
    sources: usize,
    /// Generated warehouses.
    #[arg(long, default_value_t = 2)]
    warehouses: usize,
    /// Generated functions of each of the five kinds.
    #[arg(long, default_value_t = 2)]
    functions_per_kind: usize,
    /// Generated spaces.
    #[arg(long, default_value_t = 2)]
    spaces: usize,
    /// Generated pending invites.
    #[arg(long, default_value_t = 3)]
    invites: usize,
    /// Serve this workspace fixture (JSON) instead of a generated one.
    #[arg(long)]
    fixture: Option<PathBuf>,
    /// Write the workspace fixture to this file and exit without serving.
    #[arg(long)]
    dump: Option<PathBuf>,
    /// Team plan (user groups unavailable).
    #[arg(long)]
    team: bool,
    /// Disable the Spaces feature.
    #[arg(long)]
    no_spaces: bool,
    /// Disable the Warehouses feature.
    #[arg(long)]
    no_warehouses: bool,
    /// Disable the Functions feature.
    #[arg(long)]
    no_functions: bool,
    /// Time from a request to its answer, in milliseconds (the mock's own work included).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Read requests per minute (0 = unlimited).
    #[arg(long, default_value_t = 0)]
    read_limit: u32,
    /// Write requests per minute (0 = unlimited).
    #[arg(long, default_value_t = 60)]
    write_limit: u32,
    /// Length of a rate-limit window in milliseconds (the limits above count per window).
    #[arg(long, default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    rate_window_ms: u64,
    /// Also route the plural DELETE /groups/{id}/users.
    #[arg(long)]
    plural_group_delete: bool,
    /// Accept permission resources of unknown types (e.g. DESTINATION) in request bodies.
    #[arg(long)]
    accept_unknown_resource_types: bool,
    /// Bearer token to accept.
    #[arg(long, default_value = segment_mock::DEFAULT_TOKEN)]
    token: String,
}

#[allow(clippy::print_stdout)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let workspace = match &args.fixture {
        Some(path) => Workspace::from_json_file(path)
            .with_context(|| format!("loading fixture {}", path.display()))?,
        None => {
            let mut spec = GenSpec::sized(
                args.users,
                args.groups,
                args.sources,
                args.functions_per_kind,
                args.warehouses,
                args.spaces,
                args.invites,
            )
            .with_seed(args.seed);
            if let Some(m) = args.memberships_per_group {
                spec.memberships_per_group = m;
            }
            generate(&spec)
        }
    };
    if let Some(path) = &args.dump {
        workspace
            .to_json_file(path)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
        return Ok(());
    }
    let limit = |n: u32| (n > 0).then_some(n);
    let config = MockConfig::new(workspace)
        .token(args.token.clone())
        .plan(if args.team {
            Plan::Team
        } else {
            Plan::Business
        })
        .features(Features {
            spaces: !args.no_spaces,
            warehouses: !args.no_warehouses,
            functions: !args.no_functions,
        })
        .latency(Duration::from_millis(args.latency_ms))
        .wall_clock_latency(true)
        .read_limit_per_min(limit(args.read_limit))
        .write_limit_per_min(limit(args.write_limit))
        .rate_window(Duration::from_millis(args.rate_window_ms))
        .plural_group_delete(args.plural_group_delete)
        .accept_unknown_resource_types(args.accept_unknown_resource_types);
    let server = MockServer::start_on_port(config, args.port).await?;
    println!("base_url={}", server.base_url());
    println!("token={}", server.token());
    println!("admin={}/__admin/counters", server.base_url());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    server.shutdown().await;
    Ok(())
}
