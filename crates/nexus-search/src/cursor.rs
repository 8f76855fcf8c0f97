//! [`Cursor`]: an opaque position in a fused result list, for "next page" requests.
//!
//! A fused ranking is a deterministic function of the query, the candidate depth and the data
//! (see [`crate::fusion::compare`]). A cursor records the last hit a page returned — its fused
//! score, best leg rank and key — and the candidate depth, so the next page re-runs the same
//! query at the same depth and continues strictly after that hit: no repeats, no gaps, even if
//! the last hit itself has since been deleted.

use std::fmt;
use std::str::FromStr;

use nexus_db::SourceKind;

use crate::error::SearchError;
use crate::fusion::{Fused, HitKey};

/// Where the next page starts. Print it with `to_string()` and parse it back with `parse()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub(crate) score: f64,
    pub(crate) best_rank: usize,
    pub(crate) key: HitKey,
    pub(crate) depth: u32,
}

impl Cursor {
    /// The cursor just after `hit`, for a search of candidate depth `depth`.
    pub(crate) fn after(hit: &Fused, depth: u32) -> Self {
        Self { score: hit.score, best_rank: hit.best_rank(), key: hit.key.clone(), depth }
    }

    /// True when `hit` comes after this cursor in the fused order.
    pub(crate) fn precedes(&self, hit: &Fused) -> bool {
        hit.sort_key_cmp(self.score, self.best_rank, &self.key).is_gt()
    }

    /// The candidate depth of the search that issued this cursor.
    pub fn depth(&self) -> u32 {
        self.depth
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "c1.{:016x}.{}.{}.{}.{}",
            self.score.to_bits(),
            self.best_rank,
            self.depth,
            self.key.kind,
            self.key.id
        )
    }
}

impl FromStr for Cursor {
    type Err = SearchError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SearchError::InvalidCursor(format!("{s:?} is not a nexus search cursor"));
        let mut parts = s.splitn(6, '.');
        if parts.next() != Some("c1") {
            return Err(bad());
        }
        let score =
            parts.next().and_then(|p| u64::from_str_radix(p, 16).ok()).map(f64::from_bits).ok_or_else(bad)?;
        let best_rank = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let depth = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let kind: SourceKind = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let id = parts.next().filter(|id| !id.is_empty()).ok_or_else(bad)?.to_owned();
        if !score.is_finite() {
            return Err(bad());
        }
        Ok(Self { score, best_rank, key: HitKey { kind, id }, depth })
    }
}
