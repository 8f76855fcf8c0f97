//! Bytes of stored values, in one place for every crate: float32 vectors as the little-endian
//! BLOBs that the embedding cache and sqlite-vec store (viewed in place with zerocopy), and
//! SHA-256 digests with their lower-case hex form.

use sha2::{Digest, Sha256};
use zerocopy::IntoBytes;

// SQLite BLOBs of vectors are little-endian float32 (portable between machines), and both
// conversions below are plain views of memory: they agree only on little-endian targets.
#[cfg(not(target_endian = "little"))]
compile_error!("Nexus stores vectors as little-endian float32 and supports little-endian targets only");

/// The bytes of a float32 vector as stored: little-endian, viewed without copying.
///
/// ```
/// assert_eq!(nexus_db::f32_bytes(&[1.0]), [0, 0, 0x80, 0x3f]);
/// ```
pub fn f32_bytes(vector: &[f32]) -> &[u8] {
    vector.as_bytes()
}

/// The float32 vector stored in `bytes` (the inverse of [`f32_bytes`]), or `None` when the
/// length is not a multiple of 4. Copies: a BLOB's bytes need not be aligned for `f32`.
///
/// ```
/// let v = [1.0f32, -0.5];
/// assert_eq!(nexus_db::f32s_from_bytes(nexus_db::f32_bytes(&v)).as_deref(), Some(&v[..]));
/// assert_eq!(nexus_db::f32s_from_bytes(&[0, 0, 0]), None);
/// ```
pub fn f32s_from_bytes(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut vector = vec![0.0f32; bytes.len() / 4];
    vector.as_mut_slice().as_mut_bytes().copy_from_slice(bytes);
    Some(vector)
}

/// The SHA-256 digest of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `bytes` as lower-case hex, two digits a byte.
///
/// ```
/// assert_eq!(nexus_db::hex(&[0x00, 0xab, 0x7f]), "00ab7f");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

/// The SHA-256 digest of `bytes` in lower-case hex (64 characters).
///
/// ```
/// assert_eq!(
///     nexus_db::sha256_hex(b"abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha256(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_as_little_endian() {
        let v = [1.0f32, -0.5, 0.0, f32::MIN_POSITIVE];
        let blob = f32_bytes(&v);
        assert_eq!(blob, [1.0f32, -0.5, 0.0, f32::MIN_POSITIVE].map(f32::to_le_bytes).concat());
        assert_eq!(f32s_from_bytes(blob).as_deref(), Some(&v[..]));
        // Unaligned input is fine.
        let shifted = [&[0u8][..], blob].concat();
        assert_eq!(f32s_from_bytes(&shifted[1..]).as_deref(), Some(&v[..]));
        assert_eq!(f32s_from_bytes(&blob[..5]), None);
    }

    #[test]
    fn digests_are_sha256() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(&sha256(b"abc")), sha256_hex(b"abc"));
    }
}
