//! The int8 prefilter of the resident scan: each resident vector also kept as int8 codes (one
//! scale per vector) with a bound on how far the codes are from the vector, so an exact KNN
//! computes the float32 distance only for the vectors the bounds cannot rule out and scans the
//! rest with integer dot products (`docs/vector.md`, "The int8 prefilter").
//!
//! **Why.** The float32 scan is bound by its additions: summed in sqlite-vec's order (one sum of
//! eight lanes, for distances equal to the bit) each waits on the last, about 200 cycles per
//! vector of 384 dimensions. An integer dot product of codes has no rounding, so it may be
//! summed in any order the compiler likes, in any number of lanes.
//!
//! **The bounds.** A vector `v` is kept as codes `c` (int8) and a scale `s`, which decode to
//! `v̂ = s·c`, with `e ≥ ‖v − v̂‖`; a query `q` as codes `d` (int16) and a scale `t`, `q̂ = t·d`,
//! with `ε ≥ ‖q − q̂‖`. The decoded distance comes from one integer dot product:
//! `‖q̂ − v̂‖² = t²·‖d‖² − 2ts·(d·c) + s²·‖c‖²`, evaluated in float64 within a bound of its own
//! rounding. By the triangle inequality `‖q − v‖` is within `ε + e` of `‖q̂ − v̂‖`, and the float32
//! distance `δ` that the exact scan computes is within a relative [`slack`] of `‖q − v‖` (twice
//! the worst-case error of summing `dims` rounded squares in any order). So every vector gets
//! `lower ≤ δ ≤ upper`.
//!
//! **Exactness.** If `τ` is the `k`-th smallest `upper` (among vectors surely within the maximum
//! distance, when there is one), at least `k` vectors have `δ ≤ τ`, so a vector with
//! `lower > τ` is strictly farther than the `k`-th nearest and cannot be among the `k` nearest.
//! Every other vector is a *candidate*: its float32 distance is computed as before, and the `k`
//! nearest of the candidates are the `k` nearest of all, to the bit, ties included.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::int_dot;

/// Vectors whose dot products [`int_dot::dots`] computes at a time in [`Codes::scan`].
const BLOCK: usize = 64;

/// int8 codes of many vectors of one dimension count, with one scale and one error bound each.
#[derive(Debug, Default)]
pub(crate) struct Codes {
    dims: usize,
    /// `dims` codes per vector, in `[-127, 127]`.
    codes: Vec<i8>,
    /// Per vector: what one unit of a code is worth, `s` (`0` for a zero vector).
    scales: Vec<f32>,
    /// Per vector: `‖v̂‖² = s²·‖c‖²`.
    decoded_norms: Vec<f64>,
    /// Per vector: `e`, an upper bound of `‖v − v̂‖` (infinite for a vector with a non-finite
    /// value, which is then always a candidate).
    errors: Vec<f64>,
}

impl Codes {
    /// The codes of `vectors` (`dims` values each): float32 arithmetic the compiler
    /// vectorises (a copy is coded again after every write that changes a vector), with the
    /// error bound covering its rounding.
    pub fn new(vectors: &[f32], dims: usize) -> Self {
        let count = vectors.len().checked_div(dims).unwrap_or(0);
        let mut codes = Self {
            dims,
            codes: vec![0; count * dims],
            scales: Vec::with_capacity(count),
            decoded_norms: Vec::with_capacity(count),
            errors: Vec::with_capacity(count),
        };
        let widen = 1.0 + slack(dims);
        for (vector, out) in vectors.chunks_exact(dims.max(1)).zip(codes.codes.chunks_exact_mut(dims.max(1)))
        {
            // The largest magnitude, from the bits: for non-negative floats their order is
            // the bits' order, and NaN and infinity are above every finite value's bits.
            let largest = vector.iter().fold(0u32, |m, x| m.max(x.to_bits() & 0x7fff_ffff));
            let largest = f32::from_bits(largest);
            let scale = if largest.is_finite() && largest > 0.0 { largest / 127.0 } else { 0.0 };
            let unit = if scale > 0.0 { 127.0 / largest } else { 0.0 };
            // |x · unit| ≤ 127 up to a roundoff. Rounded to the nearest integer (ties to even) by
            // adding 1.5 · 2²³, which leaves the integer in the low bits of the sum: plain
            // float and integer arithmetic the compiler vectorises, unlike a float-to-int cast.
            for (code, &x) in out.iter_mut().zip(vector) {
                let rounded = ((x * unit + ROUNDER).to_bits() as i32).wrapping_sub(ROUNDER.to_bits() as i32);
                *code = rounded.clamp(-127, 127) as i8;
            }
            let (mut squares, mut norms) = ([0f32; LANES], [0i32; LANES]);
            let mut code_lanes = out.chunks_exact(LANES);
            let mut value_lanes = vector.chunks_exact(LANES);
            for (c, x) in (&mut code_lanes).zip(&mut value_lanes) {
                for i in 0..LANES {
                    let d = x[i] - scale * f32::from(c[i]);
                    squares[i] += d * d;
                    norms[i] += i32::from(c[i]) * i32::from(c[i]);
                }
            }
            for (i, (&c, &x)) in code_lanes.remainder().iter().zip(value_lanes.remainder()).enumerate() {
                let d = x - scale * f32::from(c);
                squares[i] += d * d;
                norms[i] += i32::from(c) * i32::from(c);
            }
            let norm: i32 = norms.iter().sum();
            let decoded_norm = f64::from(scale).powi(2) * f64::from(norm);
            // The float32 `scale · c` is off by at most a roundoff of `‖v̂‖` in all, the
            // differences and their sum by the slack.
            let computed = f64::from(squares.iter().sum::<f32>()).sqrt();
            let error = (computed + f64::from(f32::EPSILON) * decoded_norm.sqrt()) * widen;
            codes.scales.push(scale);
            codes.decoded_norms.push(decoded_norm);
            codes.errors.push(if largest.is_finite() { widened(error) } else { f64::INFINITY });
        }
        codes
    }

    /// Bytes held per vector besides its `dims` codes: scale, decoded norm, error bound.
    pub const BYTES_PER_VECTOR: usize = 4 + 8 + 8;

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.codes.len() + self.scales.len() * Self::BYTES_PER_VECTOR
    }

    /// Offers every vector's bounds to `threshold` and pushes `(i, lower)` for each vector `i`
    /// it admits at that point (vectors that cannot be admitted are skipped without their
    /// bounds being computed); the caller keeps those that [`Threshold::admits`] in the end.
    pub fn scan(&self, query: &QueryCodes, threshold: &mut Threshold, admitted: &mut Vec<(usize, f32)>) {
        let slack = slack(self.dims);
        let mut dots = [0i32; BLOCK];
        let blocks = self.codes.chunks(BLOCK * self.dims.max(1)).zip(self.scales.chunks(BLOCK));
        for (block, (codes, scales)) in blocks.enumerate() {
            let dots = &mut dots[..scales.len()];
            int_dot::dots(codes, &query.codes, dots);
            let first = block * BLOCK;
            let vectors =
                dots.iter().zip(scales).zip(&self.decoded_norms[first..]).zip(&self.errors[first..]);
            for (i, (((&dot, &scale), &decoded_norm), &error)) in (first..).zip(vectors) {
                let approximate =
                    query.decoded_norm - 2.0 * query.scale * f64::from(scale) * f64::from(dot) + decoded_norm;
                // Each term within a few float64 roundoffs, and 2ts·|d·c| ≤ ‖q̂‖² + ‖v̂‖².
                let rounding = 8.0 * f64::EPSILON * (query.decoded_norm + decoded_norm);
                let apart = query.error + error;
                // `lower > τ` without a square root (with room for this comparison's own rounding).
                let reach = threshold.reach + apart;
                if approximate - rounding > reach * reach * (1.0 + 1e-9) {
                    continue;
                }
                let lower = ((approximate - rounding).max(0.0).sqrt() - apart).max(0.0) * (1.0 - slack);
                let upper = ((approximate + rounding).max(0.0).sqrt() + apart) * (1.0 + slack);
                let lower = rounded_down(if lower.is_nan() { 0.0 } else { lower });
                let upper = rounded_up(if upper.is_nan() { f64::INFINITY } else { upper });
                if threshold.offer(lower, upper) {
                    admitted.push((i, lower));
                }
            }
        }
    }

    /// The bounds of vector `i`'s float32 distance to `query` (as [`Self::scan`] computes them).
    #[cfg(test)]
    fn bounds(&self, i: usize, query: &QueryCodes) -> (f32, f32) {
        let mut threshold = Threshold::new(usize::MAX, None, self.dims);
        let codes = Self {
            dims: self.dims,
            codes: self.codes[i * self.dims..(i + 1) * self.dims].to_vec(),
            scales: vec![self.scales[i]],
            decoded_norms: vec![self.decoded_norms[i]],
            errors: vec![self.errors[i]],
        };
        let mut admitted = Vec::new();
        codes.scan(query, &mut threshold, &mut admitted);
        let lower = admitted.first().map_or(f32::NAN, |&(_, lower)| lower);
        (lower, threshold.uppers.peek().map_or(f32::NAN, |b| b.0))
    }
}

/// A query as int16 codes (module docs): `q̂ = t·d`, with `‖q̂‖²` and `ε`.
#[derive(Debug)]
pub(crate) struct QueryCodes {
    codes: Vec<i16>,
    /// `t`.
    scale: f64,
    /// `‖q̂‖²`.
    decoded_norm: f64,
    /// `ε`, an upper bound of `‖q − q̂‖` (infinite for a query with a non-finite value: then
    /// every vector is a candidate).
    error: f64,
}

impl QueryCodes {
    /// The codes of `query`. Their range leaves room for a dot product with `query.len()` int8
    /// codes to be summed in an `i32` in any order.
    pub fn new(query: &[f32]) -> Self {
        let widest = (i32::MAX as usize / (query.len().max(1) * 127)).min(i16::MAX as usize) as f64;
        let largest = query.iter().fold(0f64, |m, x| m.max(f64::from(x.abs())));
        let finite = query.iter().all(|x| x.is_finite());
        let scale = if finite && largest > 0.0 { largest / widest } else { 0.0 };
        let unit = if scale > 0.0 { 1.0 / scale } else { 0.0 };
        let codes: Vec<i16> =
            query.iter().map(|&x| (f64::from(x) * unit).round().clamp(-widest, widest) as i16).collect();
        let (mut squared_error, mut norm) = (0f64, 0i64);
        for (&x, &code) in query.iter().zip(&codes) {
            squared_error += (f64::from(x) - scale * f64::from(code)).powi(2);
            norm += i64::from(code) * i64::from(code);
        }
        let error = if finite { widened(squared_error.sqrt()) } else { f64::INFINITY };
        Self { codes, scale, decoded_norm: scale * scale * norm as f64, error }
    }
}

/// `1.5 · 2²³`: a float32 in `[-2²², 2²²]` plus this is rounded to an integer, kept in the low
/// bits of the sum ([`Codes::new`]).
const ROUNDER: f32 = 12_582_912.0;

/// Independent float32 sums when coding a vector (so the compiler may vectorise them).
const LANES: usize = 32;

/// An error bound computed in float64, made an upper bound whatever its rounding.
fn widened(error: f64) -> f64 {
    error * (1.0 + 1e-9) + f64::MIN_POSITIVE
}

/// The relative slack of the float32 distances of `dims` dimensions: twice `(dims + 8)` times
/// float32's unit roundoff, above the relative error of a float32 sum of `dims` rounded squares
/// in any order (at most about `(dims + 3)` roundoffs), and of its square root.
fn slack(dims: usize) -> f64 {
    (dims as f64 + 8.0) * f64::from(f32::EPSILON)
}

/// `x` as the largest `f32` at most `x`.
fn rounded_down(x: f64) -> f32 {
    let y = x as f32;
    if f64::from(y) > x { y.next_down() } else { y }
}

/// `x` as the smallest `f32` at least `x`.
fn rounded_up(x: f64) -> f32 {
    let y = x as f32;
    if f64::from(y) < x { y.next_up() } else { y }
}

/// The threshold `τ` of the module docs, tightened as bounds come in: the `k`-th smallest upper
/// bound among vectors surely within `max` (the maximum distance, infinite without one).
#[derive(Debug)]
pub(crate) struct Threshold {
    k: usize,
    max: f32,
    /// The `k` smallest upper bounds so far (largest on top).
    uppers: BinaryHeap<Bound>,
    /// [`Self::limit`] divided by `1 − slack` of [`Codes::scan`]'s vectors, kept up to date by
    /// [`Self::offer`]: the least `‖q̂ − v̂‖ − ε − e` a vector must exceed to be ruled out.
    reach: f64,
    slack: f64,
}

impl Threshold {
    /// For the `k` nearest within `max_l2`, if given, among vectors of `dims` dimensions.
    pub fn new(k: usize, max_l2: Option<f64>, dims: usize) -> Self {
        // Rounded up, so that no vector within the maximum is left out.
        let max = max_l2.map_or(f32::INFINITY, |m| if m.is_nan() { f32::INFINITY } else { rounded_up(m) });
        let mut threshold = Self {
            k,
            max,
            uppers: BinaryHeap::with_capacity(k.min(4096) + 1),
            reach: 0.0,
            slack: slack(dims),
        };
        threshold.reach = threshold.limit() / (1.0 - threshold.slack);
        threshold
    }

    /// Takes a vector's bounds; whether it may be among the `k` nearest as far as is known now
    /// (the final word is [`Self::admits`] once every vector has been offered).
    pub fn offer(&mut self, lower: f32, upper: f32) -> bool {
        if upper <= self.max && self.k > 0 {
            if self.uppers.len() < self.k {
                self.uppers.push(Bound(upper));
            } else if self.uppers.peek().is_some_and(|worst| upper < worst.0) {
                self.uppers.pop();
                self.uppers.push(Bound(upper));
            }
            self.reach = self.limit() / (1.0 - self.slack);
        }
        self.admits(lower)
    }

    /// Whether a vector whose distance is at least `lower` may be among the `k` nearest.
    pub fn admits(&self, lower: f32) -> bool {
        self.k > 0 && f64::from(lower) <= self.limit()
    }

    /// `τ`, capped by the maximum distance (infinite while fewer than `k` bounds are known).
    fn limit(&self) -> f64 {
        let tau = match self.uppers.peek() {
            Some(worst) if self.uppers.len() == self.k => worst.0,
            _ => f32::INFINITY,
        };
        f64::from(tau.min(self.max))
    }
}

/// An upper bound, ordered by `total_cmp`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bound(f32);

impl Eq for Bound {}

impl PartialOrd for Bound {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Bound {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The float32 distance the exact scan computes (one running sum; any order is within the
    /// slack).
    fn exact(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).fold(0f32, |s, (x, y)| s + (x - y) * (x - y)).sqrt()
    }

    fn vectors(rng: &mut fastrand::Rng, count: usize, dims: usize, spread: f32) -> Vec<f32> {
        (0..count * dims).map(|_| (rng.f32() - 0.5) * spread).collect()
    }

    #[test]
    fn the_bounds_hold_for_every_vector() {
        let mut rng = fastrand::Rng::with_seed(7);
        for (dims, spread) in [(384, 0.2), (37, 3.0), (8, 1e-3), (1536, 0.05), (8192, 1e4)] {
            let mut data = vectors(&mut rng, 60, dims, spread);
            // A zero vector, a vector with one large component, a copy of the query.
            data[..dims].fill(0.0);
            data[dims] = 50.0;
            let query = vectors(&mut rng, 1, dims, spread);
            data[2 * dims..3 * dims].copy_from_slice(&query);
            let codes = Codes::new(&data, dims);
            let query_codes = QueryCodes::new(&query);
            let zero = vec![0f32; dims];
            for i in 0..60 {
                let d = exact(&data[i * dims..(i + 1) * dims], &query);
                let (lower, upper) = codes.bounds(i, &query_codes);
                assert!(lower <= d && d <= upper, "dims {dims}, vector {i}: {lower} <= {d} <= {upper}");
                let norms = exact(&data[i * dims..(i + 1) * dims], &zero) + exact(&query, &zero);
                assert!(upper - lower <= 0.05 * norms, "dims {dims}, vector {i}: {lower}..{upper} is loose");
            }
            assert_eq!(codes.bytes(), 60 * dims + 60 * 20);
        }
    }

    #[test]
    fn the_threshold_is_the_kth_smallest_sure_upper_bound() {
        let mut threshold = Threshold::new(2, Some(10.0), 8);
        assert!(threshold.offer(5.0, 6.0), "fewer than k bounds: every vector within max is admitted");
        assert!(!threshold.offer(11.0, 12.0), "beyond the maximum");
        assert!(threshold.offer(9.0, 11.0), "not surely within the maximum, but may be");
        assert!(threshold.offer(1.0, 2.0));
        // τ = 6 now (uppers 2 and 6).
        assert!(threshold.admits(6.0));
        assert!(!threshold.admits(6.5));
        assert!(threshold.offer(3.0, 4.0));
        assert!(!threshold.admits(4.5), "τ tightened to 4");
        assert!(!Threshold::new(0, None, 8).offer(0.0, 0.0), "k = 0 admits nothing");
    }
}
