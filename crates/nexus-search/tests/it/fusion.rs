//! Fusion maths on hand-made lists: every expected score is computed by hand here.

use nexus_db::SourceKind;
use nexus_search::fusion::{Fusion, HitKey, LegHit, Weights, compare, fuse};
use proptest::prelude::*;

fn key(id: &str) -> HitKey {
    HitKey { kind: SourceKind::Episode, id: id.into() }
}

fn hits(list: &[(&str, f64)]) -> Vec<LegHit> {
    list.iter().map(|(id, score)| LegHit { key: key(id), score: *score }).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn rrf_sums_reciprocal_ranks_with_k() {
    let fts = hits(&[("a", 12.0), ("b", 8.0), ("c", 1.0)]);
    let vector = hits(&[("c", -0.1), ("d", -0.2), ("a", -0.5)]);
    let fused = fuse(&fts, &vector, &Fusion::rrf(60.0));
    let score = |id: &str| fused.iter().find(|f| f.key.id == id).map(|f| f.score).unwrap_or(f64::NAN);
    assert!(close(score("a"), 1.0 / 61.0 + 1.0 / 63.0));
    assert!(close(score("b"), 1.0 / 62.0));
    assert!(close(score("c"), 1.0 / 63.0 + 1.0 / 61.0));
    assert!(close(score("d"), 1.0 / 62.0));
    // a and c tie exactly (ranks 1+3 vs 3+1): the tie goes to the best single rank (both 1),
    // then to the key, so a comes first; b and d tie too (both rank 2 in one leg): b < d.
    let order: Vec<&str> = fused.iter().map(|f| f.key.id.as_str()).collect();
    assert_eq!(order, ["a", "c", "b", "d"]);
    let a = &fused[0].breakdown;
    assert_eq!((a.fts.map(|l| l.rank), a.vector.map(|l| l.rank)), (Some(1), Some(3)));
    assert!(close(a.fts.map_or(0.0, |l| l.contribution), 1.0 / 61.0));
    assert_eq!(fused[2].breakdown.vector, None, "b was not found by the vector leg");
}

#[test]
fn weighted_rrf_scales_each_leg() {
    let fts = hits(&[("a", 1.0)]);
    let vector = hits(&[("b", -0.1)]);
    let fusion = Fusion::Rrf { k: 10.0, weights: Weights { fts: 0.5, vector: 2.0 } };
    let fused = fuse(&fts, &vector, &fusion);
    assert_eq!(fused[0].key.id, "b");
    assert!(close(fused[0].score, 2.0 / 11.0));
    assert!(close(fused[1].score, 0.5 / 11.0));
}

#[test]
fn min_max_keeps_score_gaps() {
    let fts = hits(&[("a", 10.0), ("b", 9.0), ("c", 0.0)]);
    let vector = hits(&[("c", -0.2), ("a", -0.4), ("b", -0.6)]);
    let fused = fuse(&fts, &vector, &Fusion::MinMax { weights: Weights::default() });
    let score = |id: &str| fused.iter().find(|f| f.key.id == id).map(|f| f.score).unwrap_or(f64::NAN);
    assert!(close(score("a"), 1.0 + 0.5));
    assert!(close(score("b"), 0.9 + 0.0));
    assert!(close(score("c"), 0.0 + 1.0));
    assert_eq!(fused[0].key.id, "a");
}

#[test]
fn distribution_fusion_clips_outliers() {
    // One huge BM25 outlier: mean ± 3σ keeps the others apart instead of crushing them to 0.
    let fts = hits(&[("a", 100.0), ("b", 10.0), ("c", 9.0), ("d", 8.0)]);
    let fused = fuse(&fts, &[], &Fusion::Distribution { weights: Weights::default() });
    let scores: Vec<f64> = fused.iter().map(|f| f.score).collect();
    let mean = (100.0 + 10.0 + 9.0 + 8.0) / 4.0;
    let sd = ((100.0f64 - mean).powi(2)
        + (10.0f64 - mean).powi(2)
        + (9.0f64 - mean).powi(2)
        + (8.0f64 - mean).powi(2))
        / 4.0;
    let sd = sd.sqrt();
    let expect = |s: f64| ((s - (mean - 3.0 * sd)) / (6.0 * sd)).clamp(0.0, 1.0);
    assert!(close(scores[0], expect(100.0)));
    assert!(close(scores[1], expect(10.0)));
    assert!(scores[1] > scores[2] && scores[2] > scores[3] && scores[3] > 0.0);
}

#[test]
fn a_single_candidate_or_equal_scores_normalise_to_one() {
    let fused = fuse(&hits(&[("a", 3.0), ("b", 3.0)]), &[], &Fusion::MinMax { weights: Weights::default() });
    assert!(fused.iter().all(|f| close(f.score, 1.0)));
}

#[test]
fn duplicates_within_a_leg_count_once_at_their_best_rank() {
    let fts = hits(&[("a", 5.0), ("a", 4.0), ("b", 3.0)]);
    let fused = fuse(&fts, &[], &Fusion::rrf(60.0));
    assert_eq!(fused.len(), 2);
    assert!(close(fused[1].score, 1.0 / 62.0), "b is rank 2 once the duplicate is dropped");
}

#[test]
fn a_zero_weight_leg_adds_nothing_and_invalid_parameters_are_rejected() {
    let fusion = Fusion::Rrf { k: 60.0, weights: Weights { fts: 1.0, vector: 0.0 } };
    let fused = fuse(&hits(&[("a", 1.0)]), &hits(&[("b", -0.1)]), &fusion);
    assert_eq!(fused[0].key.id, "a");
    assert!(close(fused[1].score, 0.0));
    assert!(fusion.validate().is_ok());
    assert!(Fusion::rrf(-1.0).validate().is_err());
    assert!(Fusion::Rrf { k: 60.0, weights: Weights { fts: 0.0, vector: 0.0 } }.validate().is_err());
    assert!(Fusion::MinMax { weights: Weights { fts: f64::NAN, vector: 1.0 } }.validate().is_err());
}

proptest! {
    #[test]
    fn fused_lists_are_sorted_unique_and_cover_both_legs(
        fts in proptest::collection::vec((0u8..40, -50.0f64..50.0), 0..40),
        vector in proptest::collection::vec((0u8..40, -2.0f64..0.0), 0..40),
        method in 0u8..3,
    ) {
        let to_hits = |v: &[(u8, f64)]| -> Vec<LegHit> {
            v.iter().map(|(id, s)| LegHit { key: key(&format!("r{id}")), score: *s }).collect()
        };
        let (fts, vector) = (to_hits(&fts), to_hits(&vector));
        let fusion = match method {
            0 => Fusion::rrf(60.0),
            1 => Fusion::MinMax { weights: Weights::default() },
            _ => Fusion::Distribution { weights: Weights::default() },
        };
        let fused = fuse(&fts, &vector, &fusion);
        let mut all: Vec<&HitKey> = fts.iter().chain(vector.iter()).map(|h| &h.key).collect();
        all.sort();
        all.dedup();
        prop_assert_eq!(fused.len(), all.len());
        for pair in fused.windows(2) {
            prop_assert!(compare(&pair[0], &pair[1]).is_lt());
        }
        for f in &fused {
            prop_assert!(f.score.is_finite() && f.score >= 0.0);
            let sum = f.breakdown.fts.map_or(0.0, |l| l.contribution) + f.breakdown.vector.map_or(0.0, |l| l.contribution);
            prop_assert!((sum - f.score).abs() < 1e-9);
        }
    }
}
