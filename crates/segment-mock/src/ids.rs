//! Realistic-looking opaque ids (22-character base62, 27-character KSUID-like) and small
//! deterministic hashing helpers.

use rand::Rng;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A random base62 string of `len` characters.
pub(crate) fn base62<R: Rng + ?Sized>(rng: &mut R, len: usize) -> String {
    (0..len)
        .map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())]))
        .collect()
}

/// A 22-character base62 id such as `sgJDWk3K21k6LE3tLU9nRK`.
pub(crate) fn id22<R: Rng + ?Sized>(rng: &mut R) -> String {
    base62(rng, 22)
}

/// SplitMix64 step: a tiny, well-mixed deterministic generator.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over a sequence of strings (separated so `["ab","c"]` differs from `["a","bc"]`).
pub(crate) fn hash_strs<'a>(parts: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0xFF)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    h
}

/// A deterministic KSUID-like id derived from a hash.
pub(crate) fn ksuid_from_hash(hash: u64) -> String {
    let mut state = hash;
    let mut s = String::with_capacity(27);
    s.push(if splitmix64(&mut state).is_multiple_of(2) {
        '1'
    } else {
        '2'
    });
    for _ in 0..26 {
        // 62 divides nothing nicely; the slight modulo bias is irrelevant for fake ids.
        let idx = usize::try_from(splitmix64(&mut state) % 62).unwrap_or(0);
        s.push(char::from(BASE62[idx]));
    }
    s
}

/// A uniform float in `[0, 1)` from a 64-bit value.
pub(crate) fn unit_f64(x: u64) -> f64 {
    // 53 significant bits.
    #[allow(clippy::cast_precision_loss)]
    let v = (x >> 11) as f64;
    v / (1u64 << 53) as f64
}
