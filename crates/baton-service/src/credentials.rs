//! The client id and client secret ConductorOne issues for a connector
//! (docs/c1-service-mode.md §3.1, §3.2), parsed before any network I/O.
//!
//! The secret's key never leaves this module in printable form: [`ClientSecret`]'s `Debug`
//! is redacted and every parse error is a fixed text that quotes nothing of the input.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::Deserialize;

use crate::ServiceError;

/// The fixed start of every client secret, up to the version.
const SECRET_VERSION: &str = "v1";

/// A parsed client id: `<client-name>@<tenant-host>/<suffix>`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientId {
    full: String,
    name: String,
    host: String,
}

impl ClientId {
    /// Parses a client id. The host may carry a `:port`; the suffix is kept only as part of
    /// the full id (it is sent as `client_id`, `iss` and `sub`).
    pub fn parse(text: &str) -> Result<Self, ServiceError> {
        let text = text.trim();
        let (name, rest) = text
            .split_once('@')
            .ok_or(ServiceError::InvalidClientId("no '@'"))?;
        let (host, _suffix) = rest
            .split_once('/')
            .ok_or(ServiceError::InvalidClientId("no '/' after the host"))?;
        if name.is_empty() {
            return Err(ServiceError::InvalidClientId("empty client name"));
        }
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(ServiceError::InvalidClientId("empty or malformed host"));
        }
        Ok(Self {
            full: text.to_owned(),
            name: name.to_owned(),
            host: host.to_owned(),
        })
    }

    /// The full client id, as sent to ConductorOne.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The client name (before `@`), used in the user agent.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tenant host (may include `:port`): token endpoint and gRPC target.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The JWT audience: the host without any port.
    pub fn audience(&self) -> &str {
        strip_port(&self.host)
    }
}

impl std::fmt::Debug for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ClientId").field(&self.full).finish()
    }
}

/// `host:port` -> `host` (a trailing `:digits` only).
pub(crate) fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The Ed25519 key of a client secret. `Debug` shows nothing of the key.
pub struct ClientSecret {
    key: Ed25519KeyPair,
    kid: Option<String>,
}

/// The JWK inside a client secret.
#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    d: Option<String>,
    kid: Option<String>,
}

impl ClientSecret {
    /// Parses `secret-token:conductorone.com:v1:<base64url(JWK JSON)>`. Errors name the
    /// broken part, never its content.
    pub fn parse(text: &str) -> Result<Self, ServiceError> {
        let bad = ServiceError::InvalidClientSecret;
        let parts: Vec<&str> = text.trim().splitn(4, ':').collect();
        if parts.len() != 4 {
            return Err(bad("expected secret-token:conductorone.com:v1:<payload>"));
        }
        if parts[2] != SECRET_VERSION {
            return Err(bad("unsupported version (expected v1)"));
        }
        let json = URL_SAFE_NO_PAD
            .decode(parts[3].trim_end_matches('='))
            .map_err(|_| bad("the payload is not base64url"))?;
        let jwk: Jwk =
            serde_json::from_slice(&json).map_err(|_| bad("the payload is not a JSON JWK"))?;
        if jwk.kty.as_deref() != Some("OKP") || jwk.crv.as_deref() != Some("Ed25519") {
            return Err(bad("the JWK is not an Ed25519 (OKP) key"));
        }
        let decode32 =
            |field: Option<String>, what: &'static str| -> Result<Vec<u8>, ServiceError> {
                let bytes = URL_SAFE_NO_PAD
                    .decode(field.ok_or(bad(what))?.trim_end_matches('='))
                    .map_err(|_| bad(what))?;
                if bytes.len() == 32 {
                    Ok(bytes)
                } else {
                    Err(bad(what))
                }
            };
        let seed = decode32(jwk.d, "the JWK has no valid private key (d)")?;
        let public = decode32(jwk.x, "the JWK has no valid public key (x)")?;
        let key = Ed25519KeyPair::from_seed_and_public_key(&seed, &public)
            .map_err(|_| bad("the JWK's private and public keys do not match"))?;
        Ok(Self { key, kid: jwk.kid })
    }

    /// Signs `message` (the JWS signing input).
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).as_ref().to_vec()
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    /// The JWK's `kid`, if it has one.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn client_id_parts() {
        let id = ClientId::parse("happy-otter-1@acme.conductor.one/pcc").unwrap();
        assert_eq!(id.name(), "happy-otter-1");
        assert_eq!(id.host(), "acme.conductor.one");
        assert_eq!(id.audience(), "acme.conductor.one");
        let id = ClientId::parse("c@localhost:8443/ccc").unwrap();
        assert_eq!(id.host(), "localhost:8443");
        assert_eq!(id.audience(), "localhost");
        assert_eq!(id.as_str(), "c@localhost:8443/ccc");
    }

    #[test]
    fn client_id_errors() {
        for bad in ["", "nohost", "a@b", "@h/s", "a@/s"] {
            let err = ClientId::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid client id"), "{bad}: {err}");
        }
    }

    #[test]
    fn secret_errors_quote_nothing() {
        let secret = "secret-token:conductorone.com:v1:SUPERSECRETPAYLOAD";
        let err = ClientSecret::parse(secret).unwrap_err().to_string();
        assert!(err.starts_with("invalid client secret"));
        assert!(!err.contains("SUPERSECRET"), "{err}");
        let err = ClientSecret::parse("secret-token:conductorone.com:v2:xx")
            .unwrap_err()
            .to_string();
        assert!(err.contains("version"), "{err}");
    }
}
