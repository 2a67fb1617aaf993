//! [`SyncOptions`]: what a sync lists (resource types, depth) and how (concurrency, files).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::writer_thread::SyncProgress;

/// Default number of requests in flight, chosen from the concurrency sweep in
/// docs/BENCHMARKS.md (it stays far below Segment's documented read limits per second).
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Options of [`sync`].
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Requests in flight at most (>= 1). Default [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// Sync only these resource types (ids as in [`segment_scheme`]; the workspace is always
    /// synced). `None` = every type.
    pub resource_types: Option<BTreeSet<String>>,
    /// How far below the resources the sync goes. Default [`SyncDepth::Full`].
    pub depth: SyncDepth,
    /// Finished syncs kept in the file, the new one included (0 = keep all). Default 2.
    pub keep_syncs: usize,
    /// Directory for the writer's temporary database; `None` = the OS temp dir.
    pub temp_dir: Option<PathBuf>,
    /// Live counters updated while the sync runs.
    pub progress: Option<Arc<SyncProgress>>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            resource_types: None,
            depth: SyncDepth::Full,
            keep_syncs: 2,
            temp_dir: None,
            progress: None,
        }
    }
}

impl SyncOptions {
    /// With another concurrency.
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Restricted to these resource types.
    #[must_use]
    pub fn with_resource_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resource_types = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// Without grants: resources and entitlements only (baton's `--skip-grants`). Group member
    /// and invitee listings are not requested; permissions still are, because role and scoped
    /// entitlements are derived from them.
    #[must_use]
    pub fn with_skip_grants(mut self) -> Self {
        self.depth = SyncDepth::SkipGrants;
        self
    }

    /// Resources only (baton's `--skip-entitlements-and-grants`): no per-user or per-group
    /// request is made. Roles that appear only in permissions are therefore not synthesised.
    #[must_use]
    pub fn with_skip_entitlements_and_grants(mut self) -> Self {
        self.depth = SyncDepth::SkipEntitlementsAndGrants;
        self
    }

    /// Keeping this many finished syncs.
    #[must_use]
    pub fn with_keep_syncs(mut self, keep: usize) -> Self {
        self.keep_syncs = keep;
        self
    }

    /// With a temporary directory for the writer.
    #[must_use]
    pub fn with_temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.temp_dir = Some(dir.into());
        self
    }

    /// With a progress record.
    #[must_use]
    pub fn with_progress(mut self, progress: Arc<SyncProgress>) -> Self {
        self.progress = Some(progress);
        self
    }
}

/// How far below the resources a sync goes (a service runner's sync scope).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncDepth {
    /// Resources, entitlements and grants.
    #[default]
    Full,
    /// Resources and entitlements.
    SkipGrants,
    /// Resources only.
    SkipEntitlementsAndGrants,
}

impl SyncDepth {
    /// Whether entitlements are written.
    pub fn entitlements(self) -> bool {
        self != Self::SkipEntitlementsAndGrants
    }

    /// Whether grants are written.
    pub fn grants(self) -> bool {
        self == Self::Full
    }
}
