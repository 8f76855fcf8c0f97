//! Fusion: how the keyword and vector candidate lists become one ranking.
//!
//! Each leg hands over its candidates best first. [`fuse`] combines them with one of the
//! [`Fusion`] methods and returns every candidate with its fused score and the
//! [`Breakdown`] that explains it: each leg's rank, raw score and contribution.
//!
//! * **RRF** (reciprocal rank fusion): `Σ weight / (k + rank)`. Uses only ranks, so it needs
//!   no calibration between BM25 scores and distances; `k` damps the advantage of the very top
//!   ranks (60 is the value from Cormack et al. and the common default).
//! * **Min-max**: each leg's scores are rescaled to `[0, 1]` over its candidates, then summed
//!   with weights. Keeps score gaps (a clear winner stays ahead) but is sensitive to outliers.
//! * **Distribution-based** (DBSF): each leg's scores are rescaled with
//!   `(s - (μ - 3σ)) / 6σ`, clipped to `[0, 1]`: robust to a single outlier.
//!
//! A candidate missing from a leg gets nothing from that leg.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use nexus_db::SourceKind;

/// A row a leg found: its kind and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HitKey {
    /// The kind of row.
    pub kind: SourceKind,
    /// The row's id.
    pub id: String,
}

/// One candidate of one leg. `score` is higher-is-better for both legs: BM25 relevance for the
/// keyword leg, and for the vector leg the negated distance (so larger means nearer).
#[derive(Debug, Clone, PartialEq)]
pub struct LegHit {
    /// Which row.
    pub key: HitKey,
    /// The leg's own score, higher is better.
    pub score: f64,
}

/// Per-leg weights. Each weight multiplies that leg's contribution; 0 switches a leg off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// Weight of the keyword (FTS) leg.
    pub fts: f64,
    /// Weight of the vector (KNN) leg.
    pub vector: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self { fts: 1.0, vector: 1.0 }
    }
}

/// How the two legs' candidates are combined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Fusion {
    /// Reciprocal rank fusion: `Σ weight / (k + rank)`, ranks from 1.
    Rrf {
        /// The rank constant (default 60).
        k: f64,
        /// Per-leg weights.
        weights: Weights,
    },
    /// Weighted sum of min-max normalised scores.
    MinMax {
        /// Per-leg weights.
        weights: Weights,
    },
    /// Weighted sum of scores normalised by mean ± 3 standard deviations.
    Distribution {
        /// Per-leg weights.
        weights: Weights,
    },
}

impl Default for Fusion {
    fn default() -> Self {
        Self::Rrf { k: 60.0, weights: Weights::default() }
    }
}

impl Fusion {
    /// Plain RRF with rank constant `k` and equal weights.
    pub fn rrf(k: f64) -> Self {
        Self::Rrf { k, weights: Weights::default() }
    }

    /// The per-leg weights.
    pub fn weights(&self) -> Weights {
        match *self {
            Self::Rrf { weights, .. } | Self::MinMax { weights } | Self::Distribution { weights } => weights,
        }
    }

    /// Checks the parameters: finite, non-negative weights (not both zero) and `k ≥ 0`.
    pub fn validate(&self) -> Result<(), String> {
        let w = self.weights();
        if !(w.fts.is_finite() && w.vector.is_finite() && w.fts >= 0.0 && w.vector >= 0.0) {
            return Err(format!("weights must be finite and non-negative, got {w:?}"));
        }
        if w.fts == 0.0 && w.vector == 0.0 {
            return Err("at least one weight must be positive".into());
        }
        if let Self::Rrf { k, .. } = *self
            && !(k.is_finite() && k >= 0.0)
        {
            return Err(format!("RRF k must be finite and non-negative, got {k}"));
        }
        Ok(())
    }
}

/// What one leg said about a fused hit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LegScore {
    /// 1-based rank within the leg's candidates.
    pub rank: usize,
    /// The leg's raw score (higher is better).
    pub score: f64,
    /// What this leg added to the fused score.
    pub contribution: f64,
}

/// Why a hit scored what it did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// The keyword leg's view, when it found the row.
    pub fts: Option<LegScore>,
    /// The vector leg's view, when it found the row.
    pub vector: Option<LegScore>,
}

/// A fused candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Fused {
    /// Which row.
    pub key: HitKey,
    /// The fused score (higher is better).
    pub score: f64,
    /// Per-leg ranks, scores and contributions.
    pub breakdown: Breakdown,
}

impl Fused {
    /// The best rank either leg gave this hit.
    pub fn best_rank(&self) -> usize {
        let fts = self.breakdown.fts.map_or(usize::MAX, |l| l.rank);
        let vector = self.breakdown.vector.map_or(usize::MAX, |l| l.rank);
        fts.min(vector)
    }

    /// Compares this hit with the position `(score, best_rank, key)` in the [`compare`] order.
    pub(crate) fn sort_key_cmp(&self, score: f64, best_rank: usize, key: &HitKey) -> std::cmp::Ordering {
        score
            .total_cmp(&self.score)
            .then_with(|| self.best_rank().cmp(&best_rank))
            .then_with(|| self.key.cmp(key))
    }
}

/// The total order of fused hits: fused score descending, then best leg rank, then kind and
/// id. Deterministic, so pages of the same query never repeat or skip a hit.
pub fn compare(a: &Fused, b: &Fused) -> std::cmp::Ordering {
    a.sort_key_cmp(b.score, b.best_rank(), &b.key)
}

/// Normalises a leg's scores to `[0, 1]` for score fusion.
fn normalised(scores: &[f64], fusion: &Fusion) -> Vec<f64> {
    let n = scores.len() as f64;
    match fusion {
        Fusion::MinMax { .. } => {
            let min = scores.iter().copied().fold(f64::INFINITY, f64::min);
            let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let range = max - min;
            scores.iter().map(|s| if range > 0.0 { (s - min) / range } else { 1.0 }).collect()
        }
        Fusion::Distribution { .. } => {
            let mean = scores.iter().sum::<f64>() / n;
            let sd = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
            let (low, span) = (mean - 3.0 * sd, 6.0 * sd);
            scores.iter().map(|s| if span > 0.0 { ((s - low) / span).clamp(0.0, 1.0) } else { 1.0 }).collect()
        }
        Fusion::Rrf { .. } => Vec::new(),
    }
}

/// The contributions of one leg's candidates, given their scores in the leg's order.
fn contributions(scores: &[f64], weight: f64, fusion: &Fusion) -> Vec<f64> {
    match *fusion {
        Fusion::Rrf { k, .. } => (1..=scores.len()).map(|rank| weight / (k + rank as f64)).collect(),
        _ => normalised(scores, fusion).into_iter().map(|s| weight * s).collect(),
    }
}

/// Fuses the keyword and vector candidate lists (each best first; duplicates within a leg
/// keep their first, best position) into one list in [`compare`] order.
///
/// ```
/// use nexus_db::SourceKind;
/// use nexus_search::fusion::{fuse, Fusion, HitKey, LegHit};
/// let hit = |id: &str, score| LegHit { key: HitKey { kind: SourceKind::Episode, id: id.into() }, score };
/// let fts = [hit("a", 9.0), hit("b", 5.0)];
/// let vector = [hit("b", -0.1), hit("c", -0.3)];
/// let fused = fuse(&fts, &vector, &Fusion::rrf(60.0));
/// // b is found by both legs, so it wins: 1/(60+2) + 1/(60+1).
/// assert_eq!(fused[0].key.id, "b");
/// assert!((fused[0].score - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-12);
/// ```
pub fn fuse(fts: &[LegHit], vector: &[LegHit], fusion: &Fusion) -> Vec<Fused> {
    let weights = fusion.weights();
    let mut by_key: HashMap<HitKey, Fused> = HashMap::with_capacity(fts.len() + vector.len());
    for (leg, weight, is_fts) in [(fts, weights.fts, true), (vector, weights.vector, false)] {
        let mut seen = HashSet::with_capacity(leg.len());
        let unique: Vec<&LegHit> = leg.iter().filter(|h| seen.insert(&h.key)).collect();
        let scores: Vec<f64> = unique.iter().map(|h| h.score).collect();
        for (i, (hit, contribution)) in unique.iter().zip(contributions(&scores, weight, fusion)).enumerate()
        {
            let view = LegScore { rank: i + 1, score: hit.score, contribution };
            let entry = by_key.entry(hit.key.clone()).or_insert_with(|| Fused {
                key: hit.key.clone(),
                score: 0.0,
                breakdown: Breakdown::default(),
            });
            entry.score += contribution;
            if is_fts {
                entry.breakdown.fts = Some(view);
            } else {
                entry.breakdown.vector = Some(view);
            }
        }
    }
    let mut fused: Vec<Fused> = by_key.into_values().collect();
    fused.sort_by(compare);
    fused
}
