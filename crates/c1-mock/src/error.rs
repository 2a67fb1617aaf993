//! The crate's error type.

/// Why the fake tenant could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// Certificate generation failed.
    #[error("generating the test certificates failed: {0}")]
    Certificates(String),
    /// The Ed25519 test key could not be made.
    #[error("generating the test client key failed")]
    Key,
    /// TLS set-up failed.
    #[error("setting up TLS failed: {0}")]
    Tls(String),
    /// The listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}
