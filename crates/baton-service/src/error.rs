//! The crate's error type: why the service runner stopped (or refused to start).

use std::path::PathBuf;

/// Why the service runner could not start or had to stop. No variant ever holds the client
/// secret or an access token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The client id is not `<client-name>@<tenant-host>/<suffix>`.
    #[error("invalid client id: {0} (expected <client-name>@<tenant-host>/<suffix>)")]
    InvalidClientId(&'static str),
    /// The client secret is not `secret-token:conductorone.com:v1:<base64url Ed25519 JWK>`.
    #[error("invalid client secret: {0}")]
    InvalidClientSecret(&'static str),
    /// A setting of [`crate::ServiceConfig`] is unusable.
    #[error("invalid service configuration: {0}")]
    Config(String),
    /// The extra CA certificate could not be read or parsed.
    #[error("cannot use the CA certificate {path}: {reason}")]
    CaCertificate {
        /// Where it was read from.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The HTTP or gRPC client could not be built.
    #[error("cannot set up the connection to ConductorOne: {0}")]
    Transport(String),
    /// ConductorOne refused the credentials (token endpoint or a gRPC call answered
    /// UNAUTHENTICATED / PERMISSION_DENIED).
    #[error("ConductorOne refused the credentials: {0}")]
    Unauthenticated(String),
    /// The startup Hello failed with an error that retrying cannot fix.
    #[error("ConductorOne rejected the connector's Hello ({code:?}): {message}")]
    HelloRejected {
        /// The gRPC code.
        code: tonic::Code,
        /// The server's message.
        message: String,
    },
    /// The temporary directory for c1z files is unusable.
    #[error("the c1z temp dir {path} is unusable: {source}")]
    TempDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The health endpoint could not listen.
    #[error("cannot serve the health endpoints on {addr}: {source}")]
    Health {
        /// The bind address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}
