//! Service mode (`--client-id` / `BATON_CLIENT_ID` set): the Segment connector run by the
//! connector-agnostic `baton-service` runner against a ConductorOne tenant, configured from
//! the standard baton flags and `BATON_*` variables; and the one-command demo of it.

mod connector;
mod demo;

use std::net::{IpAddr, SocketAddr};

use anyhow::Context as _;
use baton_service::{Build, ServiceConfig};
use segment_provision::{ProvisionOptions, Provisioner};

use crate::cli::Cli;
use crate::connect::{self, Target};

pub(crate) use connector::SegmentService;
pub(crate) use demo::run as demo;

/// `BATON_HOST_ID`-style default for the health endpoints' bind address.
const DEFAULT_HEALTH_BIND: &str = "127.0.0.1";

/// What the Hello reports as the connector's build.
pub(crate) fn build() -> Build {
    Build {
        package: "segment-cli".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// Runs service mode until SIGTERM/SIGINT (exit 0) or a fatal error (exit 1, one line).
pub(crate) async fn run(cli: &Cli) -> anyhow::Result<u8> {
    let compat = &cli.compat;
    let client_id = compat.client_id.clone().unwrap_or_default();
    let client_secret = compat
        .client_secret
        .clone()
        .filter(|s| !s.trim().is_empty())
        .context(
            "client-secret is required in service mode (--client-secret or BATON_CLIENT_SECRET)",
        )?;
    // Checked here too (the runner checks again) so a malformed credential is the one line
    // printed, before anything else is set up.
    baton_service::ClientId::parse(&client_id)?;
    baton_service::ClientSecret::parse(&client_secret)?;
    let target = Target::from_flags(&cli.global)?;
    let session = connect::session(&cli.global, &target, None)?;
    let provisioner = Provisioner::new(session.clone(), ProvisionOptions::default());
    let connector = SegmentService::new(
        session,
        provisioner,
        cli.sync.concurrency.map(usize::from),
        cli.global.c1z_temp_dir.clone(),
    );

    let mut config = ServiceConfig::new(client_id, client_secret, build());
    config.provisioning = compat.provisioning;
    config.skip_full_sync = compat.skip_full_sync;
    if let Some(n) = compat.task_concurrency {
        config.task_concurrency = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(dir) = &cli.global.c1z_temp_dir {
        config.temp_dir = dir.clone();
    }
    config.sync_resource_types = cli.sync.sync_resource_types.clone();
    if compat.health_check {
        let bind = compat
            .health_check_bind_address
            .as_deref()
            .unwrap_or(DEFAULT_HEALTH_BIND);
        let ip: IpAddr = bind.parse().with_context(|| {
            format!("--health-check-bind-address {bind:?} is not an IP address")
        })?;
        let port = compat
            .health_check_port
            .unwrap_or(baton_service::DEFAULT_HEALTH_PORT);
        config.health = Some(SocketAddr::new(ip, port));
    }
    // Not something ConductorOne needs (its tenants use public certificates): a fake
    // tenant's CA, trusted through the usual OpenSSL variable.
    if let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) {
        let pem = std::fs::read(&path).with_context(|| {
            format!(
                "reading SSL_CERT_FILE {}",
                std::path::Path::new(&path).display()
            )
        })?;
        config.extra_ca_pem = Some(pem);
    }
    tracing::info!(
        client_id = %config.client_id,
        host_id = %config.host_id,
        provisioning = config.provisioning,
        "service mode: connecting to ConductorOne"
    );
    baton_service::run(config, connector, baton_service::termination_signal()).await?;
    Ok(0)
}
