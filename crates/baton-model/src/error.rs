//! The crate's error type.

use crate::ids::IdError;

/// Errors of `baton-model`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An ID (or a part of one) breaks the ID rules.
    #[error(transparent)]
    Id(#[from] IdError),
    /// A message that needs an id (e.g. a resource used as an entitlement's resource) has none.
    #[error("{what} has no id")]
    MissingId {
        /// What lacks the id, e.g. `"resource"`.
        what: &'static str,
    },
    /// An annotation's bytes do not decode as the message its type URL names.
    #[error("cannot decode annotation {type_name}")]
    Decode {
        /// Full protobuf name of the message, e.g. `c1.connector.v2.UserTrait`.
        type_name: String,
        /// The decoding failure.
        #[source]
        source: prost::DecodeError,
    },
}
