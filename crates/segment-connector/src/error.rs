//! The error type of a sync.

use std::sync::Arc;

/// Why a sync failed. A failed sync leaves an existing c1z file untouched. No variant ever
/// contains the API token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// Segment rejected the token (HTTP 401).
    #[error(
        "Segment rejected the API token (HTTP 401 on {operation}); check that the token is valid and has not been revoked"
    )]
    Unauthorized {
        /// The operation that was refused.
        operation: &'static str,
        /// The API error.
        #[source]
        source: Arc<segment_api::Error>,
    },
    /// The token may not read the workspace (HTTP 403 on the first request).
    #[error(
        "the API token may not read this Segment workspace (HTTP 403 on {operation}); use a token with workspace read access"
    )]
    Forbidden {
        /// The operation that was refused.
        operation: &'static str,
        /// The API error.
        #[source]
        source: Arc<segment_api::Error>,
    },
    /// The Segment API could not be reached (connect, TLS, reset, timeout), after retries.
    #[error(
        "could not reach the Segment API ({operation}); check the network and the region/base URL"
    )]
    Transport {
        /// The operation that failed.
        operation: &'static str,
        /// The API error.
        #[source]
        source: Arc<segment_api::Error>,
    },
    /// Segment kept answering 429 after the client's retries.
    #[error(
        "Segment kept rate-limiting the sync ({operation}); try again later or lower the concurrency"
    )]
    RateLimited {
        /// The operation that failed.
        operation: &'static str,
        /// The API error.
        #[source]
        source: Arc<segment_api::Error>,
    },
    /// Any other API failure (5xx after retries, undecodable response, ...).
    #[error("{source}")]
    Api {
        /// The API error.
        #[source]
        source: Arc<segment_api::Error>,
    },
    /// The session failed outside an API call (e.g. its configuration).
    #[error("Segment session error: {0}")]
    Session(#[source] segment_cache::Error),
    /// The existing c1z file holds a sync of another workspace: appending would mix two
    /// workspaces in one file. Nothing was written; the file is untouched.
    #[error(
        "{} holds workspace {file_workspace}; refusing to append workspace {workspace}; use another --file",
        path.display()
    )]
    WorkspaceMismatch {
        /// The c1z file.
        path: std::path::PathBuf,
        /// The workspace id of the file's latest sync.
        file_workspace: String,
        /// The workspace being synced.
        workspace: String,
    },
    /// Reading the existing c1z or writing the new one failed.
    #[error("could not write the c1z file: {0}")]
    Write(#[from] baton_c1z::C1zError),
    /// An option is invalid (nothing was requested or written).
    #[error("invalid sync option {option}: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// An internal failure (the writer thread stopped unexpectedly).
    #[error("internal sync error: {0}")]
    Internal(String),
}

impl SyncError {
    /// Classifies an API error.
    pub(crate) fn from_api(error: Arc<segment_api::Error>) -> Self {
        let operation = error.operation().unwrap_or("request");
        match &*error {
            segment_api::Error::Unauthorized { .. } => Self::Unauthorized {
                operation,
                source: error,
            },
            segment_api::Error::Transport { .. } => Self::Transport {
                operation,
                source: error,
            },
            segment_api::Error::RateLimited { .. } => Self::RateLimited {
                operation,
                source: error,
            },
            _ => Self::Api { source: error },
        }
    }

    /// Classifies the error of the first request (`GET /`), where 403 means the token is
    /// not allowed to read the workspace.
    pub(crate) fn from_first_request(error: segment_api::Error) -> Self {
        let error = Arc::new(error);
        match &*error {
            segment_api::Error::Forbidden { operation, .. } => Self::Forbidden {
                operation,
                source: error,
            },
            _ => Self::from_api(error),
        }
    }

    /// Classifies a session error.
    pub(crate) fn from_session(error: segment_cache::Error) -> Self {
        match error {
            segment_cache::Error::Api(api) => Self::from_api(api),
            other => Self::Session(other),
        }
    }

    /// The underlying API error, when there is one.
    pub fn api_error(&self) -> Option<&segment_api::Error> {
        match self {
            Self::Unauthorized { source, .. }
            | Self::Forbidden { source, .. }
            | Self::Transport { source, .. }
            | Self::RateLimited { source, .. }
            | Self::Api { source } => Some(source),
            _ => None,
        }
    }
}
