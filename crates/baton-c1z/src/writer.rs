//! The writer: builds (or extends) the SQLite database in a temporary directory, then compresses it
//! into `<file>.tmp` and atomically renames that over `<file>`.

use crate::container::{self, DEFAULT_MAX_DECODED_SIZE, DecodeLimits, EncodeSettings, Format};
use crate::error::{C1zError, ObjectKind, Result, SqlContext};
use crate::inserts::{Batch, Inserter, TxState};
use crate::ksuid::new_ksuid;
use crate::schema;
use crate::timestamp::now_local;
use baton_model::pb;
use rusqlite::{Connection, OpenFlags, params};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// Full protobuf name of the annotation that marks a grant for expansion.
const GRANT_EXPANDABLE: &str = "c1.connector.v2.GrantExpandable";

/// Options of [`C1zWriter::create`].
///
/// Start from [`WriterOptions::default()`] and adjust with the `with_*` methods (or assign fields).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriterOptions {
    /// Directory for the temporary database (`--c1z-temp-dir`); `None` = the OS temp dir.
    pub temp_dir: Option<PathBuf>,
    /// Number of finished full syncs kept in the file, the new one included (default 2,
    /// like `BATON_KEEP_SYNC_COUNT`); 0 disables cleanup (every sync is kept).
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
    /// Sets [`WriterOptions::cache_size_kib`].
    #[must_use]
    pub fn with_cache_size_kib(mut self, kib: u32) -> Self {
        self.cache_size_kib = kib;
        self
    }

    fn validate(&self) -> Result<()> {
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

/// Writes one sync into a classic (v1) `.c1z` file.
///
/// Objects are upserted per sync on their external id. Nothing touches the target file until
/// [`finish`](Self::finish) succeeds; dropping the writer (or [`abort`](Self::abort)) discards
/// the new sync and leaves the previous file byte-for-byte intact.
#[derive(Debug)]
pub struct C1zWriter {
    // Field order matters: the connection (and the insert thread) closes before the temp dir
    // is removed.
    inserter: Inserter,
    dir: TempDir,
    batch: Batch,
    db_path: PathBuf,
    path: PathBuf,
    opts: WriterOptions,
    sync_id: String,
    started_at: String,
    appended: bool,
    counts: WriteCounts,
    needs_expansion: bool,
}

impl C1zWriter {
    /// Opens `path` for writing a new sync.
    ///
    /// A missing or empty file starts a new c1z. A non-empty classic file is decompressed and
    /// the new sync is appended to it. A v3 (`C1Z3`) or unknown file is refused.
    /// The parent directory of `path` must exist.
    pub fn create(path: impl AsRef<Path>, options: WriterOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        options.validate()?;
        let parent = parent_dir(&path);
        match fs::metadata(&parent) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(C1zError::io(
                    "use as a directory",
                    parent,
                    io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
                ));
            }
            Err(e) => return Err(C1zError::io("find the output directory", parent, e)),
        }

        let dir = make_temp_dir(options.temp_dir.as_deref())?;
        let db_path = dir.path().join("db");
        let appended = match File::open(&path) {
            Ok(mut f) => match container::read_magic(&mut f, &path)? {
                Format::Empty => false,
                Format::V1 => {
                    container::decompress_v1(
                        f,
                        &path,
                        &db_path,
                        DecodeLimits {
                            max_decoded_size: options.max_decoded_size,
                        },
                    )?;
                    true
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(C1zError::io("open", &path, e)),
        };

        let conn = Connection::open_with_flags(
            &db_path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ctx("opening the temporary database")?;
        // The temporary copy is thrown away on any failure, so it needs neither a journal nor
        // fsync. journal_mode is not stored in the file: the header keeps the rollback-journal
        // bytes (18-19 = 1). A WAL file being appended to is switched back to rollback first.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = DELETE;
             PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA temp_store = FILE;
             PRAGMA cache_size = -{};",
            options.cache_size_kib
        ))
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                C1zError::NotSqlite {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            }
            _ => C1zError::sqlite("configuring the temporary database", e),
        })?;
        conn.set_prepared_statement_cache_capacity(16);
        if appended {
            // Refuse to turn some other SQLite database into a c1z.
            let missing = schema::missing_tables(&conn)?;
            if !missing.is_empty() {
                return Err(C1zError::MissingTables {
                    path,
                    tables: missing,
                });
            }
        }
        schema::create_tables(&conn)?;
        if appended && options.lookup_indexes {
            // Existing rows: keep the lookup indexes maintained as we go.
            schema::create_lookup_indexes(&conn)?;
        }

        let sync_id = new_ksuid();
        let started_at = now_local();
        conn.execute(
            "INSERT INTO v1_sync_runs (sync_id, started_at, sync_token) VALUES (?1, ?2, '')",
            params![sync_id, started_at],
        )
        .ctx("starting the sync run")?;

        let inserter = Inserter::new(
            conn,
            TxState::new(sync_id.clone(), options.batch_size),
            options.insert_thread,
        )?;
        Ok(Self {
            inserter,
            dir,
            batch: Batch::default(),
            db_path,
            path,
            opts: options,
            sync_id,
            started_at,
            appended,
            counts: WriteCounts::default(),
            needs_expansion: false,
        })
    }

    /// The KSUID of the sync being written.
    pub fn sync_id(&self) -> &str {
        &self.sync_id
    }

    /// The target file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether an existing file is being extended.
    pub fn is_append(&self) -> bool {
        self.appended
    }

    /// Objects written so far.
    pub fn counts(&self) -> WriteCounts {
        self.counts
    }

    /// Whether a grant written so far carried a `GrantExpandable` annotation.
    pub fn needs_expansion(&self) -> bool {
        self.needs_expansion
    }

    /// Upserts a resource type (external id = `ResourceType.id`).
    pub fn put_resource_type(&mut self, rt: &pb::ResourceType) -> Result<()> {
        self.check_usable()?;
        if rt.id.is_empty() {
            return Err(invalid(ObjectKind::ResourceType, "id is empty"));
        }
        self.batch.push_resource_type(&rt.id, rt)?;
        self.counts.resource_types += 1;
        self.end_row()
    }

    /// Upserts a resource (external id = `"<resource_type>:<resource>"`).
    pub fn put_resource(&mut self, r: &pb::Resource) -> Result<()> {
        self.check_usable()?;
        let id = checked_resource_id(r.id.as_ref(), ObjectKind::Resource, "id")?;
        let parent = r
            .parent_resource_id
            .as_ref()
            .map(|p| (p.resource_type.as_str(), p.resource.as_str()));
        self.batch
            .push_resource(&id.resource_type, &id.resource, parent, r)?;
        self.counts.resources += 1;
        self.end_row()
    }

    /// Upserts an entitlement (external id = `Entitlement.id`).
    pub fn put_entitlement(&mut self, e: &pb::Entitlement) -> Result<()> {
        self.check_usable()?;
        if e.id.is_empty() {
            return Err(invalid(ObjectKind::Entitlement, "id is empty"));
        }
        let resource = e
            .resource
            .as_ref()
            .ok_or_else(|| invalid(ObjectKind::Entitlement, "resource is missing"))?;
        let rid =
            checked_resource_id(resource.id.as_ref(), ObjectKind::Entitlement, "resource.id")?;
        self.batch
            .push_entitlement(&rid.resource_type, &rid.resource, &e.id, e)?;
        self.counts.entitlements += 1;
        self.end_row()
    }

    /// Upserts a grant (external id = `Grant.id`). A `GrantExpandable` annotation stays inside
    /// the stored message and sets `needs_expansion` in the final sync token.
    pub fn put_grant(&mut self, g: &pb::Grant) -> Result<()> {
        self.check_usable()?;
        if g.id.is_empty() {
            return Err(invalid(ObjectKind::Grant, "id is empty"));
        }
        let ent = g
            .entitlement
            .as_ref()
            .ok_or_else(|| invalid(ObjectKind::Grant, "entitlement is missing"))?;
        if ent.id.is_empty() {
            return Err(invalid(ObjectKind::Grant, "entitlement.id is empty"));
        }
        let ent_resource = ent
            .resource
            .as_ref()
            .ok_or_else(|| invalid(ObjectKind::Grant, "entitlement.resource is missing"))?;
        let rid = checked_resource_id(
            ent_resource.id.as_ref(),
            ObjectKind::Grant,
            "entitlement.resource.id",
        )?;
        let principal = g
            .principal
            .as_ref()
            .ok_or_else(|| invalid(ObjectKind::Grant, "principal is missing"))?;
        let pid = checked_resource_id(principal.id.as_ref(), ObjectKind::Grant, "principal.id")?;
        self.batch.push_grant(
            [
                &rid.resource_type,
                &rid.resource,
                &ent.id,
                &pid.resource_type,
                &pid.resource,
                &g.id,
            ],
            g,
        )?;
        if g.annotations
            .iter()
            .any(|a| a.type_url.rsplit('/').next() == Some(GRANT_EXPANDABLE))
        {
            self.needs_expansion = true;
        }
        self.counts.grants += 1;
        self.end_row()
    }

    /// Ends the sync, removes old syncs, and atomically replaces the target file.
    ///
    /// Steps: wait until every row is written, set `ended_at` and the final `sync_token`, clear
    /// `v1_connector_sessions` of this sync, build the lookup indexes if
    /// [`WriterOptions::lookup_indexes`] is set, keep the newest [`WriterOptions::keep_syncs`]
    /// finished full syncs, `VACUUM` when pages were freed, close the database, compress it
    /// into `<file>.tmp`, fsync, rename over `<file>`, fsync the directory. On error the target
    /// file is untouched and `<file>.tmp` is removed.
    pub fn finish(self) -> Result<WriteSummary> {
        let Self {
            inserter,
            dir,
            mut batch,
            db_path,
            path,
            opts,
            sync_id,
            started_at,
            appended,
            counts,
            needs_expansion,
        } = self;
        let mut inserter = inserter;
        inserter.submit(&mut batch)?;
        let conn = inserter.finish()?;
        let ended_at = now_local();
        let token = format!("{{\"needs_expansion\":{needs_expansion},\"version\":1}}");
        conn.execute(
            "UPDATE v1_sync_runs SET ended_at = ?1, sync_token = ?2
             WHERE sync_id = ?3 AND ended_at IS NULL",
            params![ended_at, token, sync_id],
        )
        .ctx("ending the sync run")?;
        conn.execute(
            "DELETE FROM v1_connector_sessions WHERE sync_id = ?1",
            params![sync_id],
        )
        .ctx("clearing connector sessions")?;
        // The non-unique lookup indexes are optional in a file: every Go reader creates the
        // missing ones when it opens a file, read-only opens included (c1z-format.md §1.3
        // step 3), and so does `C1zReader` (lazily, for the listings that need them). Writing
        // them is opt-in (`WriterOptions::lookup_indexes`); building them once here is much
        // faster than maintaining them row by row.
        if opts.lookup_indexes {
            schema::create_lookup_indexes(&conn)?;
        }
        let removed_syncs = cleanup(&conn, opts.keep_syncs, &sync_id)?;
        let freelist: i64 = conn
            .query_row("PRAGMA freelist_count", [], |r| r.get(0))
            .ctx("inspecting free pages")?;
        if freelist > 0 {
            conn.execute_batch("VACUUM").ctx("vacuuming")?;
        }
        conn.close()
            .map_err(|(_, e)| C1zError::sqlite("closing the temporary database", e))?;
        let (database_bytes, file_bytes) = replace_file(&db_path, &path, &opts)?;
        drop(dir);
        Ok(WriteSummary {
            path,
            sync_id,
            started_at,
            ended_at,
            needs_expansion,
            counts,
            removed_syncs,
            appended,
            database_bytes,
            file_bytes,
        })
    }

    /// Discards the sync being written; the target file is left as it was.
    pub fn abort(self) {
        drop(self);
    }

    /// Fails once an earlier write failed.
    fn check_usable(&self) -> Result<()> {
        if self.inserter.is_failed() {
            return Err(C1zError::WriterFailed {
                reason: "an earlier write of this writer failed".into(),
            });
        }
        Ok(())
    }

    /// Hands the batch to SQLite when it is full.
    fn end_row(&mut self) -> Result<()> {
        if self.batch.is_full() {
            self.inserter.submit(&mut self.batch)?;
        }
        Ok(())
    }
}

/// Deletes finished full syncs beyond the newest `keep_syncs` (0 = keep all), never
/// `current`. Returns the removed ids.
fn cleanup(conn: &Connection, keep_syncs: usize, current: &str) -> Result<Vec<String>> {
    if keep_syncs == 0 {
        return Ok(Vec::new());
    }
    let full_only = schema::has_column(conn, "v1_sync_runs", "sync_type")?;
    let sql = format!(
        "SELECT sync_id FROM v1_sync_runs WHERE ended_at IS NOT NULL {}
         ORDER BY ended_at DESC, sync_id DESC",
        if full_only {
            "AND sync_type = 'full'"
        } else {
            ""
        }
    );
    let finished: Vec<String> = {
        let mut stmt = conn.prepare(&sql).ctx("listing finished syncs")?;
        stmt.query_map([], |r| r.get(0))
            .ctx("listing finished syncs")?
            .collect::<rusqlite::Result<_>>()
            .ctx("listing finished syncs")?
    };
    let removed: Vec<String> = finished
        .into_iter()
        .filter(|id| id != current)
        .skip(keep_syncs.saturating_sub(1))
        .collect();
    if removed.is_empty() {
        return Ok(removed);
    }
    conn.execute_batch("BEGIN").ctx("starting the cleanup")?;
    for id in &removed {
        for table in schema::SYNC_SCOPED_TABLES
            .iter()
            .chain(["v1_sync_runs"].iter())
        {
            conn.execute(
                &format!("DELETE FROM {table} WHERE sync_id = ?1"),
                params![id],
            )
            .ctx("deleting an old sync")?;
        }
    }
    conn.execute_batch("COMMIT").ctx("committing the cleanup")?;
    Ok(removed)
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

fn invalid(kind: ObjectKind, reason: &str) -> C1zError {
    C1zError::InvalidObject {
        kind,
        reason: reason.to_owned(),
    }
}

fn checked_resource_id<'a>(
    id: Option<&'a pb::ResourceId>,
    kind: ObjectKind,
    field: &str,
) -> Result<&'a pb::ResourceId> {
    let id = id.ok_or_else(|| invalid(kind, &format!("{field} is missing")))?;
    if id.resource_type.is_empty() {
        return Err(invalid(kind, &format!("{field}.resource_type is empty")));
    }
    if id.resource.is_empty() {
        return Err(invalid(kind, &format!("{field}.resource is empty")));
    }
    Ok(id)
}

/// The directory that holds `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub(crate) fn make_temp_dir(base: Option<&Path>) -> Result<TempDir> {
    let mut b = tempfile::Builder::new();
    b.prefix("c1z");
    match base {
        Some(dir) => b
            .tempdir_in(dir)
            .map_err(|e| C1zError::io("create a temporary directory in", dir, e)),
        None => b
            .tempdir()
            .map_err(|e| C1zError::io("create a temporary directory in", std::env::temp_dir(), e)),
    }
}

/// Removes `<file>.tmp` on drop unless disarmed.
struct TmpGuard {
    path: PathBuf,
    armed: bool,
}

impl Drop for TmpGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Compresses `db_path` into `<path>.tmp`, fsyncs it and renames it over `path`.
fn replace_file(db_path: &Path, path: &Path, opts: &WriterOptions) -> Result<(u64, u64)> {
    let mut tmp_name = OsString::from(path.as_os_str());
    tmp_name.push(".tmp");
    let tmp_path = PathBuf::from(tmp_name);
    let mut out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp_path)
        .map_err(|e| C1zError::io("create", &tmp_path, e))?;
    let mut guard = TmpGuard {
        path: tmp_path.clone(),
        armed: true,
    };
    let database_bytes = container::compress_v1(
        db_path,
        &mut out,
        &tmp_path,
        EncodeSettings {
            level: opts.compression_level,
            workers: opts.compression_threads,
        },
    )?;
    out.sync_all()
        .map_err(|e| C1zError::io("fsync", &tmp_path, e))?;
    let file_bytes = out
        .metadata()
        .map_err(|e| C1zError::io("stat", &tmp_path, e))?
        .len();
    drop(out);
    fs::rename(&tmp_path, path).map_err(|e| C1zError::io("rename the new file over", path, e))?;
    guard.armed = false;
    // Make the rename durable. Best effort: the new file is already in place.
    if let Ok(d) = File::open(parent_dir(path)) {
        let _ = d.sync_all();
    }
    Ok((database_bytes, file_bytes))
}
