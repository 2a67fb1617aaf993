//! SQL functions the reader registers on each of its connections: `c1z_contains(blob, needle)`,
//! a fast substring test on row blobs that lets one scan pick rows by what their data holds.

use crate::error::{Result, SqlContext};
use memchr::memmem::Finder;
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;

/// Name of the substring function.
pub(super) const CONTAINS: &str = "c1z_contains";

/// Registers [`CONTAINS`] on `conn`: `c1z_contains(h, n)` is 1 when the bytes of `n` occur in
/// `h` (blob or text; NULL counts as empty), else 0. The searcher for a constant needle is
/// built once per statement.
pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function(
        CONTAINS,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let finder = ctx.get_or_create_aux(1, |needle| -> rusqlite::Result<_> {
                Ok(Finder::new(bytes(needle)).into_owned())
            })?;
            Ok(i64::from(finder.find(bytes(ctx.get_raw(0))).is_some()))
        },
    )
    .ctx("registering the reader's SQL functions")
}

fn bytes(v: ValueRef<'_>) -> &[u8] {
    match v {
        ValueRef::Blob(b) | ValueRef::Text(b) => b,
        _ => &[],
    }
}
