//! The one check for NaN and infinity on hot paths (batch fills, gradients).

/// True when no element is NaN or infinite.
///
/// `x * 0` is ±0 for every finite `x` and NaN otherwise, so a sum of them is 0 exactly
/// when all are finite. The sum runs in 16 lanes: a single float accumulator is a serial
/// chain the compiler may not reorder, while independent lanes vectorize, so the check
/// costs a fraction of the copy or update it sits beside.
pub(crate) fn all_finite(xs: &[f32]) -> bool {
    let mut lanes = [0.0f32; 16];
    let chunks = xs.chunks_exact(16);
    let rest = chunks.remainder();
    for c in chunks {
        lanes.iter_mut().zip(c).for_each(|(l, x)| *l += x * 0.0);
    }
    lanes.iter().all(|l| *l == 0.0) && rest.iter().all(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::all_finite;

    #[test]
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
