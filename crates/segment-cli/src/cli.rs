//! The command-line surface (clap derive): global connection and logging flags, the `sync`
//! default, the provisioning subcommands and the standard baton flags kept for drop-in use.

use std::path::PathBuf;

use clap::builder::{BoolishValueParser, PossibleValuesParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use segment_api::Token;
use segment_scheme as scheme;

pub(crate) use crate::baton_flags::BatonProvisioningArgs;

/// Shown at the end of `segment-cli --help`.
pub(crate) const AFTER_HELP: &str = "\
Without a subcommand (and without a provisioning flag) segment-cli syncs, as baton connectors do.
Every flag can also be set through the environment: --token <-> BATON_TOKEN, --file <-> BATON_FILE,
--sync-resource-types <-> BATON_SYNC_RESOURCE_TYPES (comma-separated), and so on.

Principal of grant/revoke: an id, with its type from --principal-type, else from a `user:`,
`group:` or `invite:` prefix, else looked up, never guessed: the one type the c1z (--file) knows
the id under, else `invite` for an email address, else a Segment user with that id, else a group;
an id found nowhere is an error. A revoke from a principal whose type was looked up fails when
that principal does not exist (with a stated type it is `nothing to do`).

Exit codes:
  0  success: the sync finished, or the change was made (or, with --dry-run, would be made), or
     there was nothing to do (already granted, already revoked, already invited, already a
     member, already gone: the message and --output json's \"noop\" say so); create-account of
     an existing member grants it the requested roles and groups, and of a pending invitation
     ensures its groups and lists the roles it could not apply
  1  failure (one line on stderr says why); for `apply`: at least one operation failed
  2  usage error (unknown flag, bad value, missing argument)
  3  only with --detailed-exitcode: nothing to do (for `apply`: 0 when every operation
     succeeded, whatever their kind)";

/// Sync a Twilio Segment workspace into a Baton .c1z file, and provision access.
#[derive(Debug, Parser)]
#[command(
    name = "segment-cli",
    bin_name = "segment-cli",
    version,
    about,
    long_about = "Sync a Twilio Segment workspace's access graph (users, groups, roles, invites, \
                  sources, warehouses, functions, spaces, their entitlements and grants) into a \
                  Baton .c1z file, and grant, revoke, invite and remove access.",
    after_help = AFTER_HELP
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,

    /// Sync flags, for the default command (no subcommand).
    #[command(flatten)]
    pub(crate) sync: SyncArgs,

    #[command(flatten)]
    pub(crate) baton: BatonProvisioningArgs,

    #[command(flatten)]
    pub(crate) compat: CompatArgs,

    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// Connection, file, logging and output flags (accepted by every command).
#[derive(Debug, Clone, Args)]
pub(crate) struct GlobalArgs {
    /// Segment Public API token (a Workspace Owner token; writes need write scopes).
    #[arg(long, env = "BATON_TOKEN", hide_env_values = true, global = true, value_parser = parse_token)]
    pub(crate) token: Option<Token>,

    /// The .c1z file to write (sync), to read (review commands) or to resolve principal types
    /// from (provisioning) [default: sync.c1z; demo.c1z for a demo sync].
    #[arg(
        short = 'f',
        long,
        env = "BATON_FILE",
        global = true,
        value_name = "FILE"
    )]
    pub(crate) file: Option<PathBuf>,

    /// Provisioning commands (and the baton provisioning flags): read everything, print the
    /// API writes that would be made, and make none. Given before or after the subcommand, or
    /// through BATON_DRY_RUN (1/0, true/false, yes/no, on/off).
    #[arg(
        long,
        env = "BATON_DRY_RUN",
        global = true,
        value_parser = BoolishValueParser::new()
    )]
    pub(crate) dry_run: bool,

    /// Segment region of the workspace [default: us].
    #[arg(
        long,
        env = "BATON_REGION",
        value_enum,
        global = true,
        conflicts_with = "base_url"
    )]
    pub(crate) region: Option<RegionArg>,

    /// API base URL instead of a region (https; http only to loopback, e.g. segment-mock).
    #[arg(long, env = "BATON_BASE_URL", global = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,

    /// Log level.
    #[arg(
        long,
        env = "BATON_LOG_LEVEL",
        value_enum,
        default_value_t = LogLevel::Info,
        global = true
    )]
    pub(crate) log_level: LogLevel,

    /// Log format (logs go to stderr) [default: console when stdout is a terminal, else json].
    #[arg(long, env = "BATON_LOG_FORMAT", value_enum, global = true)]
    pub(crate) log_format: Option<LogFormat>,

    /// Directory for temporary files (must exist) [default: the OS temp dir].
    #[arg(long, env = "BATON_C1Z_TEMP_DIR", global = true, value_name = "DIR")]
    pub(crate) c1z_temp_dir: Option<PathBuf>,

    /// Format of the command's result on stdout.
    #[arg(
        long,
        env = "BATON_OUTPUT",
        value_enum,
        default_value_t = OutputFormat::Text,
        global = true
    )]
    pub(crate) output: OutputFormat,

    /// Exit 3 (instead of 0) when a grant, revoke, create-account or delete had nothing to do
    /// (already granted, revoked, invited, a member, gone), as Terraform's -detailed-exitcode.
    #[arg(long, global = true)]
    pub(crate) detailed_exitcode: bool,

    /// Timeout of one HTTP request, in seconds.
    #[arg(
        long,
        env = "BATON_HTTP_TIMEOUT_SECONDS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..=1800),
        global = true,
        value_name = "SECONDS"
    )]
    pub(crate) http_timeout_seconds: u64,

    /// Retries of a failed request (5xx, network errors, cut-off response bodies, a 429 that
    /// does not say how long to wait; writes only when safe). A 429 that says how long to
    /// wait is not a failure: it is waited out without using a retry (see
    /// --rate-limit-wait-seconds).
    #[arg(
        long,
        env = "BATON_RETRIES",
        default_value_t = 4,
        value_parser = clap::value_parser!(u32).range(0..=20),
        global = true,
        value_name = "N"
    )]
    pub(crate) retries: u32,

    /// Longest total time one request may wait on 429 answers that say how long to wait
    /// (Segment's msBeforeNext) before the command fails.
    #[arg(
        long,
        env = "BATON_RATE_LIMIT_WAIT_SECONDS",
        default_value_t = 900,
        value_parser = clap::value_parser!(u64).range(0..=86_400),
        global = true,
        value_name = "SECONDS"
    )]
    pub(crate) rate_limit_wait_seconds: u64,

    /// Client-side limit of read requests per minute [default: none: reads go at full
    /// concurrency, paced by the server's rate-limit headers and 429 answers, which are
    /// followed either way].
    #[arg(
        long,
        env = "BATON_MAX_READS_PER_MINUTE",
        global = true,
        value_name = "N"
    )]
    pub(crate) max_reads_per_minute: Option<u32>,

    /// Client-side limit of write requests per minute (0 = none) [default: 60, Segment's
    /// documented limit].
    #[arg(
        long,
        env = "BATON_MAX_WRITES_PER_MINUTE",
        global = true,
        value_name = "N"
    )]
    pub(crate) max_writes_per_minute: Option<u32>,
}

/// Flags of a sync.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct SyncArgs {
    /// Requests in flight at once [default: the engine's default].
    #[arg(long, env = "BATON_CONCURRENCY", value_parser = clap::value_parser!(u16).range(1..=256), value_name = "N")]
    pub(crate) concurrency: Option<u16>,

    /// Items per page of every listing (1..=1000) [default: 1000].
    #[arg(long, env = "BATON_PAGE_SIZE", value_parser = clap::value_parser!(u16).range(1..=1000), value_name = "N")]
    pub(crate) page_size: Option<u16>,

    /// Sync only these resource types (comma-separated).
    #[arg(
        long,
        env = "BATON_SYNC_RESOURCE_TYPES",
        value_delimiter = ',',
        value_name = "TYPE,...",
        value_parser = PossibleValuesParser::new(scheme::ALL_RESOURCE_TYPES)
    )]
    pub(crate) sync_resource_types: Vec<String>,

    /// Sync a generated demo workspace served in-process by segment-mock (no token needed),
    /// into demo.c1z unless --file/BATON_FILE says otherwise.
    #[arg(long, env = "BATON_DEMO", value_parser = BoolishValueParser::new())]
    pub(crate) demo: bool,

    /// Finished syncs kept in the file (older ones are dropped) [default: the engine's default].
    #[arg(long, env = "BATON_KEEP_SYNCS", value_name = "N")]
    pub(crate) keep_syncs: Option<usize>,

    /// Sync resources only, without entitlements or grants (baton's flag): no per-user or
    /// per-group request is made, and the file records a `resources_only` sync, which the
    /// review commands pass over when they look for the newest full sync.
    #[arg(long, env = "BATON_SKIP_ENTITLEMENTS_AND_GRANTS", value_parser = BoolishValueParser::new())]
    pub(crate) skip_entitlements_and_grants: bool,
}

impl GlobalArgs {
    /// The c1z file: `--file`/`BATON_FILE`, else `default`.
    pub(crate) fn file_or(&self, default: &str) -> PathBuf {
        self.file.clone().unwrap_or_else(|| PathBuf::from(default))
    }
}

/// The c1z file of a sync and of provisioning when `--file` is not given.
pub(crate) const DEFAULT_FILE: &str = "sync.c1z";
/// The c1z file of a demo sync when `--file` is not given (never a real sync's file).
pub(crate) const DEMO_FILE: &str = "demo.c1z";

impl SyncArgs {
    /// The flags of the `sync` subcommand, completed by those given before it.
    pub(crate) fn merged_with(&self, root: &SyncArgs) -> SyncArgs {
        SyncArgs {
            concurrency: self.concurrency.or(root.concurrency),
            page_size: self.page_size.or(root.page_size),
            sync_resource_types: if self.sync_resource_types.is_empty() {
                root.sync_resource_types.clone()
            } else {
                self.sync_resource_types.clone()
            },
            demo: self.demo || root.demo,
            keep_syncs: self.keep_syncs.or(root.keep_syncs),
            skip_entitlements_and_grants: self.skip_entitlements_and_grants
                || root.skip_entitlements_and_grants,
        }
    }
}

/// Standard baton-sdk flags that a standalone Segment connector accepts for drop-in use but
/// ignores (debug log) or refuses with a clear message.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct CompatArgs {
    /// ConductorOne client id: when set, run in service mode (connect to the tenant, sync and
    /// provision as it asks, until SIGTERM); every other command-line action is ignored.
    #[arg(long, env = "BATON_CLIENT_ID", global = true)]
    pub(crate) client_id: Option<String>,

    /// ConductorOne client secret (service mode; never printed).
    #[arg(
        long,
        env = "BATON_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub(crate) client_secret: Option<String>,

    /// Storage engine of the c1z (`sqlite` only; this connector writes the classic v1 format).
    #[arg(long, env = "BATON_STORAGE_ENGINE", hide = true, global = true)]
    pub(crate) storage_engine: Option<String>,

    /// Targeted partial sync (refused: not supported).
    #[arg(
        long,
        env = "BATON_SYNC_RESOURCES",
        hide = true,
        global = true,
        value_delimiter = ','
    )]
    pub(crate) sync_resources: Vec<String>,

    /// Skip grants of a targeted sync (refused: not supported).
    #[arg(long, env = "BATON_SKIP_GRANTS", hide = true, global = true, value_parser = BoolishValueParser::new())]
    pub(crate) skip_grants: bool,

    /// Service mode: sync tasks upload an empty sync (ignored otherwise).
    #[arg(long, env = "BATON_SKIP_FULL_SYNC", global = true, value_parser = BoolishValueParser::new())]
    pub(crate) skip_full_sync: bool,

    /// Service mode: carry out the grants, revokes, account creations and deletions
    /// ConductorOne sends (off: they fail with FAILED_PRECONDITION). Ignored otherwise: the
    /// provisioning commands enable provisioning by themselves.
    #[arg(long, env = "BATON_PROVISIONING", global = true, value_parser = BoolishValueParser::new())]
    pub(crate) provisioning: bool,

    /// Ignored (no ticketing).
    #[arg(long, env = "BATON_TICKETING", hide = true, global = true, value_parser = BoolishValueParser::new())]
    pub(crate) ticketing: bool,

    /// Ignored (see --concurrency).
    #[arg(
        long,
        env = "BATON_WORKERS",
        hide = true,
        global = true,
        allow_negative_numbers = true
    )]
    pub(crate) workers: Option<i64>,

    /// Ignored (deprecated baton flag).
    #[arg(long, env = "BATON_PARALLEL_SYNC", hide = true, global = true, value_parser = BoolishValueParser::new())]
    pub(crate) parallel_sync: bool,

    /// Service mode: tasks run at once, 1-100 [default: 3].
    #[arg(long, env = "BATON_TASK_CONCURRENCY", global = true)]
    pub(crate) task_concurrency: Option<u32>,

    /// Ignored (no session store).
    #[arg(
        long,
        env = "BATON_SESSION_STORE_MAXIMUM_SIZE",
        hide = true,
        global = true
    )]
    pub(crate) session_store_maximum_size: Option<u64>,

    /// Ignored (service mode).
    #[arg(long, env = "BATON_KEEP_PREVIOUS_SYNC_C1Z", hide = true, global = true, value_parser = BoolishValueParser::new())]
    pub(crate) keep_previous_sync_c1z: bool,

    /// Ignored (logs go to stderr).
    #[arg(
        long,
        env = "BATON_LOG_PATH",
        hide = true,
        global = true,
        value_delimiter = ','
    )]
    pub(crate) log_path: Vec<String>,

    /// Ignored.
    #[arg(
        long,
        env = "BATON_LOG_LEVEL_DEBUG_EXPIRES_AT",
        hide = true,
        global = true
    )]
    pub(crate) log_level_debug_expires_at: Option<String>,

    /// Ignored (no OpenTelemetry export).
    #[arg(
        long,
        env = "BATON_OTEL_COLLECTOR_ENDPOINT",
        hide = true,
        global = true
    )]
    pub(crate) otel_collector_endpoint: Option<String>,

    /// Ignored.
    #[arg(long, env = "BATON_OTEL_TRACING_DISABLED", hide = true, global = true, value_parser = BoolishValueParser::new())]
    pub(crate) otel_tracing_disabled: bool,

    /// Ignored.
    #[arg(long, env = "BATON_OTEL_LOGGING_DISABLED", hide = true, global = true, value_parser = BoolishValueParser::new())]
    pub(crate) otel_logging_disabled: bool,

    /// Service mode: serve /health, /ready and /live (ignored otherwise).
    #[arg(long, env = "BATON_HEALTH_CHECK", global = true, value_parser = BoolishValueParser::new())]
    pub(crate) health_check: bool,

    /// Service mode: port of the health endpoints [default: 8081].
    #[arg(long, env = "BATON_HEALTH_CHECK_PORT", global = true)]
    pub(crate) health_check_port: Option<u16>,

    /// Service mode: address of the health endpoints [default: 127.0.0.1; 0.0.0.0 for
    /// kubelet probes].
    #[arg(long, env = "BATON_HEALTH_CHECK_BIND_ADDRESS", global = true)]
    pub(crate) health_check_bind_address: Option<String>,
}

impl CompatArgs {
    /// The refusal message for a flag that cannot work standalone, if one was given.
    pub(crate) fn refusal(&self) -> Option<String> {
        if !self.service_mode() && self.client_secret.as_deref().is_some_and(|s| !s.is_empty()) {
            return Some(
                "client-id is required in service mode (--client-id or BATON_CLIENT_ID)".to_owned(),
            );
        }
        if let Some(engine) = &self.storage_engine {
            match engine.to_ascii_lowercase().as_str() {
                "" | "sqlite" => {}
                "pebble" => {
                    return Some(
                        "--storage-engine pebble is not supported: this connector writes the \
                         classic v1 (SQLite) c1z format, which every baton version reads; \
                         use --storage-engine sqlite or omit the flag"
                            .to_owned(),
                    );
                }
                other => {
                    return Some(format!(
                        "unknown --storage-engine {other:?}: only `sqlite` is supported"
                    ));
                }
            }
        }
        if !self.sync_resources.is_empty() {
            return Some(
                "--sync-resources (targeted sync) is not supported; \
                 use --sync-resource-types to restrict a full sync"
                    .to_owned(),
            );
        }
        if self.skip_grants {
            return Some(
                "--skip-grants applies to a targeted sync (--sync-resources), which is not \
                 supported; use --sync-resource-types to restrict a sync"
                    .to_owned(),
            );
        }
        None
    }

    /// Whether to run in ConductorOne service mode (a non-empty client id).
    pub(crate) fn service_mode(&self) -> bool {
        self.client_id
            .as_deref()
            .is_some_and(|id| !id.trim().is_empty())
    }

    /// Names of the given flags that are accepted and ignored.
    pub(crate) fn ignored(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut flag = |set: bool, name: &'static str| {
            if set {
                out.push(name);
            }
        };
        flag(self.skip_full_sync, "--skip-full-sync");
        flag(self.provisioning, "--provisioning");
        flag(self.ticketing, "--ticketing");
        flag(self.workers.is_some(), "--workers");
        flag(self.parallel_sync, "--parallel-sync");
        flag(self.task_concurrency.is_some(), "--task-concurrency");
        flag(
            self.session_store_maximum_size.is_some(),
            "--session-store-maximum-size",
        );
        flag(self.keep_previous_sync_c1z, "--keep-previous-sync-c1z");
        flag(!self.log_path.is_empty(), "--log-path");
        flag(
            self.log_level_debug_expires_at.is_some(),
            "--log-level-debug-expires-at",
        );
        flag(
            self.otel_collector_endpoint.is_some(),
            "--otel-collector-endpoint",
        );
        flag(self.otel_tracing_disabled, "--otel-tracing-disabled");
        flag(self.otel_logging_disabled, "--otel-logging-disabled");
        flag(self.health_check, "--health-check");
        flag(self.health_check_port.is_some(), "--health-check-port");
        flag(
            self.health_check_bind_address.is_some(),
            "--health-check-bind-address",
        );
        flag(self.storage_engine.is_some(), "--storage-engine sqlite");
        out
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Sync the workspace into the .c1z file (the default command).
    ///
    /// The summary counts requests; its "summed wait across requests" (JSON `summed_wait_ms`)
    /// is the time requests spent waiting for the client-side rate limit, Segment's rate
    /// limits and retry back-off, summed over all requests: waits of concurrent requests add
    /// up, so it can exceed the elapsed (wall-clock) time. Appending to a file that holds
    /// another workspace is refused.
    Sync(SyncArgs),
    /// Grant an entitlement to a user, group or invite.
    Grant(GrantArgs),
    /// Revoke a grant.
    Revoke(RevokeArgs),
    /// Invite someone to the workspace (with a role and groups).
    CreateAccount(CreateAccountArgs),
    /// Remove a user or a pending invitation from the workspace.
    DeleteResource(DeleteResourceArgs),
    /// Demonstrate service mode in one process: a fake ConductorOne tenant queues a sync and a
    /// grant, this connector runs them against a generated Segment workspace, and the results
    /// are printed (no real ConductorOne or Segment is contacted).
    ServiceDemo,
    /// Run a plan (a JSON file of grants, revokes, invitations and deletions).
    Apply(ApplyArgs),
    /// Print the connector's capabilities (protojson of c1.connector.v2.ConnectorCapabilities).
    Capabilities,
    #[command(flatten)]
    Review(crate::review::ReviewCommand),
}

/// `grant`.
#[derive(Debug, Clone, Args)]
pub(crate) struct GrantArgs {
    /// Entitlement id, e.g. `group:<groupId>:member`, `role:<roleId>:member`,
    /// `source:<sourceId>:source_admin`.
    #[arg(long, short = 'e', value_name = "ID")]
    pub(crate) entitlement: String,

    /// Principal id: a user id, a group id or an invitee's email.
    #[arg(long, short = 'p', value_name = "ID")]
    pub(crate) principal: String,

    /// Principal type [default: inferred, see the end of --help].
    #[arg(long, value_enum)]
    pub(crate) principal_type: Option<PrincipalTypeArg>,
}

/// `revoke`.
#[derive(Debug, Clone, Args)]
pub(crate) struct RevokeArgs {
    /// Grant id (`<entitlement id>:<principal type>:<principal id>`).
    #[arg(long, short = 'g', value_name = "ID", required_unless_present = "entitlement", conflicts_with_all = ["entitlement", "principal", "principal_type"])]
    pub(crate) grant: Option<String>,

    /// Entitlement id (with --principal, instead of --grant).
    #[arg(long, short = 'e', value_name = "ID", requires = "principal")]
    pub(crate) entitlement: Option<String>,

    /// Principal id (with --entitlement).
    #[arg(long, short = 'p', value_name = "ID", requires = "entitlement")]
    pub(crate) principal: Option<String>,

    /// Principal type [default: inferred, see the end of --help].
    #[arg(long, value_enum)]
    pub(crate) principal_type: Option<PrincipalTypeArg>,
}

/// `create-account`.
#[derive(Debug, Clone, Args)]
pub(crate) struct CreateAccountArgs {
    /// Email to invite.
    #[arg(long, value_name = "EMAIL")]
    pub(crate) email: String,

    /// Workspace role of the invitation (a role id, or any role entitlement id) [default: none].
    #[arg(long, value_name = "ROLE_ID")]
    pub(crate) role: Option<String>,

    /// Group to add the invitee to (a group id; repeatable).
    #[arg(long = "group", value_name = "GROUP_ID")]
    pub(crate) groups: Vec<String>,
}

/// `delete-resource`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DeleteResourceArgs {
    /// Resource type.
    #[arg(long, value_enum)]
    pub(crate) resource_type: DeleteTypeArg,

    /// Resource id: a user id, or an invitee's email.
    #[arg(long, value_name = "ID")]
    pub(crate) resource: String,
}

/// `apply`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ApplyArgs {
    /// The plan: a JSON file (see the provisioning documentation).
    #[arg(value_name = "PLAN.json")]
    pub(crate) plan: PathBuf,

    /// Batches run at once [default: the engine's default].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) concurrency: Option<u16>,
}

/// `--region`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RegionArg {
    /// api.segmentapis.com
    Us,
    /// eu1.api.segmentapis.com
    Eu,
}

/// `--log-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Json,
    Console,
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
    /// CSV (the review commands only).
    Csv,
}

/// `--principal-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PrincipalTypeArg {
    User,
    Group,
    Invite,
}

impl PrincipalTypeArg {
    /// The connector's principal type.
    pub(crate) fn to_scheme(self) -> scheme::PrincipalType {
        match self {
            PrincipalTypeArg::User => scheme::PrincipalType::User,
            PrincipalTypeArg::Group => scheme::PrincipalType::Group,
            PrincipalTypeArg::Invite => scheme::PrincipalType::Invite,
        }
    }
}

/// `--resource-type` of `delete-resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DeleteTypeArg {
    User,
    Invite,
}

/// Reads `--token`; an empty value counts as absent later on.
fn parse_token(value: &str) -> Result<Token, String> {
    Ok(Token::new(value))
}

#[cfg(test)]
mod tests;
