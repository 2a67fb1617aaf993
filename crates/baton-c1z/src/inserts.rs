//! The insert path of the writer: `put_*` calls validate and encode objects into a [`Batch`]
//! (one text arena, one blob arena, row descriptors); full batches are written to SQLite either
//! on the calling thread or, when [`WriterOptions::insert_thread`] is set, by a dedicated
//! thread that owns the connection, so protobuf encoding (and whatever produces the objects)
//! overlaps with SQLite's work.
//!
//! Grants, the bulk of a sync, are inserted [`GRANTS_PER_STATEMENT`] rows per `INSERT` (one
//! multi-row `VALUES` list): per-statement work (cursor opening, halting, resetting) is then
//! paid once per group of rows. The upsert semantics are unchanged: the rows of one statement
//! are inserted in order, and a row whose `(external_id, sync_id)` already exists (earlier in
//! the same statement included) updates `data`, exactly as the single-row statement does.
//!
//! [`WriterOptions::insert_thread`]: crate::WriterOptions::insert_thread

use crate::error::{C1zError, ObjectKind, Result, SqlContext};
use crate::timestamp::now_local;
use prost::Message;
use rusqlite::{CachedStatement, Connection};
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, LazyLock};
use std::thread::JoinHandle;

/// Grants per multi-row `INSERT` (measured on the 1M-grant workload: 8 rows per statement
/// used ~20% less CPU than 1 row; 64 or 200 rows were slower than 8).
pub(crate) const GRANTS_PER_STATEMENT: usize = 8;

/// A batch is handed to SQLite when it holds this many rows...
const BATCH_ROWS: usize = 512;
/// ... or this many bytes of encoded objects.
const BATCH_BLOB_BYTES: usize = 1 << 20;
/// Full batches that may wait for the insert thread (bounds memory: a few hundred KiB each).
const QUEUE_DEPTH: usize = 2;

/// Parameters `?1` and `?2` of every insert statement: the sync id and `discovered_at`.
const CONSTANT_PARAMS: usize = 2;

const SQL_RESOURCE_TYPE: &str =
    "INSERT INTO v1_resource_types (sync_id, discovered_at, external_id, data)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (external_id, sync_id) DO UPDATE SET data = excluded.data";
const SQL_RESOURCE: &str =
    "INSERT INTO v1_resources (sync_id, discovered_at, resource_type_id, external_id,
         parent_resource_type_id, parent_resource_id, data)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
     ON CONFLICT (external_id, sync_id) DO UPDATE SET data = excluded.data";
const SQL_ENTITLEMENT: &str =
    "INSERT INTO v1_entitlements (sync_id, discovered_at, resource_type_id, resource_id,
         external_id, data)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT (external_id, sync_id) DO UPDATE SET data = excluded.data";

/// Text columns of a grant row, in parameter order after the constants.
const GRANT_TEXT_FIELDS: usize = 6;
/// Parameters of one grant row (text columns + `data`).
const GRANT_PARAMS: usize = GRANT_TEXT_FIELDS + 1;

/// `INSERT INTO v1_grants … VALUES (…), (…) … ON CONFLICT … DO UPDATE` for `rows` rows.
fn grant_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO v1_grants (sync_id, discovered_at, resource_type_id, resource_id,
             entitlement_id, principal_resource_type_id, principal_resource_id, external_id, data)
         VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(?1, ?2");
        for p in 0..GRANT_PARAMS {
            let _ = write!(sql, ", ?{}", CONSTANT_PARAMS + 1 + r * GRANT_PARAMS + p);
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (external_id, sync_id) DO UPDATE SET data = excluded.data");
    sql
}

/// What a row is, and how many text fields it has in the arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKind {
    /// Text: external id.
    ResourceType,
    /// Text: resource type id, external id, then parent type and parent id if `parent`.
    Resource { parent: bool },
    /// Text: resource type id, resource id, external id.
    Entitlement,
    /// Text: [`GRANT_TEXT_FIELDS`] fields (resource type id, resource id, entitlement id,
    /// principal type, principal id, external id).
    Grant,
}

/// One row: its kind, where its text fields end in [`Batch::text`] (they start where the
/// previous field ends, the first at `text_start`), and its encoded object in [`Batch::blobs`].
#[derive(Debug, Clone)]
struct Row {
    kind: RowKind,
    text_start: usize,
    text_ends: [usize; GRANT_TEXT_FIELDS],
    blob: Range<usize>,
}

/// Rows waiting to be written, with their strings and encoded objects in two arenas.
#[derive(Default)]
pub(crate) struct Batch {
    text: String,
    blobs: Vec<u8>,
    rows: Vec<Row>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("rows", &self.rows.len())
            .field("bytes", &(self.text.len() + self.blobs.len()))
            .finish()
    }
}

impl Batch {
    fn clear(&mut self) {
        self.text.clear();
        self.blobs.clear();
        self.rows.clear();
    }

    pub(crate) fn is_full(&self) -> bool {
        self.rows.len() >= BATCH_ROWS || self.blobs.len() >= BATCH_BLOB_BYTES
    }

    /// Starts a row: encodes `m`. Text fields are then added with [`Batch::field`] and the row
    /// is closed with [`Batch::push`]. On error the batch is left as it was.
    fn encode<M: Message>(&mut self, m: &M, kind: ObjectKind) -> Result<(usize, Range<usize>)> {
        let start = self.blobs.len();
        if let Err(e) = m.encode(&mut self.blobs) {
            self.blobs.truncate(start);
            return Err(C1zError::InvalidObject {
                kind,
                reason: format!("cannot be encoded ({e})"),
            });
        }
        Ok((self.text.len(), start..self.blobs.len()))
    }

    fn push(&mut self, kind: RowKind, text_start: usize, ends: &[usize], blob: Range<usize>) {
        let mut text_ends = [0; GRANT_TEXT_FIELDS];
        for (slot, end) in text_ends.iter_mut().zip(ends) {
            *slot = *end;
        }
        self.rows.push(Row {
            kind,
            text_start,
            text_ends,
            blob,
        });
    }

    /// Appends a text field; returns its end offset.
    fn field(&mut self, parts: &[&str]) -> usize {
        for p in parts {
            self.text.push_str(p);
        }
        self.text.len()
    }

    pub(crate) fn push_resource_type(&mut self, external_id: &str, m: &impl Message) -> Result<()> {
        let (t, blob) = self.encode(m, ObjectKind::ResourceType)?;
        let e0 = self.field(&[external_id]);
        self.push(RowKind::ResourceType, t, &[e0], blob);
        Ok(())
    }

    pub(crate) fn push_resource(
        &mut self,
        resource_type: &str,
        resource: &str,
        parent: Option<(&str, &str)>,
        m: &impl Message,
    ) -> Result<()> {
        let (t, blob) = self.encode(m, ObjectKind::Resource)?;
        let e0 = self.field(&[resource_type]);
        let e1 = self.field(&[resource_type, ":", resource]);
        match parent {
            Some((pt, pid)) => {
                let e2 = self.field(&[pt]);
                let e3 = self.field(&[pid]);
                self.push(
                    RowKind::Resource { parent: true },
                    t,
                    &[e0, e1, e2, e3],
                    blob,
                );
            }
            None => self.push(RowKind::Resource { parent: false }, t, &[e0, e1], blob),
        }
        Ok(())
    }

    pub(crate) fn push_entitlement(
        &mut self,
        resource_type: &str,
        resource: &str,
        external_id: &str,
        m: &impl Message,
    ) -> Result<()> {
        let (t, blob) = self.encode(m, ObjectKind::Entitlement)?;
        let e0 = self.field(&[resource_type]);
        let e1 = self.field(&[resource]);
        let e2 = self.field(&[external_id]);
        self.push(RowKind::Entitlement, t, &[e0, e1, e2], blob);
        Ok(())
    }

    /// `fields`: resource type id, resource id, entitlement id, principal type, principal id,
    /// external id.
    pub(crate) fn push_grant(
        &mut self,
        fields: [&str; GRANT_TEXT_FIELDS],
        m: &impl Message,
    ) -> Result<()> {
        let (t, blob) = self.encode(m, ObjectKind::Grant)?;
        let mut ends = [0; GRANT_TEXT_FIELDS];
        for (end, f) in ends.iter_mut().zip(fields) {
            *end = self.field(&[f]);
        }
        self.push(RowKind::Grant, t, &ends, blob);
        Ok(())
    }

    /// Text field `i` of `row`.
    fn text(&self, row: &Row, i: usize) -> &str {
        let start = if i == 0 {
            row.text_start
        } else {
            row.text_ends[i - 1]
        };
        self.text.get(start..row.text_ends[i]).unwrap_or_default()
    }

    fn blob(&self, row: &Row) -> &[u8] {
        self.blobs.get(row.blob.clone()).unwrap_or_default()
    }
}

/// Transaction bookkeeping of the connection that inserts rows.
#[derive(Debug)]
pub(crate) struct TxState {
    sync_id: String,
    batch_size: usize,
    in_tx: bool,
    rows_in_tx: usize,
    /// `discovered_at` of the rows of the current transaction (set when it begins).
    discovered_at: String,
    /// Incremented at each `BEGIN`, so statements know when to rebind `discovered_at`.
    generation: u64,
}

impl TxState {
    pub(crate) fn new(sync_id: String, batch_size: usize) -> Self {
        Self {
            sync_id,
            batch_size: batch_size.max(1),
            in_tx: false,
            rows_in_tx: 0,
            discovered_at: String::new(),
            generation: 0,
        }
    }

    fn begin(&mut self, conn: &Connection) -> Result<()> {
        if !self.in_tx {
            conn.execute_batch("BEGIN").ctx("starting a transaction")?;
            self.in_tx = true;
            self.rows_in_tx = 0;
            self.discovered_at = now_local();
            self.generation += 1;
        }
        Ok(())
    }

    /// Rows this transaction may still take before it is committed.
    fn room(&self) -> usize {
        self.batch_size.saturating_sub(self.rows_in_tx).max(1)
    }

    fn wrote(&mut self, conn: &Connection, rows: usize) -> Result<()> {
        self.rows_in_tx += rows;
        if self.rows_in_tx >= self.batch_size {
            self.commit(conn)?;
        }
        Ok(())
    }

    pub(crate) fn commit(&mut self, conn: &Connection) -> Result<()> {
        if self.in_tx {
            conn.execute_batch("COMMIT")
                .ctx("committing a transaction")?;
            self.in_tx = false;
            self.rows_in_tx = 0;
        }
        Ok(())
    }
}

/// A prepared insert statement and the transaction generation its constants were bound for.
struct Prepared<'c> {
    stmt: CachedStatement<'c>,
    generation: u64,
}

/// Returns the statement in `slot` (preparing it on first use), with `?1`/`?2` bound to the
/// current sync id and `discovered_at`.
fn statement<'s, 'c>(
    slot: &'s mut Option<Prepared<'c>>,
    conn: &'c Connection,
    sql: &str,
    st: &TxState,
    action: &'static str,
) -> Result<&'s mut CachedStatement<'c>> {
    let p = match slot {
        Some(p) => p,
        None => slot.insert(Prepared {
            stmt: conn.prepare_cached(sql).ctx(action)?,
            generation: 0,
        }),
    };
    if p.generation != st.generation {
        p.stmt
            .raw_bind_parameter(1, st.sync_id.as_str())
            .ctx(action)?;
        p.stmt
            .raw_bind_parameter(2, st.discovered_at.as_str())
            .ctx(action)?;
        p.generation = st.generation;
    }
    Ok(&mut p.stmt)
}

/// Binds grant `row` as row number `slot` of a (multi-row) grant statement.
fn bind_grant(
    stmt: &mut CachedStatement<'_>,
    b: &Batch,
    row: &Row,
    slot: usize,
) -> rusqlite::Result<()> {
    let base = CONSTANT_PARAMS + 1 + slot * GRANT_PARAMS;
    for i in 0..GRANT_TEXT_FIELDS {
        stmt.raw_bind_parameter(base + i, b.text(row, i))?;
    }
    stmt.raw_bind_parameter(base + GRANT_TEXT_FIELDS, b.blob(row))
}

/// Writes every row of `b`, in order, opening and committing transactions of
/// `TxState::batch_size` rows.
pub(crate) fn apply_batch(conn: &Connection, st: &mut TxState, b: &Batch) -> Result<()> {
    const GRANT_ACTION: &str = "writing a grant";
    static ONE_GRANT: LazyLock<String> = LazyLock::new(|| grant_sql(1));
    static GRANTS: LazyLock<String> = LazyLock::new(|| grant_sql(GRANTS_PER_STATEMENT));
    let mut rt_stmt = None;
    let mut res_stmt = None;
    let mut ent_stmt = None;
    let mut grant_stmt = None;
    let mut grants_stmt = None;
    let mut i = 0;
    while let Some(row) = b.rows.get(i) {
        st.begin(conn)?;
        let written = match row.kind {
            RowKind::Grant => {
                let run = b.rows[i..]
                    .iter()
                    .take(GRANTS_PER_STATEMENT.min(st.room()))
                    .take_while(|r| r.kind == RowKind::Grant)
                    .count();
                if run == GRANTS_PER_STATEMENT {
                    let s = statement(&mut grants_stmt, conn, &GRANTS, st, GRANT_ACTION)?;
                    for (slot, r) in b.rows[i..i + run].iter().enumerate() {
                        bind_grant(s, b, r, slot).ctx(GRANT_ACTION)?;
                    }
                    s.raw_execute().ctx(GRANT_ACTION)?;
                    run
                } else {
                    let s = statement(&mut grant_stmt, conn, &ONE_GRANT, st, GRANT_ACTION)?;
                    bind_grant(s, b, row, 0).ctx(GRANT_ACTION)?;
                    s.raw_execute().ctx(GRANT_ACTION)?;
                    1
                }
            }
            RowKind::ResourceType => {
                const A: &str = "writing a resource type";
                let s = statement(&mut rt_stmt, conn, SQL_RESOURCE_TYPE, st, A)?;
                s.raw_bind_parameter(3, b.text(row, 0)).ctx(A)?;
                s.raw_bind_parameter(4, b.blob(row)).ctx(A)?;
                s.raw_execute().ctx(A)?;
                1
            }
            RowKind::Resource { parent } => {
                const A: &str = "writing a resource";
                let s = statement(&mut res_stmt, conn, SQL_RESOURCE, st, A)?;
                s.raw_bind_parameter(3, b.text(row, 0)).ctx(A)?;
                s.raw_bind_parameter(4, b.text(row, 1)).ctx(A)?;
                if parent {
                    s.raw_bind_parameter(5, b.text(row, 2)).ctx(A)?;
                    s.raw_bind_parameter(6, b.text(row, 3)).ctx(A)?;
                } else {
                    s.raw_bind_parameter(5, rusqlite::types::Null).ctx(A)?;
                    s.raw_bind_parameter(6, rusqlite::types::Null).ctx(A)?;
                }
                s.raw_bind_parameter(7, b.blob(row)).ctx(A)?;
                s.raw_execute().ctx(A)?;
                1
            }
            RowKind::Entitlement => {
                const A: &str = "writing an entitlement";
                let s = statement(&mut ent_stmt, conn, SQL_ENTITLEMENT, st, A)?;
                s.raw_bind_parameter(3, b.text(row, 0)).ctx(A)?;
                s.raw_bind_parameter(4, b.text(row, 1)).ctx(A)?;
                s.raw_bind_parameter(5, b.text(row, 2)).ctx(A)?;
                s.raw_bind_parameter(6, b.blob(row)).ctx(A)?;
                s.raw_execute().ctx(A)?;
                1
            }
        };
        i += written;
        st.wrote(conn, written)?;
    }
    Ok(())
}

/// Where full batches go.
#[derive(Debug)]
pub(crate) enum Inserter {
    /// Written on the calling thread.
    Inline { conn: Connection, st: TxState },
    /// Written by the insert thread.
    Thread(Worker),
    /// A write failed earlier (its error was returned then); nothing more is written.
    Failed,
}

impl Inserter {
    pub(crate) fn is_failed(&self) -> bool {
        matches!(self, Self::Failed)
    }

    /// Writes on the calling thread, or starts the insert thread when `thread` is set.
    pub(crate) fn new(conn: Connection, st: TxState, thread: bool) -> Result<Self> {
        if thread {
            Worker::spawn(conn, st).map(Self::Thread)
        } else {
            Ok(Self::Inline { conn, st })
        }
    }

    /// Writes `batch` (which is left empty, ready for reuse).
    pub(crate) fn submit(&mut self, batch: &mut Batch) -> Result<()> {
        if batch.rows.is_empty() {
            return Ok(());
        }
        let res = match self {
            Self::Inline { conn, st } => apply_batch(conn, st, batch),
            Self::Thread(w) => w.send(batch),
            Self::Failed => Err(failed()),
        };
        batch.clear();
        if res.is_err() {
            *self = Self::Failed;
        }
        res
    }

    /// Waits until every submitted row is written and committed; returns the connection.
    pub(crate) fn finish(self) -> Result<Connection> {
        match self {
            Self::Inline { conn, mut st } => {
                st.commit(&conn)?;
                Ok(conn)
            }
            Self::Thread(w) => w.join(),
            Self::Failed => Err(failed()),
        }
    }
}

fn failed() -> C1zError {
    C1zError::WriterFailed {
        reason: "an earlier write of this writer failed".into(),
    }
}

/// The insert thread: receives full batches, writes them, sends the emptied batches back for
/// reuse, and returns the connection when the channel closes.
pub(crate) struct Worker {
    tx: Option<SyncSender<Batch>>,
    recycled: Receiver<Batch>,
    handle: Option<JoinHandle<Result<Connection>>>,
    /// Set when the writer is dropped without finishing: the thread stops without writing.
    abort: Arc<AtomicBool>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("running", &self.handle.is_some())
            .finish_non_exhaustive()
    }
}

impl Worker {
    fn spawn(conn: Connection, st: TxState) -> Result<Self> {
        let (tx, rx) = sync_channel::<Batch>(QUEUE_DEPTH);
        let (back_tx, back_rx) = channel::<Batch>();
        let abort = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&abort);
        let handle = std::thread::Builder::new()
            .name("c1z-insert".into())
            .spawn(move || run(conn, st, &rx, &back_tx, &stop))
            .map_err(|e| C1zError::WriterFailed {
                reason: format!("cannot start the insert thread ({e})"),
            })?;
        Ok(Self {
            tx: Some(tx),
            recycled: back_rx,
            handle: Some(handle),
            abort,
        })
    }

    /// Hands a full batch to the thread and swaps in an emptied one.
    fn send(&mut self, batch: &mut Batch) -> Result<()> {
        let spare = self.recycled.try_recv().unwrap_or_default();
        let full = std::mem::replace(batch, spare);
        let sent = match &self.tx {
            Some(tx) => tx.send(full).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            // The thread stopped: it failed; its error says why.
            Err(self.take_result().err().unwrap_or_else(failed))
        }
    }

    /// Closes the queue, waits for the thread and returns its result.
    fn take_result(&mut self) -> Result<Connection> {
        self.tx = None;
        match self.handle.take() {
            Some(h) => h.join().unwrap_or_else(|_| {
                Err(C1zError::WriterFailed {
                    reason: "the insert thread panicked".into(),
                })
            }),
            None => Err(failed()),
        }
    }

    fn join(mut self) -> Result<Connection> {
        self.take_result()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.handle.is_some() {
            self.abort.store(true, Ordering::Relaxed);
            let _ = self.take_result();
        }
    }
}

/// Body of the insert thread.
fn run(
    conn: Connection,
    mut st: TxState,
    rx: &Receiver<Batch>,
    back: &Sender<Batch>,
    abort: &AtomicBool,
) -> Result<Connection> {
    for mut batch in rx {
        if abort.load(Ordering::Relaxed) {
            return Err(failed());
        }
        apply_batch(&conn, &mut st, &batch)?;
        batch.clear();
        let _ = back.send(batch);
    }
    if abort.load(Ordering::Relaxed) {
        return Err(failed());
    }
    st.commit(&conn)?;
    Ok(conn)
}
