//! # nexus-search
//!
//! Hybrid search for Nexus: keyword (FTS5) and vector (sqlite-vec) candidates fused into one
//! ranking, with the reasons visible.
//!
//! * [`fusion`] — reciprocal rank fusion and normalised-score fusion, with a per-hit
//!   breakdown of each leg's rank, score and contribution.

pub mod fusion;

pub use fusion::{Breakdown, Fused, Fusion, HitKey, LegHit, LegScore, Weights, fuse};
