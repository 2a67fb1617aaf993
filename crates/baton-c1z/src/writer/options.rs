//! What a writer is told ([`WriterOptions`]) and what it reports ([`WriteCounts`], [`WriteSummary`]).

use crate::container::DEFAULT_MAX_DECODED_SIZE;
use crate::error::{C1zError, Result};
use std::path::PathBuf;

/// Options of [`C1zWriter::create`].
///
/// Start from [`WriterOptions::default()`] and adjust with the `with_*` methods (or assign fields).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriterOptions {
    /// Directory for the temporary database (`--c1z-temp-dir`); `None` = the OS temp dir.
    pub temp_dir: Option<PathBuf>,
    /// Number of finished full syncs kept in the file, the new one included (default 2,
    /// like `BATON_KEEP_SYNC_COUNT`); 0 disables cleanup (every sync is kept). Syncs of
    /// another [`SyncType`] are kept while newer than the oldest kept full sync, at most
    /// this many of them.
    pub keep_syncs: usize,
    /// Rows written per SQLite transaction (default 50 000; must be > 0).
    pub batch_size: usize,
    /// zstd level, 1..=19 (default 3). The window stays at 2 MiB whatever the level.
    pub compression_level: i32,
    /// Cap on the decompressed size of an existing file being appended to (default 10 GiB).
    pub max_decoded_size: u64,
    /// SQLite page cache while building, in KiB (default 32 MiB; bounds memory use).
    pub cache_size_kib: u32,
    /// zstd worker threads for the final compression (default: the number of CPUs, at most 4;
    /// 1 CPU = no worker). The output is one frame either way.
    pub compression_threads: u32,
    /// Whether to write the non-unique lookup indexes of `c1z-format.md` §2.3 into the file
    /// (default `false`).
    ///
    /// The unique `(external_id, sync_id)` indexes (the upsert target of every SDK) and the
    /// unique `v1_sync_runs (sync_id)` index are always written. The lookup indexes are not
    /// needed in the file: every Go reader runs `CREATE TABLE/INDEX IF NOT EXISTS` when it opens
    /// a file, "also for read-only opens (on the temp copy)" (§1.3 step 3), and [`C1zReader`]
    /// creates the ones a filtered listing needs on its own temporary copy. Leaving them out
    /// roughly halves the write time of a large sync (building the five grant indexes was ~45%
    /// of it) and makes the file smaller; set this to `true` for a file whose readers should
    /// find every index already built. When appending, indexes the file already has are kept
    /// (and maintained) either way.
    ///
    /// [`C1zReader`]: crate::C1zReader
    pub lookup_indexes: bool,
    /// Whether a dedicated thread writes the rows into SQLite while `put_*` calls validate and
    /// encode the next ones (default: `true` when more than one CPU is available).
    ///
    /// Either way rows are handed to SQLite in batches of a few hundred, so an error from the
    /// database (e.g. a full disk) is returned by a later `put_*` call or by
    /// [`C1zWriter::finish`]; after such an error the writer only returns
    /// [`C1zError::WriterFailed`] and must be dropped. Invalid objects are still refused by the
    /// `put_*` call that receives them.
    pub insert_thread: bool,
    /// The kind of sync this run records (default [`SyncType::Full`]).
    pub sync_type: SyncType,
}

/// The kind of sync a run records (`v1_sync_runs.sync_type`, `c1z-format.md` §2.2).
///
/// The classic layout this crate writes has no `sync_type` column, which readers take as
/// `full`. A run of another type adds the column (`text not null default 'full'`, as every
/// newer baton-sdk does when it opens an older file), so the runs before it stay full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncType {
    /// Resources, entitlements and grants.
    #[default]
    Full,
    /// Resources only (`resources_only`, baton's `--skip-entitlements-and-grants`): readers
    /// that look for the newest full sync pass over it.
    ResourcesOnly,
}

impl SyncType {
    /// The value stored in `v1_sync_runs.sync_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncType::Full => "full",
            SyncType::ResourcesOnly => "resources_only",
        }
    }
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            temp_dir: None,
            keep_syncs: 2,
            batch_size: 50_000,
            compression_level: 3,
            max_decoded_size: DEFAULT_MAX_DECODED_SIZE,
            cache_size_kib: 32 * 1024,
            compression_threads: default_compression_threads(),
            lookup_indexes: false,
            insert_thread: available_cpus() > 1,
            sync_type: SyncType::Full,
        }
    }
}

impl WriterOptions {
    /// Sets [`WriterOptions::temp_dir`].
    #[must_use]
    pub fn with_temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.temp_dir = Some(dir.into());
        self
    }
    /// Sets [`WriterOptions::keep_syncs`].
    #[must_use]
    pub fn with_keep_syncs(mut self, keep: usize) -> Self {
        self.keep_syncs = keep;
        self
    }
    /// Sets [`WriterOptions::batch_size`].
    #[must_use]
    pub fn with_batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows;
        self
    }
    /// Sets [`WriterOptions::compression_level`].
    #[must_use]
    pub fn with_compression_level(mut self, level: i32) -> Self {
        self.compression_level = level;
        self
    }
    /// Sets [`WriterOptions::max_decoded_size`].
    #[must_use]
    pub fn with_max_decoded_size(mut self, bytes: u64) -> Self {
        self.max_decoded_size = bytes;
        self
    }
    /// Sets [`WriterOptions::compression_threads`] (0 = compress on the calling thread).
    #[must_use]
    pub fn with_compression_threads(mut self, threads: u32) -> Self {
        self.compression_threads = threads;
        self
    }
    /// Sets [`WriterOptions::lookup_indexes`].
    #[must_use]
    pub fn with_lookup_indexes(mut self, write: bool) -> Self {
        self.lookup_indexes = write;
        self
    }
    /// Sets [`WriterOptions::insert_thread`].
    #[must_use]
    pub fn with_insert_thread(mut self, thread: bool) -> Self {
        self.insert_thread = thread;
        self
    }
    /// Sets [`WriterOptions::sync_type`].
    #[must_use]
    pub fn with_sync_type(mut self, sync_type: SyncType) -> Self {
        self.sync_type = sync_type;
        self
    }
    /// Sets [`WriterOptions::cache_size_kib`].
    #[must_use]
    pub fn with_cache_size_kib(mut self, kib: u32) -> Self {
        self.cache_size_kib = kib;
        self
    }

    pub(super) fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(C1zError::InvalidOption {
                option: "batch_size",
                reason: "must be at least 1".into(),
            });
        }
        if !(1..=19).contains(&self.compression_level) {
            return Err(C1zError::InvalidOption {
                option: "compression_level",
                reason: format!(
                    "{} is outside 1..=19 (higher levels need windows old readers refuse)",
                    self.compression_level
                ),
            });
        }
        if self.cache_size_kib < 64 {
            return Err(C1zError::InvalidOption {
                option: "cache_size_kib",
                reason: "must be at least 64".into(),
            });
        }
        Ok(())
    }
}

/// Number of `put_*` calls per object kind (upserts of an existing id count again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteCounts {
    /// `put_resource_type` calls.
    pub resource_types: u64,
    /// `put_resource` calls.
    pub resources: u64,
    /// `put_entitlement` calls.
    pub entitlements: u64,
    /// `put_grant` calls.
    pub grants: u64,
}

/// What [`C1zWriter::finish`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriteSummary {
    /// The file written.
    pub path: PathBuf,
    /// The id of the sync this writer added.
    pub sync_id: String,
    /// `started_at` of the sync (Go layout, local time).
    pub started_at: String,
    /// `ended_at` of the sync.
    pub ended_at: String,
    /// Whether any grant carried a `GrantExpandable` annotation.
    pub needs_expansion: bool,
    /// Objects written by this writer.
    pub counts: WriteCounts,
    /// Sync ids removed by cleanup (oldest first is not guaranteed).
    pub removed_syncs: Vec<String>,
    /// Whether an existing file was extended (vs. a new file created).
    pub appended: bool,
    /// Size of the uncompressed SQLite database in bytes.
    pub database_bytes: u64,
    /// Size of the `.c1z` file in bytes.
    pub file_bytes: u64,
}

fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Number of CPUs capped at 4, or 0 (no worker thread) on a single CPU.
fn default_compression_threads() -> u32 {
    let cpus = available_cpus();
    if cpus <= 1 {
        0
    } else {
        u32::try_from(cpus.min(4)).unwrap_or(4)
    }
}
