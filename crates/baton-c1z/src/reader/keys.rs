//! External ids of one object table in ascending byte order, read in pages by keyset (through
//! the unique `(external_id, sync_id)` index every file has), for merge-joins such as a diff
//! of two syncs: memory stays bounded by one page whatever the size of the sync.

use super::view::{SyncView, TableQuery};
use crate::error::{ObjectKind, Result, SqlContext};
use std::collections::VecDeque;

/// Ids fetched per page.
const KEY_PAGE: i64 = 10_000;

/// Iterator over the external ids of one object kind in a sync, ascending (SQLite's BINARY
/// collation, which is the byte order of `str`). See [`SyncView::external_ids`].
#[derive(Debug)]
pub struct ExternalIds<'v, 'r> {
    view: &'v SyncView<'r>,
    table: &'static str,
    buf: VecDeque<String>,
    last: Option<String>,
    done: bool,
}

impl<'v, 'r> ExternalIds<'v, 'r> {
    pub(super) fn new(view: &'v SyncView<'r>, kind: ObjectKind) -> Self {
        Self {
            view,
            table: TableQuery::new(kind).table,
            buf: VecDeque::new(),
            last: None,
            done: false,
        }
    }

    fn fetch(&mut self) -> Result<()> {
        let conn = &self.view.reader.conn;
        let sync_id = &self.view.run.sync_id;
        let ids: Vec<String> = match &self.last {
            None => {
                let sql = format!(
                    "SELECT external_id FROM {} WHERE sync_id = ?1 ORDER BY external_id LIMIT ?2",
                    self.table
                );
                let mut stmt = conn.prepare_cached(&sql).ctx("listing ids")?;
                stmt.query_map(rusqlite::params![sync_id, KEY_PAGE], |r| r.get(0))
                    .ctx("listing ids")?
                    .collect::<rusqlite::Result<_>>()
                    .ctx("listing ids")?
            }
            Some(last) => {
                let sql = format!(
                    "SELECT external_id FROM {} WHERE sync_id = ?1 AND external_id > ?2
                     ORDER BY external_id LIMIT ?3",
                    self.table
                );
                let mut stmt = conn.prepare_cached(&sql).ctx("listing ids")?;
                stmt.query_map(rusqlite::params![sync_id, last, KEY_PAGE], |r| r.get(0))
                    .ctx("listing ids")?
                    .collect::<rusqlite::Result<_>>()
                    .ctx("listing ids")?
            }
        };
        if i64::try_from(ids.len()).unwrap_or(i64::MAX) < KEY_PAGE {
            self.done = true;
        }
        self.last = ids.last().cloned().or(self.last.take());
        self.buf.extend(ids);
        Ok(())
    }
}

impl Iterator for ExternalIds<'_, '_> {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty()
            && !self.done
            && let Err(e) = self.fetch()
        {
            self.done = true;
            return Some(Err(e));
        }
        self.buf.pop_front().map(Ok)
    }
}
