//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong when starting the mock or loading a fixture.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// Binding the listening socket failed.
    #[error("cannot bind 127.0.0.1:{port}: {source}")]
    Bind {
        /// The requested port (0 = any).
        port: u16,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The wall-clock latency timer's thread could not start.
    #[error("cannot start the latency timer thread: {0}")]
    Timer(#[source] std::io::Error),
    /// Reading or writing a fixture file failed.
    #[error("cannot access fixture {}: {source}", path.display())]
    Io {
        /// The fixture path.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A fixture is not valid JSON or does not match the fixture format.
    #[error("invalid workspace fixture JSON: {0}")]
    FixtureJson(#[from] serde_json::Error),
    /// A fixture parsed but is inconsistent (duplicate ids, unknown role, dangling member...).
    #[error("inconsistent workspace fixture: {0}")]
    InvalidWorkspace(String),
}
