//! The command line of the access-review commands (clap derive): listings, who-has, access,
//! diff and export, all reading a c1z file (`-f/--file`) and never writing it.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// The access-review commands (flattened into the top-level commands).
#[derive(Debug, Clone, Subcommand)]
pub(crate) enum ReviewCommand {
    /// List the resources of a sync (review; reads --file, default sync.c1z).
    Resources(ResourcesArgs),
    /// List the entitlements of a sync (review).
    Entitlements(EntitlementsArgs),
    /// List the grants of a sync (review).
    Grants(GrantsArgs),
    /// List the syncs in the file (review); `default` marks the one read without --sync-id.
    Syncs,
    /// Count the objects of a sync (review).
    Stats(SyncSelect),
    /// Who holds an entitlement, or anything on a resource, directly or through groups (review).
    ///
    /// Follows GrantExpandable grants transitively (group membership), without loops, and
    /// shows the path of each inherited holding ("via group Engineering").
    WhoHas(WhoHasArgs),
    /// Everything a principal holds, directly or through groups (review).
    ///
    /// The principal is a resource id (`user:ID`, or a bare id), an email of a user or the
    /// address of a pending invitation.
    Access(AccessArgs),
    /// What changed between two syncs: added and removed resources, entitlements and grants,
    /// grouped by principal, with a one-line summary (review).
    ///
    /// Default: the two newest finished syncs of --file. With two files: the newest finished
    /// sync of each (the older file first). Exits 0 whether or not anything changed; with
    /// --output json/csv the summary goes to stderr.
    Diff(DiffArgs),
    /// Write one file per table for auditors: principals, entitlements, grants with their
    /// expansion paths (review; columns in the README).
    Export(ExportArgs),
}

/// `--sync-id`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct SyncSelect {
    /// The sync to read [default: the newest finished full sync].
    #[arg(long, value_name = "SYNC_ID")]
    pub(crate) sync_id: Option<String>,
}

/// `resources`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ResourcesArgs {
    /// Only resources of this type (e.g. user, group, role, source).
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) resource_type: Option<String>,
    #[command(flatten)]
    pub(crate) sync: SyncSelect,
}

/// `entitlements`.
#[derive(Debug, Clone, Args)]
pub(crate) struct EntitlementsArgs {
    /// Only the entitlements of this resource (`TYPE:ID`, e.g. `group:grpEng0001`).
    #[arg(long, value_name = "TYPE:ID")]
    pub(crate) resource: Option<String>,
    #[command(flatten)]
    pub(crate) sync: SyncSelect,
}

/// `grants`.
#[derive(Debug, Clone, Args)]
pub(crate) struct GrantsArgs {
    /// Only the grants of this entitlement id.
    #[arg(long, value_name = "ENTITLEMENT_ID", conflicts_with = "principal")]
    pub(crate) entitlement: Option<String>,
    /// Only the grants to this principal (id, `TYPE:ID`, email or invitation email).
    #[arg(long, value_name = "PRINCIPAL")]
    pub(crate) principal: Option<String>,
    #[command(flatten)]
    pub(crate) sync: SyncSelect,
}

/// `who-has`.
#[derive(Debug, Clone, Args)]
pub(crate) struct WhoHasArgs {
    /// An entitlement id (`source:srcWeb0001:source_admin`) or a resource (`source:srcWeb0001`).
    #[arg(value_name = "ENTITLEMENT_OR_RESOURCE")]
    pub(crate) target: String,
    #[command(flatten)]
    pub(crate) sync: SyncSelect,
}

/// `access`.
#[derive(Debug, Clone, Args)]
pub(crate) struct AccessArgs {
    /// A user id, `TYPE:ID`, an email or an invitation email.
    #[arg(value_name = "PRINCIPAL")]
    pub(crate) principal: String,
    #[command(flatten)]
    pub(crate) sync: SyncSelect,
}

/// `diff`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DiffArgs {
    /// The older sync [default: the second newest finished sync (of the first file)].
    #[arg(long, value_name = "SYNC_ID")]
    pub(crate) from: Option<String>,
    /// The newer sync [default: the newest finished sync (of the second file)].
    #[arg(long, value_name = "SYNC_ID")]
    pub(crate) to: Option<String>,
    /// Two files to compare, older first [default: two syncs of --file].
    #[arg(value_name = "FILE", num_args = 0..=2)]
    pub(crate) files: Vec<PathBuf>,
}

/// `export`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ExportArgs {
    /// File format: csv (`<table>.csv`) or json (`<table>.jsonl`, one object per line).
    #[arg(long, value_enum, default_value_t = ExportFormatArg::Csv)]
    pub(crate) format: ExportFormatArg,
    /// Directory to write into (created if missing; files of the same names are replaced).
    #[arg(long, value_name = "DIR", default_value = "export")]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) sync: SyncSelect,
}

/// `export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormatArg {
    Csv,
    Json,
}
