//! Row ids: text primary keys, generated as UUIDv7 when the caller does not bring its own.
//!
//! UUIDv7 strings sort by creation time, so ordering by id is a stable tiebreak that also
//! follows insertion order.

/// A fresh, time-ordered row id (UUIDv7, hyphenated lowercase).
///
/// ```
/// let a = nexus_db::new_id();
/// let b = nexus_db::new_id();
/// assert_eq!(a.len(), 36);
/// assert!(a < b);
/// ```
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
