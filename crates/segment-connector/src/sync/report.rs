//! [`SyncReport`]: what a finished sync did, and the counters behind it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::request_count::WorkspaceSizes;

/// A resource type the sync skipped because the workspace's plan or features lack it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedType {
    /// The resource type id (`group`, `warehouse`, `function`, `space`).
    pub resource_type: String,
    /// Why (Segment's message, or the HTTP status).
    pub reason: String,
}

/// What a successful [`sync`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncReport {
    /// The id of the sync run added to the file.
    pub sync_id: String,
    /// The c1z file.
    pub path: PathBuf,
    /// Whether an existing file was extended.
    pub appended: bool,
    /// Sync runs removed from the file (keep-syncs cleanup).
    pub removed_syncs: Vec<String>,
    /// Size of the written file in bytes.
    pub file_bytes: u64,
    /// The workspace id.
    pub workspace_id: String,
    /// The workspace name.
    pub workspace_name: String,
    /// The resource types synced (workspace first), excluding skipped ones.
    pub synced_types: Vec<String>,
    /// Resource types written.
    pub resource_types: u64,
    /// Resources written, per resource type id.
    pub resources: BTreeMap<String, u64>,
    /// Entitlements written.
    pub entitlements: u64,
    /// Grants written.
    pub grants: u64,
    /// HTTP requests made during the sync (attempts, retries included; from session stats).
    pub requests: u64,
    /// Fewest requests possible for the sizes seen (see [`crate::min_requests`]).
    pub min_requests: u64,
    /// The collection sizes seen.
    pub sizes: WorkspaceSizes,
    /// Retries made by the client.
    pub retries: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Time requests spent waiting in the pacer or before retries (summed over requests).
    pub waited: Duration,
    /// Wall time of the sync.
    pub elapsed: Duration,
    /// Types skipped because of the plan or missing features (one warning each).
    pub skipped: Vec<SkippedType>,
    /// Permission entries of scope types this connector does not know (skipped).
    pub skipped_permissions: u64,
    /// Those entries per unknown scope type (e.g. `DESTINATION`).
    pub unknown_scope_types: BTreeMap<String, u64>,
    /// Scoped permission entries whose resource is not in its listing (grant skipped).
    pub unresolved_scopes: u64,
    /// Permission entries not turned into grants because their type is not synced
    /// (restriction or skipped type).
    pub filtered_grants: u64,
    /// Roles referenced by permissions but absent from the role list (synthesised).
    pub synthesized_roles: u64,
    /// Group members that are not in the user listing (grant skipped).
    pub unresolved_members: u64,
    /// Group invitees matching no listed invite (grant skipped).
    pub unmatched_group_invites: u64,
    /// Users or groups that disappeared during the sync (404 on their details).
    pub vanished: u64,
    /// Objects skipped because a Segment id cannot be used in a Baton id.
    pub invalid_objects: u64,
}

/// Counters that end up in the report.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) resources: BTreeMap<String, u64>,
    pub(super) skipped_permissions: u64,
    pub(super) unknown_scope_types: BTreeMap<String, u64>,
    pub(super) unresolved_scopes: u64,
    pub(super) filtered_grants: u64,
    pub(super) synthesized_roles: u64,
    pub(super) unresolved_members: u64,
    pub(super) unmatched_group_invites: u64,
    pub(super) vanished: u64,
    pub(super) invalid_objects: u64,
}
