//! [`Timestamp`]: the one representation of time in the Nexus schema.
//!
//! Every timestamp column is an `INTEGER` holding Unix epoch **milliseconds** (UTC). Millisecond
//! resolution keeps "created first" orderings meaningful for rows written in quick succession,
//! and an integer sorts, compares and indexes without parsing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A point in time as Unix epoch milliseconds (UTC), stored as `INTEGER`.
///
/// ```
/// use nexus_db::Timestamp;
/// let t = Timestamp::from_millis(1_700_000_000_000);
/// assert_eq!(t.as_millis(), 1_700_000_000_000);
/// assert!(Timestamp::now() > t);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// A timestamp from Unix epoch milliseconds.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Unix epoch milliseconds.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// This timestamp moved back by `age` (saturating).
    pub fn minus(self, age: Duration) -> Self {
        Self(self.0.saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX)))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        let millis = match t.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
        };
        Self(millis)
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> Self {
        let magnitude = Duration::from_millis(t.0.unsigned_abs());
        if t.0 >= 0 { UNIX_EPOCH + magnitude } else { UNIX_EPOCH - magnitude }
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_system_time() {
        for millis in [0, 1, 1_700_000_000_123, -5_000] {
            let t = Timestamp::from_millis(millis);
            assert_eq!(Timestamp::from(SystemTime::from(t)), t);
        }
    }

    #[test]
    fn minus_moves_back() {
        let t = Timestamp::from_millis(10_000);
        assert_eq!(t.minus(Duration::from_secs(3)).as_millis(), 7_000);
    }
}
