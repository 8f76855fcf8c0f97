//! Exact integer dot products of many int8 code vectors with one int16 query (the inner loop of
//! the int8 prefilter, [`crate::prefilter`]), with the widest instructions the CPU has, chosen
//! when the program runs: AVX-512 VNNI (`vpdpwssd`, 32 products and their sums in one
//! instruction), else AVX2 (`vpmaddwd`, 16), else plain Rust.
//!
//! An integer dot product has no rounding, so every kernel returns the same `i32`, whatever its
//! order of additions (the ranges of the prefilter's codes keep every partial sum within `i32`;
//! the kernels wrap as plain `i32` additions do in release builds, they never saturate).
//!
//! The kernels are the only `unsafe` of the crate: the intrinsics are `unsafe` to call because
//! the CPU must have their instructions, which [`dots`] checks first (`is_x86_feature_detected!`,
//! a cached flag); every load is of a slice chunk of the exact width loaded.
#![allow(unsafe_code)]

/// For each vector `i` of `codes` (`query.len()` codes each), `out[i] = Σ codes[i][j]·query[j]`.
/// `codes` holds `out.len()` vectors; extra codes or outputs are left alone.
pub(crate) fn dots(codes: &[i8], query: &[i16], out: &mut [i32]) {
    let dims = query.len();
    if dims == 0 {
        out.fill(0);
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
        {
            // SAFETY: the CPU has AVX-512 F, BW and VNNI (BW implies F).
            unsafe { x86::dots_avx512(codes, query, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            unsafe { x86::dots_avx2(codes, query, out) };
            return;
        }
    }
    for (vector, out) in codes.chunks_exact(dims).zip(out) {
        *out = dot(vector, query);
    }
}

/// `Σ c·d` in plain Rust: the reference of the kernels, and their tail.
fn dot(codes: &[i8], query: &[i16]) -> i32 {
    codes.iter().zip(query).fold(0i32, |sum, (&c, &d)| sum.wrapping_add(i32::from(c) * i32::from(d)))
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m128i, __m256i, __m512i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_shuffle_epi32,
        _mm256_add_epi32, _mm256_castsi256_si128, _mm256_cvtepi8_epi16, _mm256_extracti128_si256,
        _mm256_loadu_si256, _mm256_madd_epi16, _mm256_setzero_si256, _mm512_add_epi32, _mm512_cvtepi8_epi16,
        _mm512_dpwssd_epi32, _mm512_loadu_si512, _mm512_reduce_add_epi32, _mm512_setzero_si512,
    };

    use super::dot;

    /// Codes per AVX-512 step (32 int8 codes widened to 32 int16 lanes).
    const WIDE: usize = 32;
    /// Codes per AVX2 step.
    const NARROW: usize = 16;

    /// [`super::dots`] with AVX-512 VNNI: two accumulators of 16 `i32` lanes, 64 codes a step.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) fn dots_avx512(codes: &[i8], query: &[i16], out: &mut [i32]) {
        let dims = query.len();
        let body = dims - dims % WIDE;
        for (vector, out) in codes.chunks_exact(dims).zip(out) {
            let (mut even, mut odd) = (_mm512_setzero_si512(), _mm512_setzero_si512());
            let mut steps = vector[..body].chunks_exact(WIDE).zip(query[..body].chunks_exact(WIDE));
            while let Some((c0, q0)) = steps.next() {
                even = _mm512_dpwssd_epi32(even, widen_wide(c0), load_wide(q0));
                if let Some((c1, q1)) = steps.next() {
                    odd = _mm512_dpwssd_epi32(odd, widen_wide(c1), load_wide(q1));
                }
            }
            let sum = _mm512_reduce_add_epi32(_mm512_add_epi32(even, odd));
            *out = sum.wrapping_add(dot(&vector[body..], &query[body..]));
        }
    }

    /// 32 int8 codes as 32 int16 lanes.
    #[target_feature(enable = "avx512f,avx512bw")]
    fn widen_wide(codes: &[i8]) -> __m512i {
        let codes: &[i8; WIDE] = codes.try_into().unwrap_or(&[0; WIDE]);
        // SAFETY: `codes` is 32 bytes, the width of the (unaligned) load.
        _mm512_cvtepi8_epi16(unsafe { _mm256_loadu_si256(codes.as_ptr().cast::<__m256i>()) })
    }

    /// 32 int16 query codes.
    #[target_feature(enable = "avx512f")]
    fn load_wide(query: &[i16]) -> __m512i {
        let query: &[i16; WIDE] = query.try_into().unwrap_or(&[0; WIDE]);
        // SAFETY: `query` is 64 bytes, the width of the (unaligned) load.
        unsafe { _mm512_loadu_si512(query.as_ptr().cast::<__m512i>()) }
    }

    /// [`super::dots`] with AVX2: two accumulators of 8 `i32` lanes, 32 codes a step.
    #[target_feature(enable = "avx2")]
    pub(super) fn dots_avx2(codes: &[i8], query: &[i16], out: &mut [i32]) {
        let dims = query.len();
        let body = dims - dims % NARROW;
        for (vector, out) in codes.chunks_exact(dims).zip(out) {
            let (mut even, mut odd) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            let mut steps = vector[..body].chunks_exact(NARROW).zip(query[..body].chunks_exact(NARROW));
            while let Some((c0, q0)) = steps.next() {
                even = _mm256_add_epi32(even, _mm256_madd_epi16(widen_narrow(c0), load_narrow(q0)));
                if let Some((c1, q1)) = steps.next() {
                    odd = _mm256_add_epi32(odd, _mm256_madd_epi16(widen_narrow(c1), load_narrow(q1)));
                }
            }
            let lanes = _mm256_add_epi32(even, odd);
            let half = _mm_add_epi32(_mm256_castsi256_si128(lanes), _mm256_extracti128_si256::<1>(lanes));
            let quarter = _mm_add_epi32(half, _mm_shuffle_epi32::<0b01_00_11_10>(half));
            let sum = _mm_cvtsi128_si32(_mm_add_epi32(quarter, _mm_shuffle_epi32::<0b10_11_00_01>(quarter)));
            *out = sum.wrapping_add(dot(&vector[body..], &query[body..]));
        }
    }

    /// 16 int8 codes as 16 int16 lanes.
    #[target_feature(enable = "avx2")]
    fn widen_narrow(codes: &[i8]) -> __m256i {
        let codes: &[i8; NARROW] = codes.try_into().unwrap_or(&[0; NARROW]);
        // SAFETY: `codes` is 16 bytes, the width of the (unaligned) load.
        _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(codes.as_ptr().cast::<__m128i>()) })
    }

    /// 16 int16 query codes.
    #[target_feature(enable = "avx2")]
    fn load_narrow(query: &[i16]) -> __m256i {
        let query: &[i16; NARROW] = query.try_into().unwrap_or(&[0; NARROW]);
        // SAFETY: `query` is 32 bytes, the width of the (unaligned) load.
        unsafe { _mm256_loadu_si256(query.as_ptr().cast::<__m256i>()) }
    }

    #[cfg(test)]
    pub(super) fn has_avx512_vnni() -> bool {
        std::arch::is_x86_feature_detected!("avx512bw") && std::arch::is_x86_feature_detected!("avx512vnni")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(codes: &[i8], query: &[i16], count: usize) -> Vec<i32> {
        (0..count).map(|i| dot(&codes[i * query.len()..(i + 1) * query.len()], query)).collect()
    }

    /// Random codes and extremes (every product at its largest magnitude, both signs), for
    /// lengths around each kernel's step and tail.
    fn cases() -> Vec<(Vec<i8>, Vec<i16>, usize)> {
        let mut rng = fastrand::Rng::with_seed(11);
        let mut cases = Vec::new();
        for dims in [1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 384, 385, 1536] {
            let count = 9;
            let widest = (i32::MAX as usize / (dims * 127)).min(i16::MAX as usize) as i16;
            let mut codes: Vec<i8> = (0..count * dims).map(|_| rng.i8(-127..=127)).collect();
            let query: Vec<i16> = (0..dims).map(|_| rng.i16(-widest..=widest)).collect();
            for (j, code) in codes[..dims].iter_mut().enumerate() {
                *code = if query[j] >= 0 { 127 } else { -127 };
            }
            for (j, code) in codes[dims..2 * dims].iter_mut().enumerate() {
                *code = if query[j] >= 0 { -127 } else { 127 };
            }
            cases.push((codes, query, count));
        }
        cases
    }

    #[test]
    fn every_kernel_gives_the_reference_sums() {
        for (codes, query, count) in cases() {
            let expected = reference(&codes, &query, count);
            let mut got = vec![i32::MIN; count + 1];
            dots(&codes, &query, &mut got);
            assert_eq!(&got[..count], &expected[..], "dims {}", query.len());
            assert_eq!(got[count], i32::MIN, "an output past the codes is left alone");
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    let mut narrow = vec![0; count];
                    // SAFETY: the CPU has AVX2.
                    unsafe { x86::dots_avx2(&codes, &query, &mut narrow) };
                    assert_eq!(narrow, expected, "avx2, dims {}", query.len());
                }
                if x86::has_avx512_vnni() {
                    let mut wide = vec![0; count];
                    // SAFETY: the CPU has AVX-512 VNNI.
                    unsafe { x86::dots_avx512(&codes, &query, &mut wide) };
                    assert_eq!(wide, expected, "avx512, dims {}", query.len());
                }
            }
        }
    }

    #[test]
    fn no_dimensions_give_zero() {
        let mut out = [7, 7];
        dots(&[], &[], &mut out);
        assert_eq!(out, [0, 0]);
    }
}
