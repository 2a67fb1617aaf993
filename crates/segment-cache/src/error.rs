//! The crate's error type.

use std::sync::Arc;

use segment_api::Role;

/// Errors of a [`Session`](crate::Session).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Segment API call failed. Shared (`Arc`) because one failed role
    /// listing is reported to every caller that was waiting for it.
    #[error(transparent)]
    Api(Arc<segment_api::Error>),
    /// No role has this name (compared case-insensitively).
    #[error("no Segment role is named {name:?}")]
    RoleNotFound {
        /// The name looked up.
        name: String,
    },
    /// Several roles have this name (compared case-insensitively); none was
    /// picked.
    #[error("{} Segment roles are named {name:?} (ignoring case): {}", candidates.len(), ids(candidates))]
    AmbiguousRole {
        /// The name looked up.
        name: String,
        /// Every matching role, in the API's order.
        candidates: Vec<Role>,
    },
    /// A [`SessionConfig`](crate::SessionConfig) or
    /// [`PacerConfig`](crate::PacerConfig) value is invalid.
    #[error("invalid segment-cache configuration: {0}")]
    InvalidConfig(String),
}

fn ids(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    /// The underlying API error, when this is one.
    pub fn api(&self) -> Option<&segment_api::Error> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }
}

impl From<segment_api::Error> for Error {
    fn from(e: segment_api::Error) -> Error {
        Error::Api(Arc::new(e))
    }
}

impl From<Arc<segment_api::Error>> for Error {
    fn from(e: Arc<segment_api::Error>) -> Error {
        Error::Api(e)
    }
}
