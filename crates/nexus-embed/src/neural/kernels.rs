//! The encoder's element-wise steps as fused CPU kernels, run in place on the output of the
//! matrix product before them: bias + GELU, bias + residual + layer norm, masked softmax.
//!
//! Written as candle in-place ops over contiguous `f32` storage, so each step is one pass over
//! memory already in cache and allocates nothing, where the same steps as separate tensor
//! operations make a new tensor (and a page-faulted allocation) per operation. The exact GELU
//! uses a branch-free rational approximation of `erf` (Eigen's and XLA's, absolute error
//! below 2e-7 in `f32`) that the compiler vectorises; the scalar library `erff` was a tenth of
//! the embedder's time.

use candle_core::{CpuStorage, InplaceOp1, InplaceOp2, Layout, Result, bail};

/// `erf(x)` for `f32`: `x·P(x²)/Q(x²)` on `x` clamped to ±4, where `erf` is ±1 in `f32`.
/// Plain multiply-adds (`mul_add` is a library call unless FMA is enabled at compile time).
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    for c in
        [2.770_681_4e-8, -2.101_024e-6, -5.692_506_4e-5, -7.349_906_3e-4, -2.954_600_1e-3, -1.609_603_3e-2]
    {
        p = p * x2 + c;
    }
    let mut q = -1.456_607_2e-5_f32;
    for c in [-2.133_740_6e-4, -1.682_827e-3, -7.373_329e-3, -1.426_473_9e-2] {
        q = q * x2 + c;
    }
    x * p / q
}

/// `e^x` for `x ≤ 0` (Cephes' `expf`: `x = n·ln 2 + r`, a degree-6 polynomial in `r`, `2^n`
/// from the exponent bits), branch-free so that it vectorises; below −87 it returns about
/// `1e-38` instead of a smaller number, which no softmax can tell from 0.
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5·2^23: adding it rounds to an integer
    let x = x.clamp(-87.0, 0.0);
    let t = x * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4_f32;
    for c in [1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5] {
        p = p * r + c;
    }
    let e = p * r * r + r + 1.0;
    // t's low mantissa bits hold n + 2^22 (two's complement for negative n).
    let n_bits = t.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    e * f32::from_bits(((n_bits + 127) as u32) << 23)
}

/// The exact (erf) GELU: `x·Φ(x)`.
#[inline(always)]
pub(crate) fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// Layer norm of one row in place: `(x − mean) / sqrt(var + eps) · gamma + beta`.
#[inline(always)]
pub(crate) fn layer_norm(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let n = row.len() as f32;
    let mean = lane_sum(row) / n;
    let mut lanes = [0f32; 8];
    let chunks = row.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|v| (v - mean) * (v - mean)).sum();
    for chunk in chunks {
        lanes.iter_mut().zip(chunk).for_each(|(l, v)| *l += (v - mean) * (v - mean));
    }
    let var = (lanes.iter().sum::<f32>() + tail) / n;
    let scale = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
        *v = (*v - mean) * scale * g + b;
    }
}

/// The contiguous `f32` values of a tensor's storage.
fn values_mut<'a>(name: &str, storage: &'a mut CpuStorage, layout: &Layout) -> Result<&'a mut [f32]> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("{name}: the tensor is not contiguous")
    };
    match storage {
        CpuStorage::F32(values) => match values.get_mut(start..end) {
            Some(values) => Ok(values),
            None => bail!("{name}: the layout lies outside the storage"),
        },
        _ => bail!("{name}: expects f32 values"),
    }
}

/// The rows (`width` values each) of a tensor's storage, checked to divide evenly.
fn rows_mut<'a>(
    name: &str,
    storage: &'a mut CpuStorage,
    layout: &Layout,
    width: usize,
) -> Result<std::slice::ChunksExactMut<'a, f32>> {
    let values = values_mut(name, storage, layout)?;
    if width == 0 || values.len() % width != 0 {
        bail!("{name}: {} values are not rows of {width}", values.len());
    }
    Ok(values.chunks_exact_mut(width))
}

/// `x ← then(x + bias)` on every row: the bias add alone ([`std::convert::identity`]) or
/// followed by the feed-forward's GELU ([`gelu`]).
pub(crate) struct BiasThen<'a, F> {
    /// The op's name in errors.
    pub name: &'static str,
    /// One value per column.
    pub bias: &'a [f32],
    /// What is applied to each biased value.
    pub then: F,
}

impl<F: Fn(f32) -> f32> InplaceOp1 for BiasThen<'_, F> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let rows = rows_mut(self.name, storage, layout, self.bias.len())?;
        pulp::Arch::new().dispatch(|| {
            for row in rows {
                for (v, b) in row.iter_mut().zip(self.bias) {
                    *v = (self.then)(*v + b);
                }
            }
        });
        Ok(())
    }
}

/// `x ← layer_norm(x + bias + residual)` on every row (the end of each sub-layer).
pub(crate) struct ResidualNorm<'a> {
    /// The sub-layer's output bias.
    pub bias: &'a [f32],
    /// The norm's scale.
    pub gamma: &'a [f32],
    /// The norm's shift.
    pub beta: &'a [f32],
    /// The norm's epsilon.
    pub eps: f32,
}

impl InplaceOp2 for ResidualNorm<'_> {
    fn name(&self) -> &'static str {
        "residual-norm"
    }

    fn cpu_fwd(&self, s1: &mut CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<()> {
        let width = self.bias.len();
        let Some((start, end)) = l2.contiguous_offsets() else {
            bail!("residual-norm: residual not contiguous")
        };
        let residual = match s2 {
            CpuStorage::F32(values) => values.get(start..end),
            _ => None,
        };
        let Some(residual) = residual else { bail!("residual-norm: the residual is not f32 values") };
        let rows = rows_mut(self.name(), s1, l1, width)?;
        if rows.len() * width != residual.len() {
            bail!("residual-norm: {} rows against a residual of {} values", rows.len(), residual.len());
        }
        pulp::Arch::new().dispatch(|| {
            for (row, res) in rows.zip(residual.chunks_exact(width)) {
                for ((v, b), r) in row.iter_mut().zip(self.bias).zip(res) {
                    *v += b + r;
                }
                layer_norm(row, self.gamma, self.beta, self.eps);
            }
        });
        Ok(())
    }
}

/// Softmax over the last axis of attention scores `[batch, heads, width, width]`, in place,
/// over each text's first `lengths[text]` keys only; the padding keys get probability 0
/// (what adding the most negative `f32` before the softmax gives).
pub(crate) struct MaskedSoftmax<'a> {
    /// Real (unpadded) length of each text of the batch.
    pub lengths: &'a [usize],
}

impl InplaceOp1 for MaskedSoftmax<'_> {
    fn name(&self) -> &'static str {
        "masked-softmax"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let &[batch, heads, queries, width] = layout.dims() else { bail!("masked-softmax: expects 4 axes") };
        if batch != self.lengths.len() {
            bail!("masked-softmax: {batch} texts against {} lengths", self.lengths.len());
        }
        let rows_per_text = heads * queries;
        let rows = rows_mut(self.name(), storage, layout, width)?;
        pulp::Arch::new().dispatch(|| {
            for (i, row) in rows.enumerate() {
                let len = self.lengths.get(i / rows_per_text).copied().unwrap_or(width).clamp(1, width);
                let (keys, padding) = row.split_at_mut(len);
                let max = keys.iter().copied().fold(f32::NEG_INFINITY, |m, v| if v > m { v } else { m });
                keys.iter_mut().for_each(|v| *v = exp_nonpositive(*v - max));
                let inv = 1.0 / lane_sum(keys);
                keys.iter_mut().for_each(|v| *v *= inv);
                padding.fill(0.0);
            }
        });
        Ok(())
    }
}

/// The sum of `values` in eight lanes (so that it vectorises), then across them.
#[inline(always)]
fn lane_sum(values: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let chunks = values.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        lanes.iter_mut().zip(chunk).for_each(|(l, v)| *l += v);
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::{erf, exp_nonpositive, gelu, lane_sum, layer_norm};

    /// `erf` in `f64` by its Maclaurin series (|x| ≤ 3) or the continued fraction of `erfc`.
    fn erf_reference(x: f64) -> f64 {
        if x.abs() <= 3.0 {
            let mut term = x;
            let mut sum = x;
            for n in 1..200 {
                term *= -x * x / n as f64;
                sum += term / (2 * n + 1) as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            let z = x.abs();
            let mut fraction = 0.0;
            for k in (1..200).rev() {
                fraction = (k as f64 / 2.0) / (z + fraction);
            }
            let erfc = (-z * z).exp() / std::f64::consts::PI.sqrt() / (z + fraction);
            (1.0 - erfc).copysign(x)
        }
    }

    #[test]
    fn erf_and_gelu_match_the_exact_functions() {
        let mut worst_erf = 0.0f64;
        let mut worst_gelu = 0.0f64;
        for i in -12_000..=12_000 {
            let x = i as f32 / 1000.0;
            let exact = erf_reference(f64::from(x));
            worst_erf = worst_erf.max((f64::from(erf(x)) - exact).abs());
            let exact_gelu =
                0.5 * f64::from(x) * (1.0 + erf_reference(f64::from(x) / std::f64::consts::SQRT_2));
            worst_gelu = worst_gelu.max((f64::from(gelu(x)) - exact_gelu).abs() / exact_gelu.abs().max(1.0));
        }
        assert!(worst_erf < 1e-6, "erf off by {worst_erf}");
        assert!(worst_gelu < 2e-6, "gelu off by {worst_gelu}");
        assert!((erf(f32::INFINITY) - 1.0).abs() < 1e-6 && (erf(f32::NEG_INFINITY) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn exp_matches_the_library_exp_below_zero() {
        let mut worst = 0.0f64;
        for i in 0..=87_000 {
            let x = -(i as f32) / 1000.0;
            let exact = f64::from(x).exp();
            worst = worst.max((f64::from(exp_nonpositive(x)) - exact).abs() / exact);
        }
        assert!(worst < 1e-6, "relative error {worst}");
        assert!(exp_nonpositive(-1000.0) < 1e-37 && exp_nonpositive(0.0) == 1.0);
    }

    #[test]
    fn lane_sum_adds_every_value() {
        let values: Vec<f32> = (1..=21).map(|v| v as f32).collect();
        assert_eq!(lane_sum(&values), 231.0);
        assert_eq!(lane_sum(&[]), 0.0);
    }

    #[test]
    fn layer_norm_centres_and_scales() {
        let mut row = [1.0f32, 2.0, 3.0, 4.0];
        layer_norm(&mut row, &[1.0; 4], &[0.5; 4], 1e-12);
        let mean: f32 = row.iter().sum::<f32>() / 4.0;
        let var: f32 = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 4.0;
        assert!((mean - 0.5).abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{row:?}");
    }
}
