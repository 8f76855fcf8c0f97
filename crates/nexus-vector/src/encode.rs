//! Vectors on their way into SQLite: validation (length, finite values, no zero vector for
//! cosine), normalisation of cosine vectors, int8 and binary quantisation, and the bytes
//! sqlite-vec reads — little-endian float32/int8 viewed in place with zerocopy.

use std::borrow::Cow;

use zerocopy::IntoBytes;

use crate::error::VectorProblem;
use crate::spec::Metric;

// sqlite-vec reads vector BLOBs as native-endian arrays, and nexus-vector promises
// little-endian float32 in the file (portable between machines); the two agree only here.
#[cfg(not(target_endian = "little"))]
compile_error!(
    "nexus-vector stores vectors as little-endian float32 and supports little-endian targets only"
);

/// Checks `vector` for a collection of `dimensions` and `metric`, and returns the float32
/// vector to store or search with: the input itself for L2, a unit-length copy for cosine
/// (sqlite-vec then ranks it by L2, whose distances map one-to-one to cosine distances).
pub(crate) fn prepare(
    vector: &[f32],
    dimensions: usize,
    metric: Metric,
) -> Result<Cow<'_, [f32]>, VectorProblem> {
    if vector.len() != dimensions {
        return Err(VectorProblem::WrongLength { expected: dimensions, actual: vector.len() });
    }
    if let Some((index, &value)) = vector.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(VectorProblem::NotFinite { index, value });
    }
    match metric {
        Metric::L2 => Ok(Cow::Borrowed(vector)),
        Metric::Cosine => {
            // f64: squares of large finite f32 values would overflow f32.
            let norm = vector.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
            if norm == 0.0 {
                return Err(VectorProblem::Zero);
            }
            Ok(Cow::Owned(vector.iter().map(|&v| (f64::from(v) / norm) as f32).collect()))
        }
    }
}

/// The bytes of a float32 vector as stored: little-endian, viewed without copying (the one
/// conversion of every Nexus crate, [`nexus_db::f32_bytes`]).
pub(crate) use nexus_db::f32_bytes;

/// Scales `vector` from `[-range, range]` to −127…127 (clipping outside) and returns the int8
/// bytes of sqlite-vec's `int8[N]` vectors.
pub(crate) fn quantize_int8(vector: &[f32], range: f32) -> Vec<u8> {
    let scale = 127.0 / range;
    let quantized: Vec<i8> = vector.iter().map(|&v| (v * scale).round().clamp(-127.0, 127.0) as i8).collect();
    quantized.as_bytes().to_vec()
}

/// One bit per dimension, set when the value is positive, packed as sqlite-vec's `bit[N]`
/// vectors (dimension `i` is bit `i % 8` of byte `i / 8`, like `vec_quantize_binary`).
pub(crate) fn quantize_bits(vector: &[f32]) -> Vec<u8> {
    let mut bits = vec![0u8; vector.len().div_ceil(8)];
    for (i, &v) in vector.iter().enumerate() {
        if v > 0.0 {
            bits[i / 8] |= 1 << (i % 8);
        }
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_vectors_are_named() {
        assert_eq!(
            prepare(&[1.0, 2.0], 3, Metric::L2),
            Err(VectorProblem::WrongLength { expected: 3, actual: 2 })
        );
        assert!(matches!(
            prepare(&[1.0, f32::NAN, 0.0], 3, Metric::L2),
            Err(VectorProblem::NotFinite { index: 1, value }) if value.is_nan()
        ));
        assert_eq!(
            prepare(&[1.0, 0.0, f32::NEG_INFINITY], 3, Metric::Cosine),
            Err(VectorProblem::NotFinite { index: 2, value: f32::NEG_INFINITY })
        );
        assert_eq!(prepare(&[0.0; 3], 3, Metric::Cosine), Err(VectorProblem::Zero));
        assert!(prepare(&[0.0; 3], 3, Metric::L2).is_ok(), "a zero vector is a point in L2 space");
    }

    #[test]
    fn cosine_vectors_are_normalised_and_l2_vectors_kept() -> Result<(), VectorProblem> {
        let unit = prepare(&[3.0, 4.0], 2, Metric::Cosine)?;
        assert_eq!(unit.as_ref(), &[0.6, 0.8]);
        let huge = prepare(&[f32::MAX, f32::MAX], 2, Metric::Cosine)?;
        assert!((huge[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert!(matches!(prepare(&[3.0, 4.0], 2, Metric::L2)?, Cow::Borrowed(_)));
        Ok(())
    }

    #[test]
    fn bytes_are_little_endian_float32() {
        assert_eq!(f32_bytes(&[1.0, -2.5]), [1.0f32.to_le_bytes(), (-2.5f32).to_le_bytes()].concat());
    }

    #[test]
    fn int8_quantisation_scales_and_clips() {
        let bytes = quantize_int8(&[0.0, 0.5, -0.5, 1.0, -3.0, 0.002], 1.0);
        let values: Vec<i8> = bytes.iter().map(|&b| b as i8).collect();
        assert_eq!(values, [0, 64, -64, 127, -127, 0]);
    }

    #[test]
    fn bits_follow_sqlite_vec_layout() {
        let mut v = [-1.0f32; 16];
        v[0] = 1.0;
        v[9] = 0.5;
        v[15] = 2.0;
        assert_eq!(quantize_bits(&v), [0b0000_0001, 0b1000_0010]);
    }
}
