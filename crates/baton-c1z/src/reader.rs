//! The reader: decompresses a `.c1z` into a temporary directory and serves listings and lookups
//! of one sync, with the Go SDK's pagination and sync-selection rules.
//!
//! Like the Go SDK, which runs `CREATE INDEX IF NOT EXISTS` for all its indexes on every open,
//! read-only opens included, on its temporary copy (`c1z-format.md` §1.3 step 3), the reader
//! creates the non-unique lookup indexes of §2.3 that a file lacks on its private copy (the
//! `.c1z` itself is never written). It does so lazily: an index is built the first time a
//! filtered listing needs it, so opening a file and reading everything stays fast.

mod functions;
mod keys;
mod listing;
mod rows;
mod view;

pub use keys::ExternalIds;
pub use listing::{
    EntitlementFilter, GrantFilter, MAX_PAGE_SIZE, Page, PageRequest, ResourceFilter, SyncRun,
    SyncStats,
};
pub use rows::Rows;
pub use view::SyncView;

use crate::container::{self, DEFAULT_MAX_DECODED_SIZE, DecodeLimits, Format};
use crate::error::{C1zError, Result, SqlContext};
use crate::schema::{self, LookupIndex};
use crate::workdir::WorkDir;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, params_from_iter};
use std::cell::Cell;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Options of [`C1zReader::open`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReaderOptions {
    /// Directory for the decompressed database (`--c1z-temp-dir`); `None` = the OS temp dir.
    pub temp_dir: Option<PathBuf>,
    /// Cap on the decompressed size (default 10 GiB). A frame that declares a larger content
    /// size is refused before anything is decoded.
    pub max_decoded_size: u64,
    /// SQLite page cache, in KiB (default 16 MiB).
    pub cache_size_kib: u32,
    /// Whether a filtered listing builds the lookup index it needs on the private copy the
    /// first time (default `true`: later listings are then instant). `false` scans the table
    /// instead, which is cheaper for a few listings on a large file (one scan costs a fraction
    /// of building an index); an index the file already has is used either way.
    pub lookup_indexes: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        Self {
            temp_dir: None,
            max_decoded_size: DEFAULT_MAX_DECODED_SIZE,
            cache_size_kib: 16 * 1024,
            lookup_indexes: true,
        }
    }
}

impl ReaderOptions {
    /// Sets [`ReaderOptions::temp_dir`].
    #[must_use]
    pub fn with_temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.temp_dir = Some(dir.into());
        self
    }
    /// Sets [`ReaderOptions::max_decoded_size`].
    #[must_use]
    pub fn with_max_decoded_size(mut self, bytes: u64) -> Self {
        self.max_decoded_size = bytes;
        self
    }
    /// Sets [`ReaderOptions::lookup_indexes`].
    #[must_use]
    pub fn with_lookup_indexes(mut self, build: bool) -> Self {
        self.lookup_indexes = build;
        self
    }
    /// Sets [`ReaderOptions::cache_size_kib`].
    #[must_use]
    pub fn with_cache_size_kib(mut self, kib: u32) -> Self {
        self.cache_size_kib = kib;
        self
    }
}
/// A read-only view of a `.c1z` file.
///
/// The file is decompressed once into a private temporary directory (removed on drop) and never
/// written. Lookup indexes the file lacks are created on that private copy the first time a
/// filtered listing needs them (as every Go reader does on open). `C1zReader` is `Send` but not
/// `Sync` (one SQLite connection).
#[derive(Debug)]
pub struct C1zReader {
    conn: Connection,
    _dir: WorkDir,
    db_path: PathBuf,
    cache_size_kib: u32,
    path: PathBuf,
    has_sync_type: bool,
    has_parent_sync_id: bool,
    /// Lookup indexes already ensured (or given up on), by name.
    ensured: Cell<u32>,
    /// Iterators whose prefetch thread is reading the database right now.
    prefetching: Cell<usize>,
}

impl C1zReader {
    /// Opens a classic `.c1z` file.
    ///
    /// Errors: [`C1zError::Missing`], [`C1zError::Empty`], [`C1zError::BadMagic`],
    /// [`C1zError::PebbleV3`], [`C1zError::TruncatedZstd`], [`C1zError::CorruptZstd`],
    /// [`C1zError::DecodedTooLarge`], [`C1zError::WindowTooLarge`], [`C1zError::NotSqlite`],
    /// [`C1zError::MissingTables`], [`C1zError::CorruptDatabase`], [`C1zError::Io`].
    pub fn open(path: impl AsRef<Path>, options: ReaderOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(C1zError::Missing { path });
            }
            Err(e) => return Err(C1zError::io("open", &path, e)),
        };
        match container::read_magic(&mut file, &path)? {
            Format::Empty => return Err(C1zError::Empty { path }),
            Format::V1 => {}
        }
        let dir = WorkDir::create(options.temp_dir.as_deref())?;
        let db_path = dir.path().join("db");
        container::decompress_v1(
            file,
            &path,
            &db_path,
            DecodeLimits {
                max_decoded_size: options.max_decoded_size,
            },
        )?;
        let conn = open_private_copy(&db_path)?;
        let not_sqlite = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => C1zError::NotSqlite {
                path: path.clone(),
                reason: e.to_string(),
            },
            _ => C1zError::sqlite("opening the decompressed database", e),
        };
        // The copy is private and thrown away: no fsync. The rollback journal stays (in memory)
        // so that a failed index build leaves the copy as it was.
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{}; PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY;
             PRAGMA query_only = ON;",
            options.cache_size_kib.max(64)
        ))
        .map_err(not_sqlite)?;
        conn.set_prepared_statement_cache_capacity(32);
        let missing = schema::missing_tables(&conn).map_err(|e| match e {
            C1zError::Sqlite { source, .. } | C1zError::CorruptDatabase { source } => {
                not_sqlite(source)
            }
            other => other,
        })?;
        if !missing.is_empty() {
            return Err(C1zError::MissingTables {
                path,
                tables: missing,
            });
        }
        let has_sync_type = schema::has_column(&conn, "v1_sync_runs", "sync_type")?;
        let has_parent_sync_id = schema::has_column(&conn, "v1_sync_runs", "parent_sync_id")?;
        Ok(Self {
            conn,
            _dir: dir,
            db_path,
            cache_size_kib: options.cache_size_kib.max(64),
            path,
            has_sync_type,
            has_parent_sync_id,
            // Without lazy indexes every lookup index counts as already handled.
            ensured: Cell::new(if options.lookup_indexes { 0 } else { u32::MAX }),
            prefetching: Cell::new(0),
        })
    }

    /// Creates the lookup indexes `needed` that the copy lacks, each at most once.
    ///
    /// Skipped while an iterator's prefetch thread reads the database (the build would have to
    /// wait for it, or make it wait): the listing then scans the table, which gives the same
    /// rows, and the index is built by a later listing. A failed build is not retried and is
    /// not an error either (the listing still works without the index).
    fn ensure_indexes(&self, needed: &[LookupIndex]) {
        if self.prefetching.get() > 0 {
            return;
        }
        for idx in needed {
            let bit = lookup_bit(idx);
            if self.ensured.get() & bit != 0 {
                continue;
            }
            self.ensured.set(self.ensured.get() | bit);
            let _ = self
                .conn
                .execute_batch(&format!(
                    "PRAGMA query_only = OFF; {}; PRAGMA query_only = ON;",
                    idx.sql
                ))
                .or_else(|_| self.conn.execute_batch("PRAGMA query_only = ON"));
        }
    }

    /// The file this reader was opened on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All sync runs in row order (oldest first).
    pub fn sync_runs(&self) -> Result<Vec<SyncRun>> {
        self.query_sync_runs("ORDER BY id", &[])
    }

    /// The sync a reader uses by default (Go SDK rules): the latest finished `full` sync
    /// (`ended_at DESC, sync_id DESC`), else the latest unfinished sync; `None` when the
    /// file has no sync at all. One addition: a file whose finished syncs are all of another
    /// type (say `resources_only`) gives the latest of those before an unfinished one.
    pub fn latest_sync_run(&self) -> Result<Option<SyncRun>> {
        const ANY: &str = "WHERE ended_at IS NOT NULL ORDER BY ended_at DESC, sync_id DESC LIMIT 1";
        if self.has_sync_type {
            let full = "WHERE ended_at IS NOT NULL AND sync_type = 'full' \
                        ORDER BY ended_at DESC, sync_id DESC LIMIT 1";
            if let Some(run) = self.query_sync_runs(full, &[])?.pop() {
                return Ok(Some(run));
            }
        }
        if let Some(run) = self.query_sync_runs(ANY, &[])?.pop() {
            return Ok(Some(run));
        }
        Ok(self
            .query_sync_runs(
                "WHERE ended_at IS NULL ORDER BY started_at DESC, sync_id DESC LIMIT 1",
                &[],
            )?
            .pop())
    }

    /// A view of the latest sync (see [`latest_sync_run`](Self::latest_sync_run)).
    pub fn latest(&self) -> Result<SyncView<'_>> {
        let run = self.latest_sync_run()?.ok_or_else(|| C1zError::NoSyncs {
            path: self.path.clone(),
        })?;
        Ok(SyncView { reader: self, run })
    }

    /// A view of the sync with this id.
    pub fn sync(&self, sync_id: &str) -> Result<SyncView<'_>> {
        let run = self
            .query_sync_runs("WHERE sync_id = ?1", &[Value::Text(sync_id.to_owned())])?
            .pop()
            .ok_or_else(|| C1zError::SyncNotFound {
                sync_id: sync_id.to_owned(),
            })?;
        Ok(SyncView { reader: self, run })
    }

    /// [`sync`](Self::sync) when an id is given (a `--sync-id` flag), else [`latest`](Self::latest).
    pub fn view(&self, sync_id: Option<&str>) -> Result<SyncView<'_>> {
        match sync_id {
            Some(id) if !id.is_empty() => self.sync(id),
            _ => self.latest(),
        }
    }

    fn query_sync_runs(&self, tail: &str, args: &[Value]) -> Result<Vec<SyncRun>> {
        let sql = format!(
            "SELECT sync_id, started_at, ended_at, sync_token, {}, {} FROM v1_sync_runs {tail}",
            if self.has_sync_type {
                "sync_type"
            } else {
                "'full'"
            },
            if self.has_parent_sync_id {
                "parent_sync_id"
            } else {
                "''"
            },
        );
        let mut stmt = self.conn.prepare_cached(&sql).ctx("reading sync runs")?;
        let rows = stmt
            .query_map(params_from_iter(args.iter()), |r| {
                Ok(SyncRun {
                    sync_id: r.get(0)?,
                    started_at: text_of(r.get_ref(1)?),
                    ended_at: match r.get_ref(2)? {
                        rusqlite::types::ValueRef::Null => None,
                        v => Some(text_of(v)),
                    },
                    sync_token: text_of(r.get_ref(3)?),
                    sync_type: text_of(r.get_ref(4)?),
                    parent_sync_id: text_of(r.get_ref(5)?),
                })
            })
            .ctx("reading sync runs")?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading sync runs")
    }
}

/// Bit of `idx` in [`C1zReader::ensured`].
fn lookup_bit(idx: &LookupIndex) -> u32 {
    schema::LOOKUP_INDEXES
        .iter()
        .position(|i| i.name == idx.name)
        .map_or(0, |p| 1 << p)
}

/// Opens the private decompressed copy (read-write: lookup indexes may be added to it).
fn open_private_copy(db_path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        db_path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ctx("opening the decompressed database")?;
    functions::register(&conn)?;
    Ok(conn)
}

/// Opens the decompressed database read-only.
fn open_read_only(db_path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        db_path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ctx("opening the decompressed database")?;
    functions::register(&conn)?;
    Ok(conn)
}

/// A column value as text (timestamps may have been stored with another storage class).
fn text_of(v: rusqlite::types::ValueRef<'_>) -> String {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => String::new(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
    }
}
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{C1zWriter, WriterOptions};
    use baton_model::pb;

    fn rid(rt: &str, id: &str) -> pb::ResourceId {
        pb::ResourceId {
            resource_type: rt.into(),
            resource: id.into(),
            ..Default::default()
        }
    }

    fn lookup_indexes(r: &C1zReader) -> Vec<String> {
        let mut names: Vec<String> = r
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        names.retain(|n| schema::LOOKUP_INDEXES.iter().any(|i| i.name == n));
        names.sort();
        names
    }

    #[test]
    fn lookup_indexes_are_created_lazily_on_the_private_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lazy.c1z");
        let mut w = C1zWriter::create(&path, WriterOptions::default()).unwrap();
        let group = pb::Resource {
            id: Some(rid("group", "g")),
            ..Default::default()
        };
        w.put_resource(&group).unwrap();
        let ent = pb::Entitlement {
            id: "group:g:member".into(),
            resource: Some(group),
            ..Default::default()
        };
        w.put_entitlement(&ent).unwrap();
        w.put_grant(&pb::Grant {
            id: "group:g:member:user:u".into(),
            entitlement: Some(ent),
            principal: Some(pb::Resource {
                id: Some(rid("user", "u")),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
        w.finish().unwrap();
        let before = std::fs::read(&path).unwrap();

        let r = C1zReader::open(&path, ReaderOptions::default()).unwrap();
        assert!(lookup_indexes(&r).is_empty());
        let v = r.latest().unwrap();
        // Unfiltered listings and lookups by id need no lookup index.
        assert_eq!(v.grants(&GrantFilter::default()).count(), 1);
        assert!(v.get_grant("group:g:member:user:u").unwrap().is_some());
        assert!(lookup_indexes(&r).is_empty());

        let by_ent = GrantFilter {
            entitlement_id: Some("group:g:member".into()),
            ..Default::default()
        };
        assert_eq!(v.grants(&by_ent).count(), 1);
        assert_eq!(lookup_indexes(&r), ["idx_grants_entitlement_sync_grant_v1"]);
        let by_principal = GrantFilter {
            principal: Some(rid("user", "u")),
            ..Default::default()
        };
        assert_eq!(
            v.list_grants(&by_principal, &PageRequest::first(10))
                .unwrap()
                .items
                .len(),
            1
        );
        let by_type = ResourceFilter {
            resource_type_id: Some("group".into()),
            ..Default::default()
        };
        assert_eq!(v.resources(&by_type).count(), 1);
        assert_eq!(
            lookup_indexes(&r),
            [
                "idx_grants_entitlement_sync_grant_v1",
                "idx_grants_principal_id_v1",
                "idx_resources_resource_type_id_v1",
            ]
        );
        // The query planner uses them.
        let plan: Vec<String> = r
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT id, data FROM v1_grants WHERE sync_id = ?1
                 AND entitlement_id = ?2 AND id >= 0 ORDER BY id LIMIT 5",
            )
            .unwrap()
            .query_map(["x", "y"], |row| row.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let plan = plan.join("; ");
        assert!(
            plan.contains("idx_grants_entitlement_sync_grant_v1"),
            "{plan}"
        );
        // The file itself is never written.
        drop(v);
        drop(r);
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
