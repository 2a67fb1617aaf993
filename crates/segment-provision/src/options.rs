//! [`ProvisionOptions`] and the progress counters of a bulk run ([`ApplyProgress`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How a [`Provisioner`](crate::Provisioner) works.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProvisionOptions {
    /// Read everything, write nothing: outcomes list the writes that would be made.
    pub dry_run: bool,
    /// How often a change is re-applied when someone else changed the principal between our
    /// write and its verification (default 3). After that,
    /// [`ProvisionError::ConflictRetriesExhausted`](crate::ProvisionError::ConflictRetriesExhausted).
    pub max_conflict_retries: u32,
    /// Batches a bulk plan runs at once (default 4). Writes are paced by the session's shared
    /// write limit whatever this is.
    pub concurrency: usize,
    /// Most items (permissions, emails, ids) put into one coalesced write (default 100).
    pub max_batch: usize,
    /// Counters updated while operations run (for a progress bar).
    pub progress: Option<Arc<ApplyProgress>>,
}

impl Default for ProvisionOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            max_conflict_retries: 3,
            concurrency: 4,
            max_batch: 100,
            progress: None,
        }
    }
}

impl ProvisionOptions {
    /// With dry run on or off.
    #[must_use]
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// With another bound on conflict re-applications.
    #[must_use]
    pub fn with_max_conflict_retries(mut self, retries: u32) -> Self {
        self.max_conflict_retries = retries;
        self
    }

    /// With another number of batches in flight (at least 1).
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// With another largest batch (at least 1).
    #[must_use]
    pub fn with_max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self
    }

    /// With progress counters.
    #[must_use]
    pub fn with_progress(mut self, progress: Arc<ApplyProgress>) -> Self {
        self.progress = Some(progress);
        self
    }
}

/// Progress of running operations, readable at any time from another task or thread
/// (e.g. the CLI's progress bar). All counters only grow.
#[derive(Debug, Default)]
pub struct ApplyProgress {
    total: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    writes: AtomicU64,
    finished: AtomicBool,
}

impl ApplyProgress {
    /// New zeroed counters.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Operations submitted.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Operations finished (succeeded or failed).
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Operations that failed.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// API writes sent (none in a dry run).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Whether the last bulk run has finished.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    pub(crate) fn add_total(&self, n: u64) {
        self.finished.store(false, Ordering::Release);
        self.total.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn finish_op(&self, ok: bool) {
        if !ok {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_finished(&self) {
        self.finished.store(true, Ordering::Release);
    }
}
