//! Row streaming: pages of raw blobs read by row id, decoded one at a time, with the next pages
//! read ahead by a helper thread.

use super::listing::MAX_PAGE_SIZE;
use super::open_read_only;
use super::view::{SyncView, TableQuery};
use crate::error::{C1zError, ObjectKind, Result, SqlContext};
use prost::Message;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// One page of `q` as raw blobs: rows with `id >= start`, `size + 1` lookahead.
/// Appends the blobs to `out` and returns the next page token (`""` when done).
pub(super) fn raw_page(
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
pub(super) struct RawRows {
    data: Vec<u8>,
    pub(super) rows: VecDeque<(i64, usize, usize)>,
}

impl RawRows {
    fn clear(&mut self) {
        self.data.clear();
        self.rows.clear();
    }

    /// Decodes the next buffered row.
    pub(super) fn decode_next<T: Message + Default>(
        &mut self,
        kind: ObjectKind,
    ) -> Option<Result<T>> {
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

impl<'v, 'r, T> Rows<'v, 'r, T> {
    /// An iterator over `query` in `view`, from the first row.
    pub(super) fn new(view: &'v SyncView<'r>, query: TableQuery) -> Self {
        Self {
            view,
            query,
            raw: RawRows::default(),
            fetch: Fetch::Next(0),
            _marker: PhantomData,
        }
    }

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
