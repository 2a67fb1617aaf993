//! The writer: builds (or extends) the SQLite database in a temporary directory, then compresses it
//! into a temporary file next to the target and atomically renames that over `<file>`.

mod options;

pub use options::{SyncType, WriteCounts, WriteSummary, WriterOptions};

use crate::container::{self, DecodeLimits, Format};
use crate::error::{C1zError, ObjectKind, Result, SqlContext};
use crate::inserts::{Batch, Inserter, TxState};
use crate::ksuid::new_ksuid;
use crate::replace::{parent_dir, remove_stale_temp_files, replace_file};
use crate::schema;
use crate::target_lock::TargetLock;
use crate::timestamp::now_local;
use crate::workdir::{self, WorkDir};
use baton_model::pb;
use rusqlite::{Connection, OpenFlags, params};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// Full protobuf name of the annotation that marks a grant for expansion.
const GRANT_EXPANDABLE: &str = "c1.connector.v2.GrantExpandable";
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
    dir: WorkDir,
    batch: Batch,
    db_path: PathBuf,
    path: PathBuf,
    opts: WriterOptions,
    sync_id: String,
    started_at: String,
    appended: bool,
    counts: WriteCounts,
    needs_expansion: bool,
    /// Held until the writer is done (declared last: released last).
    lock: TargetLock,
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

        // One writer per target at a time; then whatever killed writers left behind can go.
        let lock = TargetLock::acquire(&path)?;
        remove_stale_temp_files(&path);
        workdir::remove_leftovers(options.temp_dir.as_deref());
        let dir = WorkDir::create(options.temp_dir.as_deref())?;
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
            // Never build on damaged pages: the new file would lose rows silently.
            check_integrity(&conn, &path)?;
        }
        schema::create_tables(&conn)?;
        if appended && options.lookup_indexes {
            // Existing rows: keep the lookup indexes maintained as we go.
            schema::create_lookup_indexes(&conn)?;
        }

        let sync_id = new_ksuid();
        let started_at = now_local();
        if options.sync_type != SyncType::Full {
            schema::add_sync_type_column(&conn)?;
        }
        if schema::has_column(&conn, "v1_sync_runs", "sync_type")? {
            conn.execute(
                "INSERT INTO v1_sync_runs (sync_id, started_at, sync_token, sync_type)
                 VALUES (?1, ?2, '', ?3)",
                params![sync_id, started_at, options.sync_type.as_str()],
            )
        } else {
            conn.execute(
                "INSERT INTO v1_sync_runs (sync_id, started_at, sync_token) VALUES (?1, ?2, '')",
                params![sync_id, started_at],
            )
        }
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
            lock,
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
    /// into a temporary file next to `<file>`, fsync, rename over `<file>`, fsync the directory. On
    /// error the target file is untouched and the temporary file is removed.
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
            mut lock,
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
        let removed_syncs = cleanup(
            &conn,
            opts.keep_syncs,
            &sync_id,
            &started_at,
            opts.sync_type,
        )?;
        let freelist: i64 = conn
            .query_row("PRAGMA freelist_count", [], |r| r.get(0))
            .ctx("inspecting free pages")?;
        if freelist > 0 {
            conn.execute_batch("VACUUM").ctx("vacuuming")?;
        }
        conn.close()
            .map_err(|(_, e)| C1zError::sqlite("closing the temporary database", e))?;
        let (database_bytes, file_bytes) = replace_file(&db_path, &path, &opts)?;
        lock.finished();
        drop(dir);
        drop(lock);
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

/// Runs SQLite's `quick_check` on the database being appended to; refuses a damaged one.
fn check_integrity(conn: &Connection, path: &Path) -> Result<()> {
    let damaged = |detail: String| C1zError::DamagedDatabase {
        path: path.to_path_buf(),
        detail,
    };
    let problems: Vec<String> = {
        let mut stmt = match conn.prepare("PRAGMA quick_check(5)") {
            Ok(s) => s,
            Err(e) => return Err(damaged(e.to_string().replace('\n', "; "))),
        };
        let rows = stmt.query_map([], |r| r.get::<_, String>(0));
        match rows.and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>()) {
            Ok(rows) => rows,
            Err(e) => return Err(damaged(e.to_string().replace('\n', "; "))),
        }
    };
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    // One line: SQLite's report may span several lines; the first few problems say enough.
    let detail: Vec<&str> = problems
        .iter()
        .flat_map(|p| p.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect();
    Err(damaged(detail.join("; ")))
}

/// Deletes finished full syncs beyond the newest `keep_syncs` (0 = keep all; `current` counts
/// when it is full, and is never deleted), and finished syncs of other types that ended by the
/// time the oldest kept full sync started or are beyond the newest `keep_syncs` of their own
/// (baton-sdk keeps the former; the latter bounds a file that only gets resources-only syncs).
/// Times compare as stored text (one layout, most significant field first). Returns the
/// removed ids.
fn cleanup(
    conn: &Connection,
    keep_syncs: usize,
    current: &str,
    current_started: &str,
    current_type: SyncType,
) -> Result<Vec<String>> {
    if keep_syncs == 0 {
        return Ok(Vec::new());
    }
    let typed = schema::has_column(conn, "v1_sync_runs", "sync_type")?;
    // (sync_id, started_at, ended_at) of the finished syncs but `current`, newest first.
    let finished = |condition: &str| -> Result<Vec<(String, String, String)>> {
        let sql = format!(
            "SELECT sync_id, started_at, ended_at FROM v1_sync_runs
             WHERE ended_at IS NOT NULL {condition} AND sync_id <> ?1
             ORDER BY ended_at DESC, sync_id DESC"
        );
        let mut stmt = conn.prepare(&sql).ctx("listing finished syncs")?;
        stmt.query_map([current], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .ctx("listing finished syncs")?
            .collect::<rusqlite::Result<_>>()
            .ctx("listing finished syncs")
    };
    let full = finished(if typed { "AND sync_type = 'full'" } else { "" })?;
    let current_full = current_type == SyncType::Full;
    let keep_older_full = keep_syncs - usize::from(current_full);
    let (kept_full, old_full) = full.split_at(keep_older_full.min(full.len()));
    let mut removed: Vec<String> = old_full.iter().map(|(id, ..)| id.clone()).collect();
    if typed {
        // The oldest kept full sync's start (the current sync's own when it is the only one).
        let oldest_kept_start = kept_full
            .last()
            .map(|(_, started, _)| started.as_str())
            .or(current_full.then_some(current_started));
        let keep_other = keep_syncs - usize::from(!current_full);
        let others = finished("AND sync_type <> 'full'")?;
        for (i, (id, _, ended)) in others.into_iter().enumerate() {
            if i >= keep_other || oldest_kept_start.is_some_and(|start| ended.as_str() <= start) {
                removed.push(id);
            }
        }
    }
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
