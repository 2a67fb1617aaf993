//! Settings of the service runner (the CLI fills them from flags and `BATON_*` variables).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::host::{Build, default_host_id};

/// The variable replacing the tenant host of the client id (token URL and gRPC target).
pub const API_HOST_ENV: &str = "BATON_C1_API_HOST";

/// Default `--task-concurrency`.
pub const DEFAULT_TASK_CONCURRENCY: usize = 3;
/// Largest `--task-concurrency`.
pub const MAX_TASK_CONCURRENCY: usize = 100;
/// Default time running tasks get to finish after SIGTERM/SIGINT.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(25);
/// Shortest wait between GetTask calls that returned no task (a `next_poll` of zero would
/// otherwise spin).
pub const DEFAULT_MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Everything [`crate::run`] needs besides the connector. `Debug` never shows the secret.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// `--client-id`: `<name>@<tenant host>/<suffix>`.
    pub client_id: String,
    /// `--client-secret`: `secret-token:conductorone.com:v1:…`.
    pub client_secret: String,
    /// `BATON_C1_API_HOST`: replaces the tenant host (token URL and gRPC target), not the
    /// JWT audience.
    pub api_host: Option<String>,
    /// `BATON_HOST_ID` (default: hostname), sent on every call.
    pub host_id: String,
    /// `--provisioning`: carry out grant/revoke/create-account/delete-resource tasks.
    pub provisioning: bool,
    /// `--skip-full-sync`: sync tasks upload an empty sync.
    pub skip_full_sync: bool,
    /// `--task-concurrency` (1…100).
    pub task_concurrency: usize,
    /// `--c1z-temp-dir`: where sync tasks write their c1z (must exist).
    pub temp_dir: PathBuf,
    /// `--sync-resource-types`: used when a sync task names none.
    pub sync_resource_types: Vec<String>,
    /// PEM certificates trusted in addition to the compiled-in Mozilla roots (a fake
    /// tenant's CA in tests and demos; not something ConductorOne needs).
    pub extra_ca_pem: Option<Vec<u8>>,
    /// `--health-check` bind address, if the health endpoints are wanted.
    pub health: Option<SocketAddr>,
    /// How long running tasks may finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Floor of the wait between polls that returned no task.
    pub min_poll_interval: Duration,
    /// The connector's build, reported in Hello.
    pub build: Build,
    /// Source of every wait (tests record them).
    pub clock: Arc<dyn Clock>,
}

impl ServiceConfig {
    /// Defaults for everything but the credentials and the build.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        build: Build,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            api_host: std::env::var(API_HOST_ENV)
                .ok()
                .filter(|s| !s.trim().is_empty()),
            host_id: default_host_id(),
            provisioning: false,
            skip_full_sync: false,
            task_concurrency: DEFAULT_TASK_CONCURRENCY,
            temp_dir: std::env::temp_dir(),
            sync_resource_types: Vec::new(),
            extra_ca_pem: None,
            health: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            min_poll_interval: DEFAULT_MIN_POLL_INTERVAL,
            build,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("api_host", &self.api_host)
            .field("host_id", &self.host_id)
            .field("provisioning", &self.provisioning)
            .field("skip_full_sync", &self.skip_full_sync)
            .field("task_concurrency", &self.task_concurrency)
            .field("temp_dir", &self.temp_dir)
            .field("sync_resource_types", &self.sync_resource_types)
            .field("extra_ca_pem", &self.extra_ca_pem.as_ref().map(Vec::len))
            .field("health", &self.health)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("min_poll_interval", &self.min_poll_interval)
            .field("build", &self.build)
            .finish_non_exhaustive()
    }
}
