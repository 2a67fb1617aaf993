//! Sync ids: KSUIDs in the segmentio/ksuid layout (27 base62 characters).
//!
//! 20 bytes = 4-byte big-endian seconds since 1_400_000_000 (2014-05-13T16:53:20Z) followed by
//! 16 random bytes, encoded in base62 (`0-9A-Za-z`) and left-padded with `0` to 27 characters.

use rand::RngCore;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds between the Unix epoch and the KSUID epoch.
const KSUID_EPOCH: u64 = 1_400_000_000;
/// Encoded length of a KSUID.
pub(crate) const KSUID_LEN: usize = 27;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A new KSUID for the current time.
pub(crate) fn new_ksuid() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut payload = [0u8; 16];
    rand::rng().fill_bytes(&mut payload);
    ksuid_from_parts(secs, &payload)
}

/// Encodes a KSUID from Unix seconds and a 16-byte payload.
pub(crate) fn ksuid_from_parts(unix_secs: u64, payload: &[u8; 16]) -> String {
    let ts = u32::try_from(unix_secs.saturating_sub(KSUID_EPOCH)).unwrap_or(u32::MAX);
    let mut raw = [0u8; 20];
    raw[..4].copy_from_slice(&ts.to_be_bytes());
    raw[4..].copy_from_slice(payload);
    encode_base62(&raw)
}

/// Base62 of a 20-byte big-endian number, left-padded to 27 characters.
fn encode_base62(raw: &[u8; 20]) -> String {
    // Big number as five big-endian u32 limbs; repeated division by 62.
    let mut limbs = [0u32; 5];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let mut b = [0u8; 4];
        b.copy_from_slice(&raw[i * 4..i * 4 + 4]);
        *limb = u32::from_be_bytes(b);
    }
    let mut out = [b'0'; KSUID_LEN];
    let mut pos = KSUID_LEN;
    while limbs.iter().any(|&l| l != 0) && pos > 0 {
        let mut rem: u64 = 0;
        for limb in limbs.iter_mut() {
            let cur = (rem << 32) | u64::from(*limb);
            // cur / 62 < 2^32 because rem < 62.
            *limb = u32::try_from(cur / 62).unwrap_or(u32::MAX);
            rem = cur % 62;
        }
        pos -= 1;
        out[pos] = ALPHABET[usize::try_from(rem).unwrap_or(0)];
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// Decodes a 27-character KSUID into its 20 bytes (None when malformed).
#[cfg(test)]
fn decode_base62(s: &str) -> Option<[u8; 20]> {
    if s.len() != KSUID_LEN {
        return None;
    }
    let mut limbs = [0u32; 5];
    for c in s.bytes() {
        let d = ALPHABET.iter().position(|&a| a == c)? as u64;
        let mut carry = d;
        for limb in limbs.iter_mut().rev() {
            let cur = u64::from(*limb) * 62 + carry;
            *limb = (cur & 0xFFFF_FFFF) as u32;
            carry = cur >> 32;
        }
        if carry != 0 {
            return None;
        }
    }
    let mut raw = [0u8; 20];
    for (i, limb) in limbs.iter().enumerate() {
        raw[i * 4..i * 4 + 4].copy_from_slice(&limb.to_be_bytes());
    }
    Some(raw)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // The fixture written by the Go SDK: decode and re-encode must be the identity.
        for id in ["3Ml2s76KZUNUPdDyAglhrQ5Wg8H", "3Ml2s1OAGm1rOuvXMb5tGaIqWkH"] {
            let raw = decode_base62(id).unwrap();
            assert_eq!(encode_base62(&raw), id);
        }
        assert_eq!(encode_base62(&[0; 20]), "000000000000000000000000000");
        assert_eq!(encode_base62(&[0xFF; 20]), "aWgEPTl1tmebfsQzFP4bxwgy80V");
    }

    #[test]
    fn layout_and_order() {
        let a = ksuid_from_parts(1_500_000_000, &[0; 16]);
        let b = ksuid_from_parts(1_500_000_001, &[0; 16]);
        assert_eq!(a.len(), KSUID_LEN);
        assert!(a < b);
        let raw = decode_base62(&a).unwrap();
        assert_eq!(
            u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            100_000_000
        );
        let n = new_ksuid();
        assert_eq!(n.len(), KSUID_LEN);
        assert!(n.bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
