//! The crate's error type: a c1z that cannot be read, or a question about something the sync
//! does not hold.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = AccessError> = std::result::Result<T, E>;

/// Everything an access query can fail on. Every message says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// The file cannot be read (missing, empty, not a c1z, v3, truncated, damaged...).
    #[error(transparent)]
    C1z(#[from] baton_c1z::C1zError),

    /// Neither an entitlement id nor a resource id of the sync.
    #[error(
        "{query:?} is neither an entitlement id nor a resource id (TYPE:ID) in sync {sync_id}; \
         list them with `entitlements` or `resources`"
    )]
    TargetNotFound {
        /// What was asked for.
        query: String,
        /// The sync searched.
        sync_id: String,
    },

    /// No principal has this id, email or invitation email.
    #[error(
        "no principal {query:?} in sync {sync_id}: it is no resource id (TYPE:ID or ID), email \
         or invitation email there; list principals with `resources --type user`"
    )]
    PrincipalNotFound {
        /// What was asked for.
        query: String,
        /// The sync searched.
        sync_id: String,
    },

    /// Several principals match.
    #[error("{query:?} matches several principals ({candidates}); give one of these ids")]
    AmbiguousPrincipal {
        /// What was asked for.
        query: String,
        /// The matching ids, comma-separated.
        candidates: String,
    },

    /// A diff needs two syncs and the file holds fewer finished ones.
    #[error(
        "{path} holds {found} finished sync(s); a diff needs two: sync again, or pass --from and \
         --to, or two files"
    )]
    NotEnoughSyncs {
        /// The file.
        path: PathBuf,
        /// Finished syncs found.
        found: usize,
    },

    /// Writing the output failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory (`the output` for standard output).
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl AccessError {
    /// Whether the output was closed by its reader before everything was written (`... | head`):
    /// not a failure of the command, which stops writing.
    pub fn is_closed_output(&self) -> bool {
        matches!(
            self,
            AccessError::Io { path, source, .. }
                if path.as_path() == std::path::Path::new(crate::table::OUTPUT)
                    && source.kind() == std::io::ErrorKind::BrokenPipe
        )
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        AccessError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
