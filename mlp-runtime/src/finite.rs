//! The one check for NaN and infinity on hot paths (batch fills, gradients).

/// True when no element is NaN or infinite.
///
/// A fold of `|` over the comparisons: an OR is associative, so the compiler vectorizes
/// it (a float sum is a serial chain it may not reorder), as wide as the kernel's path
/// allows (16 lanes on AVX-512: the update's check over model A's gradients took 6% of a
/// batch-32 step at x86-64's baseline 4). No early exit: the common case is all finite,
/// and a branch per element would stop the vectorizing.
pub(crate) fn all_finite(xs: &[f32]) -> bool {
    crate::kernel::vectorized(crate::kernel::isa(), || !xs.iter().fold(false, |bad, x| bad | !x.is_finite()))
}

#[cfg(test)]
mod tests {
    use super::all_finite;

    #[test]
    fn finds_a_nan_or_infinity_anywhere_on_every_path() {
        for isa in crate::kernel::Isa::supported_all() {
            crate::kernel::with_isa(isa, finds_a_nan_or_infinity_anywhere);
        }
    }

    fn finds_a_nan_or_infinity_anywhere() {
        for len in [0, 1, 15, 16, 17, 100] {
            let xs: Vec<f32> = (0..len).map(|i| (i % 8) as f32 * -1.5e37).collect();
            assert!(all_finite(&xs), "len {len}");
            for at in 0..len {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut ys = xs.clone();
                    ys[at] = bad;
                    assert!(!all_finite(&ys), "len {len}, {bad} at {at}");
                }
            }
        }
        // Large finite values whose sum would overflow are still finite.
        assert!(all_finite(&[f32::MAX; 40]));
    }
}
