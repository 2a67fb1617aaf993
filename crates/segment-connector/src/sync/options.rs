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
