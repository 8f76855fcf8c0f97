//! Content hashes: SHA-256 in lowercase hex, the form stored in `code_chunks.hash`.

use sha2::{Digest, Sha256};

/// The SHA-256 of `bytes` as 64 lowercase hex digits.
///
/// Files and chunks are hashed over their exact bytes, so equal hashes mean equal content:
/// an unchanged file can be skipped when re-indexing, and identical chunks (in different files
/// or projects) can share one embedding.
///
/// ```
/// assert_eq!(
///     nexus_code::content_hash(b"abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}
