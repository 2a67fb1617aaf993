//! Reader and writer of Baton `.c1z` sync files in the classic v1 format: the magic `C1ZF\0`
//! followed by one zstd frame of a SQLite database ("Profile A" of `docs/c1z-format.md` §2.7:
//! classic column sets, grant expansion kept inside the grant blob), which every baton-sdk
//! version and the `baton` CLI open. A sync of another type than full ([`SyncType`]) adds the
//! one newer column that says so, `v1_sync_runs.sync_type`, as newer baton-sdks do on open.
//!
//! - [`C1zWriter`] writes one sync (appending to an existing file and keeping the newest
//!   syncs), then atomically replaces the file (a uniquely named `.<file>.XXXXXX.tmp` next to
//!   it + fsync + rename). It holds an exclusive lock on the target from `create` to the end
//!   (a second writer is refused with [`C1zError::Locked`]), refuses to append to a database
//!   that fails SQLite's `quick_check` ([`C1zError::DamagedDatabase`]), and removes what
//!   killed writers left behind (their temporary files and working directories).
//! - [`C1zReader`] opens a file read-only and serves listings with the Go SDK's pagination and
//!   sync-selection rules through a [`SyncView`].
//! - v3 (`C1Z3`, Pebble) files are detected and refused with [`C1zError::PebbleV3`].
//!
//! # Indexes in the file
//!
//! A written file always has the tables and columns of `c1z-format.md` §2 and its unique
//! indexes: `(external_id, sync_id)` on every object table (the upsert conflict target of every
//! SDK), `v1_sync_runs (sync_id)` and `v1_connector_sessions (sync_id, key)`. The non-unique
//! lookup indexes of §2.3 (five of them on `v1_grants`) are left out by default
//! ([`WriterOptions::lookup_indexes`] writes them): the Go readers build them anyway when they
//! open a file — §1.3 step 3: "Open `<tmp>/db` with SQLite (max 1 connection). Run
//! `CREATE TABLE/INDEX IF NOT EXISTS` for every table and then each table's migrations […] —
//! **also for read-only opens** (on the temp copy)" — and [`C1zReader`] does the same on its
//! private copy, lazily: an index is built the first time a filtered listing needs it. On the
//! 1 000 000-grant workload of `examples/c1z_scale.rs`, building them took ~4.1 s of a ~9.7 s
//! write, and the database is 505.7 MB without them instead of 678.6 MB.
//!
//! ```ignore
//! use baton_c1z::{C1zReader, C1zWriter, GrantFilter, ReaderOptions, WriterOptions};
//!
//! let mut w = C1zWriter::create("sync.c1z", WriterOptions::default())?;
//! w.put_resource_type(&user_type)?;
//! w.put_resource(&alice)?;
//! w.put_entitlement(&member)?;
//! w.put_grant(&alice_is_member)?;
//! let summary = w.finish()?; // temporary file + fsync + rename
//!
//! let r = C1zReader::open("sync.c1z", ReaderOptions::default())?;
//! let latest = r.latest()?; // latest finished full sync, like the Go SDK
//! for grant in latest.grants(&GrantFilter::default()) {
//!     let grant = grant?;
//! }
//! ```
//!
//! Depends on `baton-model` (the protobuf types) only among the workspace crates; it must never
//! depend on an async runtime, an HTTP stack or any `segment-*` crate, and it never prints.

mod container;
mod error;
mod inserts;
mod ksuid;
mod reader;
mod replace;
mod schema;
mod target_lock;
mod timestamp;
mod workdir;
mod writer;

pub use container::{C1Z_V1_MAGIC, C1Z_V3_MAGIC, DEFAULT_MAX_DECODED_SIZE};
pub use error::{C1zError, ObjectKind, Result};
pub use reader::{
    C1zReader, EntitlementFilter, ExternalIds, GrantFilter, MAX_PAGE_SIZE, Page, PageRequest,
    ReaderOptions, ResourceFilter, Rows, SyncRun, SyncStats, SyncView,
};
pub use writer::{C1zWriter, SyncType, WriteCounts, WriteSummary, WriterOptions};
