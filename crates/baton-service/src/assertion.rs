//! The signed JWT client assertion exchanged for an access token
//! (docs/c1-service-mode.md §3.3): compact JWS, `alg` EdDSA, a random 16-byte hex `nonce`,
//! claims `iss` = `sub` = the full client id, `aud` = the host without port (a string),
//! `iat` = now, `nbf` = now − 2 min, `exp` = now + 2 min.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SecureRandom as _;
use serde_json::json;

use crate::credentials::{ClientId, ClientSecret};

/// How far `nbf` lies before and `exp` after `iat`, in seconds.
pub const ASSERTION_SKEW_SECS: i64 = 120;

/// Mints a compact JWS assertion for `id`, signed with `secret`, issued at `now` (Unix
/// seconds).
pub fn mint(id: &ClientId, secret: &ClientSecret, now: i64) -> String {
    let mut header = json!({ "alg": "EdDSA", "nonce": nonce() });
    if let Some(kid) = secret.kid() {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": id.as_str(),
        "sub": id.as_str(),
        "aud": id.audience(),
        "iat": now,
        "nbf": now - ASSERTION_SKEW_SECS,
        "exp": now + ASSERTION_SKEW_SECS,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = secret.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// 16 random bytes, lowercase hex.
fn nonce() -> String {
    let mut bytes = [0u8; 16];
    // The system RNG failing is not recoverable in any useful way; fall back to the time so
    // the nonce still differs between assertions.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes.copy_from_slice(&t.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
