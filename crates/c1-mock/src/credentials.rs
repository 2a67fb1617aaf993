//! Test credentials (docs/c1-service-mode.md §15.2): a fresh Ed25519 key, the client secret
//! `secret-token:conductorone.com:v1:<base64url JWK>` and its public key for verification.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SecureRandom as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

use crate::MockError;

/// A generated client secret. `Debug` is redacted; the text is only handed out through
/// [`TestSecret::expose`].
#[derive(Clone)]
pub struct TestSecret {
    secret: String,
    public_key: Vec<u8>,
}

impl TestSecret {
    pub(crate) fn generate() -> Result<Self, MockError> {
        let mut seed = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut seed)
            .map_err(|_| MockError::Key)?;
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| MockError::Key)?;
        let public_key = pair.public_key().as_ref().to_vec();
        let jwk = serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(&public_key),
            "d": URL_SAFE_NO_PAD.encode(seed),
        });
        Ok(Self {
            secret: format!(
                "secret-token:conductorone.com:v1:{}",
                URL_SAFE_NO_PAD.encode(jwk.to_string())
            ),
            public_key,
        })
    }

    /// The client secret text, to hand to the connector under test.
    pub fn expose(&self) -> &str {
        &self.secret
    }

    /// The Ed25519 public key the token endpoint verifies assertions with.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }
}

impl std::fmt::Debug for TestSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestSecret(<redacted>)")
    }
}
