//! The reader: decompresses a `.c1z` into a temporary directory and serves listings and lookups
//! of one sync, with the Go SDK's pagination and sync-selection rules.
//!
//! Like the Go SDK, which runs `CREATE INDEX IF NOT EXISTS` for all its indexes on every open,
//! read-only opens included, on its temporary copy (`c1z-format.md` §1.3 step 3), the reader
//! creates the non-unique lookup indexes of §2.3 that a file lacks on its private copy (the
//! `.c1z` itself is never written). It does so lazily: an index is built the first time a
//! filtered listing needs it, so opening a file and reading everything stays fast.

use crate::container::{self, DEFAULT_MAX_DECODED_SIZE, DecodeLimits, Format};
use crate::error::{C1zError, ObjectKind, Result, SqlContext};
use crate::schema::{self, LookupIndex};
use crate::writer::make_temp_dir;
use baton_model::pb;
use prost::Message;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params_from_iter};
use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use tempfile::TempDir;

/// Largest page a listing returns (a page size of 0 or above this means this).
pub const MAX_PAGE_SIZE: u32 = 10_000;

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
}

impl Default for ReaderOptions {
    fn default() -> Self {
        Self {
            temp_dir: None,
            max_decoded_size: DEFAULT_MAX_DECODED_SIZE,
            cache_size_kib: 16 * 1024,
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
    /// Sets [`ReaderOptions::cache_size_kib`].
    #[must_use]
    pub fn with_cache_size_kib(mut self, kib: u32) -> Self {
        self.cache_size_kib = kib;
        self
    }
}

/// One row of `v1_sync_runs`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncRun {
    /// The sync's KSUID.
    pub sync_id: String,
    /// Start time as stored (Go layout `YYYY-MM-DD HH:MM:SS[.fff]`, local time, no zone).
    pub started_at: String,
    /// End time as stored; `None` while the sync is unfinished.
    pub ended_at: Option<String>,
    /// The syncer's checkpoint (JSON, or empty).
    pub sync_token: String,
    /// `sync_type` (`"full"` when the file predates that column).
    pub sync_type: String,
    /// `parent_sync_id` (empty when absent).
    pub parent_sync_id: String,
}

impl SyncRun {
    /// Whether the sync has ended.
    pub fn is_finished(&self) -> bool {
        self.ended_at.is_some()
    }
}

/// Pagination request: the Go SDK's `page_token` / `page_size`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// `""` for the first page, else the `next_page_token` of the previous page.
    pub page_token: String,
    /// Rows per page; 0 or more than [`MAX_PAGE_SIZE`] means [`MAX_PAGE_SIZE`].
    pub page_size: u32,
}

impl PageRequest {
    /// A request for the first page of `size` rows.
    pub fn first(size: u32) -> Self {
        Self {
            page_token: String::new(),
            page_size: size,
        }
    }
    /// A request for the page starting at `token`.
    pub fn at(token: impl Into<String>, size: u32) -> Self {
        Self {
            page_token: token.into(),
            page_size: size,
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The objects, in row-id order.
    pub items: Vec<T>,
    /// Token of the next page (decimal row id), `""` when this is the last page.
    pub next_page_token: String,
}

/// Filter of resource listings (all set fields must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// Only resources of this type.
    pub resource_type_id: Option<String>,
    /// Only children of this resource.
    pub parent: Option<pb::ResourceId>,
}

/// Filter of entitlement listings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntitlementFilter {
    /// Only entitlements of resources of this type.
    pub resource_type_id: Option<String>,
    /// Only entitlements of this resource.
    pub resource: Option<pb::ResourceId>,
}

/// Filter of grant listings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    /// Only grants of this entitlement id.
    pub entitlement_id: Option<String>,
    /// Only grants on entitlements of resources of this type.
    pub resource_type_id: Option<String>,
    /// Only grants on entitlements of this resource.
    pub resource: Option<pb::ResourceId>,
    /// Only grants to this principal.
    pub principal: Option<pb::ResourceId>,
    /// Only grants whose principal type is one of these (ignored when empty).
    pub principal_resource_type_ids: Vec<String>,
}

/// Object counts of one sync (what `baton stats` shows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncStats {
    /// Resource types.
    pub resource_types: u64,
    /// Resources.
    pub resources: u64,
    /// Resources per resource type id.
    pub resources_by_type: BTreeMap<String, u64>,
    /// Entitlements.
    pub entitlements: u64,
    /// Grants.
    pub grants: u64,
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
    _dir: TempDir,
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
        let dir = make_temp_dir(options.temp_dir.as_deref())?;
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
            ensured: Cell::new(0),
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
    /// file has no sync at all.
    pub fn latest_sync_run(&self) -> Result<Option<SyncRun>> {
        let finished = if self.has_sync_type {
            "WHERE ended_at IS NOT NULL AND sync_type = 'full' ORDER BY ended_at DESC, sync_id DESC LIMIT 1"
        } else {
            "WHERE ended_at IS NOT NULL ORDER BY ended_at DESC, sync_id DESC LIMIT 1"
        };
        if let Some(run) = self.query_sync_runs(finished, &[])?.pop() {
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
    Connection::open_with_flags(
        db_path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ctx("opening the decompressed database")
}

/// Opens the decompressed database read-only.
fn open_read_only(db_path: &Path) -> Result<Connection> {
    Connection::open_with_flags(
        db_path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ctx("opening the decompressed database")
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

/// One sync of a [`C1zReader`]: listings and lookups filtered by its sync id.
#[derive(Debug, Clone)]
pub struct SyncView<'r> {
    reader: &'r C1zReader,
    run: SyncRun,
}

/// A query on one object table: `WHERE sync_id = ? AND <conds>`.
#[derive(Debug, Clone)]
struct TableQuery {
    kind: ObjectKind,
    table: &'static str,
    conds: String,
    args: Vec<Value>,
    /// Lookup indexes that serve `conds`.
    indexes: Vec<LookupIndex>,
}

impl TableQuery {
    fn new(kind: ObjectKind) -> Self {
        let table = match kind {
            ObjectKind::ResourceType => "v1_resource_types",
            ObjectKind::Resource => "v1_resources",
            ObjectKind::Entitlement => "v1_entitlements",
            ObjectKind::Grant => "v1_grants",
        };
        Self {
            kind,
            table,
            conds: String::new(),
            args: Vec::new(),
            indexes: Vec::new(),
        }
    }

    fn eq(&mut self, column: &str, value: &str) {
        self.conds.push_str(" AND ");
        self.conds.push_str(column);
        self.conds.push_str(" = ?");
        self.args.push(Value::Text(value.to_owned()));
    }

    fn resource_id(&mut self, type_column: &str, id_column: &str, id: &pb::ResourceId) {
        self.eq(type_column, &id.resource_type);
        self.eq(id_column, &id.resource);
    }

    fn one_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        self.conds.push_str(" AND ");
        self.conds.push_str(column);
        self.conds.push_str(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.conds.push_str(", ");
            }
            self.conds.push('?');
            self.args.push(Value::Text(v.clone()));
        }
        self.conds.push(')');
    }
}

fn parse_token(token: &str) -> Result<i64> {
    if token.is_empty() {
        return Ok(0);
    }
    token
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| C1zError::InvalidPageToken {
            token: token.to_owned(),
        })
}

fn effective_page_size(size: u32) -> u32 {
    if size == 0 || size > MAX_PAGE_SIZE {
        MAX_PAGE_SIZE
    } else {
        size
    }
}

impl<'r> SyncView<'r> {
    /// The sync's id.
    pub fn sync_id(&self) -> &str {
        &self.run.sync_id
    }

    /// The sync run row.
    pub fn run(&self) -> &SyncRun {
        &self.run
    }

    /// One page of `query`, decoded.
    fn page<T: Message + Default>(&self, q: &TableQuery, req: &PageRequest) -> Result<Page<T>> {
        let start = parse_token(&req.page_token)?;
        let size = effective_page_size(req.page_size);
        self.reader.ensure_indexes(&q.indexes);
        let mut raw = RawRows::default();
        let next_page_token = raw_page(
            &self.reader.conn,
            &self.run.sync_id,
            q,
            start,
            size,
            &mut raw,
        )?;
        let mut items = Vec::with_capacity(raw.rows.len());
        while let Some(item) = raw.decode_next::<T>(q.kind) {
            items.push(item?);
        }
        Ok(Page {
            items,
            next_page_token,
        })
    }

    fn get<T: Message + Default>(&self, q: &TableQuery) -> Result<Option<T>> {
        let sql = format!(
            "SELECT id, data FROM {} WHERE sync_id = ?{} ORDER BY id LIMIT 1",
            q.table, q.conds
        );
        let mut args = Vec::with_capacity(q.args.len() + 1);
        args.push(Value::Text(self.run.sync_id.clone()));
        args.extend(q.args.iter().cloned());
        let mut stmt = self
            .reader
            .conn
            .prepare_cached(&sql)
            .ctx("preparing a lookup")?;
        let row: Option<(i64, Vec<u8>)> = stmt
            .query_row(params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .ctx("looking up a row")?;
        row.map(|(row_id, data)| {
            T::decode(data.as_slice()).map_err(|source| C1zError::Decode {
                kind: q.kind,
                row_id,
                source,
            })
        })
        .transpose()
    }

    fn iter<T: Message + Default>(&self, q: TableQuery) -> Rows<'_, 'r, T> {
        Rows {
            view: self,
            query: q,
            raw: RawRows::default(),
            fetch: Fetch::Next(0),
            _marker: PhantomData,
        }
    }

    fn resource_query(filter: &ResourceFilter) -> TableQuery {
        let mut q = TableQuery::new(ObjectKind::Resource);
        if let Some(t) = &filter.resource_type_id {
            q.eq("resource_type_id", t);
            q.indexes.push(schema::IDX_RESOURCES_TYPE);
        }
        if let Some(p) = &filter.parent {
            q.resource_id("parent_resource_type_id", "parent_resource_id", p);
            q.indexes.push(schema::IDX_RESOURCES_PARENT);
        }
        q
    }

    fn entitlement_query(filter: &EntitlementFilter) -> TableQuery {
        let mut q = TableQuery::new(ObjectKind::Entitlement);
        if let Some(t) = &filter.resource_type_id {
            q.eq("resource_type_id", t);
        }
        if let Some(r) = &filter.resource {
            q.resource_id("resource_type_id", "resource_id", r);
        }
        if filter.resource_type_id.is_some() || filter.resource.is_some() {
            q.indexes.push(schema::IDX_ENTITLEMENTS_RESOURCE);
        }
        q
    }

    fn grant_query(filter: &GrantFilter) -> TableQuery {
        let mut q = TableQuery::new(ObjectKind::Grant);
        if let Some(e) = &filter.entitlement_id {
            q.eq("entitlement_id", e);
            q.indexes.push(if filter.principal.is_some() {
                schema::IDX_GRANTS_ENTITLEMENT_PRINCIPAL
            } else {
                schema::IDX_GRANTS_ENTITLEMENT
            });
        }
        if let Some(t) = &filter.resource_type_id {
            q.eq("resource_type_id", t);
        }
        if let Some(r) = &filter.resource {
            q.resource_id("resource_type_id", "resource_id", r);
        }
        if filter.resource_type_id.is_some() || filter.resource.is_some() {
            q.indexes.push(schema::IDX_GRANTS_RESOURCE);
        }
        if let Some(p) = &filter.principal {
            q.resource_id("principal_resource_type_id", "principal_resource_id", p);
            if filter.entitlement_id.is_none() {
                q.indexes.push(schema::IDX_GRANTS_PRINCIPAL);
            }
        }
        q.one_of(
            "principal_resource_type_id",
            &filter.principal_resource_type_ids,
        );
        q
    }

    /// One page of resource types.
    pub fn list_resource_types(&self, page: &PageRequest) -> Result<Page<pb::ResourceType>> {
        self.page(&TableQuery::new(ObjectKind::ResourceType), page)
    }

    /// One page of resources matching `filter`.
    pub fn list_resources(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> Result<Page<pb::Resource>> {
        self.page(&Self::resource_query(filter), page)
    }

    /// One page of entitlements matching `filter`.
    pub fn list_entitlements(
        &self,
        filter: &EntitlementFilter,
        page: &PageRequest,
    ) -> Result<Page<pb::Entitlement>> {
        self.page(&Self::entitlement_query(filter), page)
    }

    /// One page of grants matching `filter`.
    pub fn list_grants(&self, filter: &GrantFilter, page: &PageRequest) -> Result<Page<pb::Grant>> {
        self.page(&Self::grant_query(filter), page)
    }

    /// Every resource type, in row order (fetched page by page).
    pub fn resource_types(&self) -> Rows<'_, 'r, pb::ResourceType> {
        self.iter(TableQuery::new(ObjectKind::ResourceType))
    }

    /// Every resource matching `filter`, in row order.
    pub fn resources(&self, filter: &ResourceFilter) -> Rows<'_, 'r, pb::Resource> {
        self.iter(Self::resource_query(filter))
    }

    /// Every entitlement matching `filter`, in row order.
    pub fn entitlements(&self, filter: &EntitlementFilter) -> Rows<'_, 'r, pb::Entitlement> {
        self.iter(Self::entitlement_query(filter))
    }

    /// Every grant matching `filter`, in row order.
    pub fn grants(&self, filter: &GrantFilter) -> Rows<'_, 'r, pb::Grant> {
        self.iter(Self::grant_query(filter))
    }

    /// The resource type with this id.
    pub fn get_resource_type(&self, id: &str) -> Result<Option<pb::ResourceType>> {
        let mut q = TableQuery::new(ObjectKind::ResourceType);
        q.eq("external_id", id);
        self.get(&q)
    }

    /// The resource with this id.
    pub fn get_resource(&self, id: &pb::ResourceId) -> Result<Option<pb::Resource>> {
        let mut q = TableQuery::new(ObjectKind::Resource);
        q.eq("resource_type_id", &id.resource_type);
        q.eq(
            "external_id",
            &format!("{}:{}", id.resource_type, id.resource),
        );
        self.get(&q)
    }

    /// The entitlement with this id.
    pub fn get_entitlement(&self, id: &str) -> Result<Option<pb::Entitlement>> {
        let mut q = TableQuery::new(ObjectKind::Entitlement);
        q.eq("external_id", id);
        self.get(&q)
    }

    /// The grant with this id.
    pub fn get_grant(&self, id: &str) -> Result<Option<pb::Grant>> {
        let mut q = TableQuery::new(ObjectKind::Grant);
        q.eq("external_id", id);
        self.get(&q)
    }

    /// Object counts of this sync.
    pub fn stats(&self) -> Result<SyncStats> {
        let conn = &self.reader.conn;
        let count = |table: &str| -> Result<u64> {
            let n: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM {table} WHERE sync_id = ?1"),
                    [&self.run.sync_id],
                    |r| r.get(0),
                )
                .ctx("counting rows")?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let mut stats = SyncStats {
            resource_types: count("v1_resource_types")?,
            resources: count("v1_resources")?,
            entitlements: count("v1_entitlements")?,
            grants: count("v1_grants")?,
            ..SyncStats::default()
        };
        let mut stmt = conn
            .prepare(
                "SELECT resource_type_id, count(*) FROM v1_resources WHERE sync_id = ?1
                 GROUP BY resource_type_id ORDER BY resource_type_id",
            )
            .ctx("counting resources")?;
        let rows = stmt
            .query_map([&self.run.sync_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .ctx("counting resources")?;
        for row in rows {
            let (t, n) = row.ctx("counting resources")?;
            stats
                .resources_by_type
                .insert(t, u64::try_from(n).unwrap_or(0));
        }
        Ok(stats)
    }
}

/// One page of `q` as raw blobs: rows with `id >= start`, `size + 1` lookahead.
/// Appends the blobs to `out` and returns the next page token (`""` when done).
fn raw_page(
    conn: &Connection,
    sync_id: &str,
    q: &TableQuery,
    start: i64,
    size: u32,
    out: &mut RawRows,
) -> Result<String> {
    let sql = format!(
        "SELECT id, data FROM {} WHERE sync_id = ?{} AND id >= ? ORDER BY id LIMIT ?",
        q.table, q.conds
    );
    let mut args = Vec::with_capacity(q.args.len() + 3);
    args.push(Value::Text(sync_id.to_owned()));
    args.extend(q.args.iter().cloned());
    args.push(Value::Integer(start));
    args.push(Value::Integer(i64::from(size) + 1));
    let mut stmt = conn.prepare_cached(&sql).ctx("preparing a listing")?;
    let mut rows = stmt.query(params_from_iter(args)).ctx("listing rows")?;
    let mut taken = 0u32;
    let mut last_id = 0i64;
    while let Some(row) = rows.next().ctx("listing rows")? {
        if taken == size {
            return Ok((last_id + 1).to_string());
        }
        let id: i64 = row.get(0).ctx("listing rows")?;
        let bytes = match row.get_ref(1).ctx("listing rows")? {
            rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => b,
            _ => &[],
        };
        let begin = out.data.len();
        out.data.extend_from_slice(bytes);
        out.rows.push_back((id, begin, out.data.len()));
        taken += 1;
        last_id = id;
    }
    Ok(String::new())
}

/// Blobs of one fetched page: `(row id, start, end)` ranges into one buffer.
#[derive(Debug, Default)]
struct RawRows {
    data: Vec<u8>,
    rows: VecDeque<(i64, usize, usize)>,
}

impl RawRows {
    fn clear(&mut self) {
        self.data.clear();
        self.rows.clear();
    }

    /// Decodes the next buffered row.
    fn decode_next<T: Message + Default>(&mut self, kind: ObjectKind) -> Option<Result<T>> {
        let (row_id, begin, end) = self.rows.pop_front()?;
        let bytes = self.data.get(begin..end).unwrap_or(&[]);
        Some(T::decode(bytes).map_err(|source| C1zError::Decode {
            kind,
            row_id,
            source,
        }))
    }
}

/// Iterator over every matching object of a sync, fetched in pages of [`MAX_PAGE_SIZE`] rows
/// and decoded one at a time, so memory stays bounded by a few pages of raw blobs.
///
/// After the first page, the following pages are read by a helper thread (with its own
/// read-only connection) while the caller decodes and consumes the current one; dropping the
/// iterator stops and joins that thread.
///
/// Yields `Err` and then stops when a page cannot be read; a row that does not decode yields
/// `Err` and iteration continues with the next row.
#[derive(Debug)]
pub struct Rows<'v, 'r, T> {
    view: &'v SyncView<'r>,
    query: TableQuery,
    raw: RawRows,
    fetch: Fetch,
    _marker: PhantomData<fn() -> T>,
}

/// Where the next page comes from.
#[derive(Debug)]
enum Fetch {
    /// Read synchronously, starting at this row id.
    Next(i64),
    /// Pages arrive from the prefetch thread.
    Prefetch {
        rx: Receiver<Result<RawRows>>,
        handle: Option<JoinHandle<()>>,
    },
    /// No page is left.
    Done,
}

/// Pages the prefetch thread may read ahead of the consumer.
const PREFETCH_DEPTH: usize = 2;

impl<T> Rows<'_, '_, T> {
    /// Starts the prefetch thread at row id `start`; `None` if the thread cannot start.
    fn spawn_prefetch(&self, start: i64) -> Option<Fetch> {
        let (tx, rx) = sync_channel::<Result<RawRows>>(PREFETCH_DEPTH);
        let db_path = self.view.reader.db_path.clone();
        let cache_kib = self.view.reader.cache_size_kib;
        let sync_id = self.view.run.sync_id.clone();
        let query = self.query.clone();
        let handle = std::thread::Builder::new()
            .name("c1z-prefetch".into())
            .spawn(move || prefetch(&db_path, cache_kib, &sync_id, &query, start, &tx))
            .ok()?;
        let active = &self.view.reader.prefetching;
        active.set(active.get() + 1);
        Some(Fetch::Prefetch {
            rx,
            handle: Some(handle),
        })
    }
}

/// Body of the prefetch thread: sends pages until done, failed, or the receiver is gone.
fn prefetch(
    db_path: &Path,
    cache_kib: u32,
    sync_id: &str,
    query: &TableQuery,
    mut start: i64,
    tx: &SyncSender<Result<RawRows>>,
) {
    let conn = match open_read_only(db_path).and_then(|c| {
        c.execute_batch(&format!(
            "PRAGMA cache_size = -{cache_kib}; PRAGMA query_only = ON;"
        ))
        .ctx("configuring a prefetch connection")?;
        Ok(c)
    }) {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    loop {
        let mut raw = RawRows::default();
        match raw_page(&conn, sync_id, query, start, MAX_PAGE_SIZE, &mut raw) {
            Ok(token) => {
                if tx.send(Ok(raw)).is_err() {
                    return;
                }
                match token.parse::<i64>() {
                    Ok(next) => start = next,
                    Err(_) => return,
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

impl<T: Message + Default> Iterator for Rows<'_, '_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.raw.decode_next::<T>(self.query.kind) {
                return Some(item);
            }
            match &mut self.fetch {
                Fetch::Done => return None,
                Fetch::Next(start) => {
                    let start = *start;
                    self.raw.clear();
                    self.view.reader.ensure_indexes(&self.query.indexes);
                    let page = raw_page(
                        &self.view.reader.conn,
                        &self.view.run.sync_id,
                        &self.query,
                        start,
                        MAX_PAGE_SIZE,
                        &mut self.raw,
                    );
                    self.fetch = Fetch::Done;
                    match page {
                        Ok(token) => {
                            if let Ok(next) = token.parse::<i64>() {
                                self.fetch = self.spawn_prefetch(next).unwrap_or(Fetch::Next(next));
                            }
                        }
                        Err(e) => return Some(Err(e)),
                    }
                }
                Fetch::Prefetch { rx, .. } => match rx.recv() {
                    Ok(Ok(raw)) => self.raw = raw,
                    Ok(Err(e)) => {
                        self.stop_prefetch();
                        return Some(Err(e));
                    }
                    Err(_) => self.stop_prefetch(),
                },
            }
        }
    }
}

impl<T> Rows<'_, '_, T> {
    /// Stops and joins the prefetch thread, if any.
    fn stop_prefetch(&mut self) {
        if let Fetch::Prefetch { rx, handle } = std::mem::replace(&mut self.fetch, Fetch::Done) {
            drop(rx);
            if let Some(h) = handle {
                let _ = h.join();
            }
            let active = &self.view.reader.prefetching;
            active.set(active.get().saturating_sub(1));
        }
    }
}

impl<T> Drop for Rows<'_, '_, T> {
    fn drop(&mut self) {
        self.stop_prefetch();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{C1zWriter, WriterOptions};

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
