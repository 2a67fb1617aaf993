//! The Segment Public API token: a secret that is only ever put in the `Authorization` header.

use std::fmt;

/// A Segment Public API token (`Authorization: Bearer <token>`).
///
/// The value is never shown: `Debug` and `Display` print `Token(****)`, and the type
/// implements neither `Serialize` nor any accessor that hands the secret out. The client
/// copies it once into a sensitive `Authorization` header value and nowhere else.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token. Surrounding whitespace (e.g. a trailing newline from a file or an
    /// environment variable) is trimmed.
    pub fn new(secret: impl Into<String>) -> Self {
        let secret = secret.into();
        let trimmed = secret.trim();
        if trimmed.len() == secret.len() {
            Token(secret)
        } else {
            Token(trimmed.to_owned())
        }
    }

    /// Whether the token is empty (after trimming). [`ClientBuilder::build`](crate::ClientBuilder::build)
    /// rejects an empty token.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The secret, for building the `Authorization` header. Crate-private on purpose.
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(****)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(****)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_secret() {
        let token = Token::new("sk_live_very-secret-value");
        assert_eq!(format!("{token:?}"), "Token(****)");
        assert_eq!(format!("{token}"), "Token(****)");
        assert_eq!(format!("{token:#?}"), "Token(****)");
        assert!(!format!("{:?}", Some(token.clone())).contains("secret"));
        assert_eq!(token.secret(), "sk_live_very-secret-value");
    }

    #[test]
    fn trims_whitespace() {
        assert_eq!(Token::new("  abc\n").secret(), "abc");
        assert!(Token::new(" \n").is_empty());
    }
}
