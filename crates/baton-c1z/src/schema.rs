//! The SQLite schema of a classic c1z ("Profile A"): classic column sets, `v1_connector_sessions`
//! empty, the unique indexes (always written) and the non-unique lookup indexes that do not
//! reference columns added by newer SDKs (optional: readers create them on open, see
//! [`LOOKUP_INDEXES`]).

use crate::error::{Result, SqlContext};
use rusqlite::Connection;

/// Tables every c1z must have for a reader to work.
pub(crate) const REQUIRED_TABLES: [&str; 5] = [
    "v1_resource_types",
    "v1_resources",
    "v1_entitlements",
    "v1_grants",
    "v1_sync_runs",
];

/// Tables that hold per-sync rows (cleanup deletes from each).
pub(crate) const SYNC_SCOPED_TABLES: [&str; 6] = [
    "v1_resource_types",
    "v1_resources",
    "v1_entitlements",
    "v1_grants",
    "v1_assets",
    "v1_connector_sessions",
];

/// Tables, in creation order (classic column sets).
const TABLES: &str = "
CREATE TABLE IF NOT EXISTS v1_resource_types (
    id integer primary key,
    external_id text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
);
CREATE TABLE IF NOT EXISTS v1_resources (
    id integer primary key,
    resource_type_id text not null,
    external_id text not null,
    parent_resource_type_id text,
    parent_resource_id text,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
);
CREATE TABLE IF NOT EXISTS v1_entitlements (
    id integer primary key,
    resource_type_id text not null,
    resource_id text not null,
    external_id text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
);
CREATE TABLE IF NOT EXISTS v1_grants (
    id integer primary key,
    resource_type_id text not null,
    resource_id text not null,
    entitlement_id text not null,
    principal_resource_type_id text not null,
    principal_resource_id text not null,
    external_id text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
);
CREATE TABLE IF NOT EXISTS v1_sync_runs (
    id integer primary key,
    sync_id text not null,
    started_at datetime not null,
    ended_at datetime,
    sync_token text not null
);
CREATE TABLE IF NOT EXISTS v1_assets (
    id integer primary key,
    external_id text not null,
    content_type text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
);
CREATE TABLE IF NOT EXISTS v1_connector_sessions (
    id integer primary key,
    sync_id text not null,
    key text not null,
    value blob not null
);
";

/// Unique indexes: the upsert conflict targets, needed before the first insert.
const UNIQUE_INDEXES: &str = "
CREATE UNIQUE INDEX IF NOT EXISTS idx_resource_types_external_sync_v1 ON v1_resource_types (external_id, sync_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_resources_parent_resource_id_v1 ON v1_resources (external_id, sync_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_entitlements_external_sync_v1 ON v1_entitlements (external_id, sync_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_grants_external_sync_v1 ON v1_grants (external_id, sync_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_sync_runs_sync_id_v1 ON v1_sync_runs (sync_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_assets_external_sync_v1 ON v1_assets (external_id, sync_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_session_store_sync_key_v1 ON v1_connector_sessions (sync_id, key);
";

/// A non-unique lookup index of §2.3: its name and its `CREATE INDEX` statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LookupIndex {
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

/// `v1_resources (resource_type_id)`: resource listings filtered by type.
pub(crate) const IDX_RESOURCES_TYPE: LookupIndex = LookupIndex {
    name: "idx_resources_resource_type_id_v1",
    sql: "CREATE INDEX IF NOT EXISTS idx_resources_resource_type_id_v1 ON v1_resources (resource_type_id)",
};
/// `v1_resources (parent_resource_type_id, parent_resource_id)` (the name/column mix-up is the
/// Go SDK's): resource listings filtered by parent.
pub(crate) const IDX_RESOURCES_PARENT: LookupIndex = LookupIndex {
    name: "idx_resources_external_sync_v1",
    sql: "CREATE INDEX IF NOT EXISTS idx_resources_external_sync_v1 ON v1_resources (parent_resource_type_id, parent_resource_id)",
};
/// `v1_entitlements (resource_type_id, resource_id)`: entitlement listings by resource (type).
pub(crate) const IDX_ENTITLEMENTS_RESOURCE: LookupIndex = LookupIndex {
    name: "idx_entitlements_resource_id_v1",
    sql: "CREATE INDEX IF NOT EXISTS idx_entitlements_resource_id_v1 ON v1_entitlements (resource_type_id, resource_id)",
};
/// `v1_grants (resource_type_id, resource_id)`: grant listings by resource (type).
pub(crate) const IDX_GRANTS_RESOURCE: LookupIndex = LookupIndex {
    name: "idx_grants_resource_type_id_resource_id_v1",
    sql: "CREATE INDEX IF NOT EXISTS idx_grants_resource_type_id_resource_id_v1 ON v1_grants (resource_type_id, resource_id)",
};
/// `v1_grants (principal_resource_type_id, principal_resource_id)`: grant listings by principal.
pub(crate) const IDX_GRANTS_PRINCIPAL: LookupIndex = LookupIndex {
    name: "idx_grants_principal_id_v1",
    sql: "CREATE INDEX IF NOT EXISTS idx_grants_principal_id_v1 ON v1_grants (principal_resource_type_id, principal_resource_id)",
};
/// `v1_grants (entitlement_id, principal_resource_type_id, principal_resource_id)`.
pub(crate) const IDX_GRANTS_ENTITLEMENT_PRINCIPAL: LookupIndex = LookupIndex {
    name: "idx_grants_entitlement_id_principal_id_v1",
    sql: "CREATE INDEX IF NOT EXISTS idx_grants_entitlement_id_principal_id_v1 ON v1_grants (entitlement_id, principal_resource_type_id, principal_resource_id)",
};
/// `v1_grants (entitlement_id, sync_id, id)`: grant listings by entitlement, in id order.
pub(crate) const IDX_GRANTS_ENTITLEMENT: LookupIndex = LookupIndex {
    name: "idx_grants_entitlement_sync_grant_v1",
    sql: "CREATE INDEX IF NOT EXISTS idx_grants_entitlement_sync_grant_v1 ON v1_grants (entitlement_id, sync_id, id)",
};

/// The non-unique lookup indexes of §2.3 that only reference classic columns.
///
/// They are optional in a file: every Go reader runs `CREATE INDEX IF NOT EXISTS` for all of them
/// when it opens a file, read-only opens included (on its temporary copy; `c1z-format.md` §1.3
/// step 3), and [`crate::C1zReader`] creates the ones a listing needs on its own temporary copy.
/// A writer only writes them when [`crate::WriterOptions::lookup_indexes`] is set.
pub(crate) const LOOKUP_INDEXES: [LookupIndex; 7] = [
    IDX_RESOURCES_TYPE,
    IDX_RESOURCES_PARENT,
    IDX_ENTITLEMENTS_RESOURCE,
    IDX_GRANTS_RESOURCE,
    IDX_GRANTS_PRINCIPAL,
    IDX_GRANTS_ENTITLEMENT_PRINCIPAL,
    IDX_GRANTS_ENTITLEMENT,
];

/// Creates the tables and unique indexes that are missing (existing tables are left as they are).
pub(crate) fn create_tables(conn: &Connection) -> Result<()> {
    conn.execute_batch(TABLES).ctx("creating the c1z tables")?;
    conn.execute_batch(UNIQUE_INDEXES)
        .ctx("creating the unique indexes")
}

/// Creates the lookup indexes that are missing.
pub(crate) fn create_lookup_indexes(conn: &Connection) -> Result<()> {
    for idx in LOOKUP_INDEXES {
        conn.execute_batch(idx.sql)
            .ctx("creating the lookup indexes")?;
    }
    Ok(())
}

/// Names of `REQUIRED_TABLES` that the database lacks.
pub(crate) fn missing_tables(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .ctx("listing tables")?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .ctx("listing tables")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .ctx("listing tables")?;
    Ok(REQUIRED_TABLES
        .iter()
        .filter(|t| !names.iter().any(|n| n == *t))
        .map(|t| (*t).to_owned())
        .collect())
}

/// Adds `v1_sync_runs.sync_type` (as newer baton-sdks do on open) unless it is there; the
/// runs already in the file become `full`.
pub(crate) fn add_sync_type_column(conn: &Connection) -> Result<()> {
    if has_column(conn, "v1_sync_runs", "sync_type")? {
        return Ok(());
    }
    conn.execute_batch("ALTER TABLE v1_sync_runs ADD COLUMN sync_type text not null default 'full'")
        .ctx("adding the sync_type column")
}

/// Whether `table` has a column named `column`.
pub(crate) fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool> {
    let mut stmt = conn
        .prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")
        .ctx("inspecting columns")?;
    stmt.exists(rusqlite::params![table, column])
        .ctx("inspecting columns")
}
