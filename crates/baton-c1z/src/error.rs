//! The crate's error type: every failure of reading or writing a `.c1z` file.

use std::io;
use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = C1zError> = std::result::Result<T, E>;

/// The kind of object a c1z row holds (used in error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A `c1.connector.v2.ResourceType` (`v1_resource_types`).
    ResourceType,
    /// A `c1.connector.v2.Resource` (`v1_resources`).
    Resource,
    /// A `c1.connector.v2.Entitlement` (`v1_entitlements`).
    Entitlement,
    /// A `c1.connector.v2.Grant` (`v1_grants`).
    Grant,
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ObjectKind::ResourceType => "resource type",
            ObjectKind::Resource => "resource",
            ObjectKind::Entitlement => "entitlement",
            ObjectKind::Grant => "grant",
        })
    }
}

/// Everything that can go wrong while reading or writing a `.c1z` file.
///
/// Every message says what happened and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum C1zError {
    /// The file a reader needs does not exist.
    #[error("c1z file {path} does not exist; run a sync first or check the --file path")]
    Missing {
        /// The path that was opened.
        path: PathBuf,
    },

    /// The file a reader needs is empty (0 bytes).
    #[error("c1z file {path} is empty (0 bytes); run a sync to fill it")]
    Empty {
        /// The path that was opened.
        path: PathBuf,
    },

    /// The file does not start with `C1ZF\0` (and is not a v3 file either).
    #[error(
        "{path} is not a c1z file: it starts with {found:02x?} instead of the magic \"C1ZF\\0\"; \
         check the --file path"
    )]
    BadMagic {
        /// The path that was opened.
        path: PathBuf,
        /// The first bytes of the file (at most 5).
        found: Vec<u8>,
    },

    /// The file is a v3 (`C1Z3`) container, which only baton-sdk >= v0.10 can read.
    #[error(
        "{path} is a v3 c1z (magic \"C1Z3\") written with the Pebble engine, which this tool cannot \
         read or append to; regenerate it with --storage-engine sqlite (or write to a new file)"
    )]
    PebbleV3 {
        /// The path that was opened.
        path: PathBuf,
    },

    /// The zstd stream ends before its last frame is complete.
    #[error(
        "{path}: the compressed data is truncated (the file was cut short, e.g. by an interrupted \
         copy or write); regenerate the file with a new sync"
    )]
    TruncatedZstd {
        /// The path that was opened.
        path: PathBuf,
    },

    /// The zstd stream is not valid (bad frame header, corrupt block, checksum mismatch...).
    #[error(
        "{path}: the compressed data is corrupt ({source}); regenerate the file with a new sync"
    )]
    CorruptZstd {
        /// The path that was opened.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },

    /// The decompressed data would be larger than the configured cap.
    #[error(
        "{path}: the decompressed database is {size} bytes or more, over the limit of {limit} bytes; \
         raise the limit (max decoded size option) if the file is trusted"
    )]
    DecodedTooLarge {
        /// The path that was opened.
        path: PathBuf,
        /// The declared content size, or the number of bytes decoded when the cap was hit.
        size: u64,
        /// The configured cap.
        limit: u64,
    },

    /// A zstd frame needs a window larger than the decoder accepts (128 MiB).
    #[error(
        "{path}: a zstd frame needs a {window}-byte window, over the limit of {limit} bytes \
         (was it compressed with --long or --ultra?); recompress it with a standard zstd level"
    )]
    WindowTooLarge {
        /// The path that was opened.
        path: PathBuf,
        /// The window size the frame asks for (0 when unknown).
        window: u64,
        /// The limit.
        limit: u64,
    },

    /// The decompressed payload is not a SQLite 3 database.
    #[error(
        "{path}: the decompressed payload is not a SQLite database ({reason}); \
         the file is damaged or was not written by a Baton tool"
    )]
    NotSqlite {
        /// The path that was opened.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// The SQLite database lacks tables every c1z has.
    #[error(
        "{path}: the database has no table(s) {tables:?}; it is not a Baton c1z database \
         (or was truncated); regenerate the file with a new sync"
    )]
    MissingTables {
        /// The path that was opened.
        path: PathBuf,
        /// The missing table names.
        tables: Vec<String>,
    },

    /// SQLite reports a damaged database.
    #[error(
        "the SQLite database inside the c1z is damaged ({source}); regenerate the file with a new sync"
    )]
    CorruptDatabase {
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// The database inside the file fails SQLite's integrity check (a writer refuses to append).
    #[error(
        "{path}: the SQLite database inside the c1z is damaged ({detail}); nothing was written: \
         move the file aside (e.g. rename it to {path}.damaged) and sync again, or sync into a \
         new file (-f/--file)"
    )]
    DamagedDatabase {
        /// The file that was opened.
        path: PathBuf,
        /// What SQLite's check reported (first problems).
        detail: String,
    },

    /// Another writer is writing the same target file right now.
    #[error(
        "{path} is being written by another sync right now (it holds the file's lock); wait for \
         it to finish, or sync into another file (-f/--file)"
    )]
    Locked {
        /// The target file.
        path: PathBuf,
    },

    /// The file holds no sync run at all.
    #[error("{path} holds no sync run; run a sync first")]
    NoSyncs {
        /// The path that was opened.
        path: PathBuf,
    },

    /// The requested sync id is not in the file.
    #[error(
        "sync {sync_id} is not in this c1z file; list the available syncs (sync_runs) and pick one"
    )]
    SyncNotFound {
        /// The requested sync id.
        sync_id: String,
    },

    /// A page token that is not a decimal row id.
    #[error(
        "invalid page token {token:?}: expected \"\" or a decimal row id returned by a previous page"
    )]
    InvalidPageToken {
        /// The token that was passed.
        token: String,
    },

    /// An object handed to the writer lacks a required field.
    #[error("invalid {kind}: {reason}; fix the connector so that it fills this field")]
    InvalidObject {
        /// What was being written.
        kind: ObjectKind,
        /// The missing or invalid field.
        reason: String,
    },

    /// A stored blob is not a valid protobuf message of the expected type.
    #[error(
        "row {row_id} of the {kind} table does not decode as protobuf ({source}); the file is damaged"
    )]
    Decode {
        /// What was being read.
        kind: ObjectKind,
        /// The SQLite rowid.
        row_id: i64,
        /// prost's error.
        #[source]
        source: prost::DecodeError,
    },

    /// An option has a value outside its range.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option name.
        option: &'static str,
        /// Why the value is refused.
        reason: String,
    },

    /// A file-system operation failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being done ("create", "read", "rename", ...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// A writer that already reported an error (or whose insert thread stopped) was used again.
    #[error("the c1z writer cannot continue: {reason}; abort this sync and start a new one")]
    WriterFailed {
        /// What happened.
        reason: String,
    },

    /// Any other SQLite error.
    #[error("SQLite error while {action}: {source}")]
    Sqlite {
        /// What was being done.
        action: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
}

impl C1zError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        C1zError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Wraps a SQLite error, classifying damaged databases.
    pub(crate) fn sqlite(action: &'static str, source: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                C1zError::CorruptDatabase { source }
            }
            _ => C1zError::Sqlite { action, source },
        }
    }
}

/// Adds an action description to rusqlite results.
pub(crate) trait SqlContext<T> {
    fn ctx(self, action: &'static str) -> Result<T>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn ctx(self, action: &'static str) -> Result<T> {
        self.map_err(|e| C1zError::sqlite(action, e))
    }
}
