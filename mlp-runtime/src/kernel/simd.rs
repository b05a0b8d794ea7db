//! The vector operations the tiles are written in, so one tile source serves every
//! instruction set: each path (`portable.rs`, `avx2.rs`, `avx512.rs`) implements [`Simd`]
//! for its register type and instantiates the tiles inside a function compiled for it.

/// A register of `LANES` floats.
///
/// # Safety
/// Every method may use instructions of the implementing path, so it may only be called
/// where that path was detected (inside the path's `#[target_feature]` function). The
/// pointer methods read or write the lanes they name, and those must be valid.
pub(crate) unsafe trait Simd: Copy {
    /// Floats per register.
    const LANES: usize;
    /// Vector registers the path has: the dot form's widest tile needs 32.
    const REGISTERS: usize;
    /// All lanes 0.
    unsafe fn zero() -> Self;
    /// All lanes `x`.
    unsafe fn splat(x: f32) -> Self;
    /// `LANES` floats from `p`.
    unsafe fn load(p: *const f32) -> Self;
    /// The first `n` floats from `p` (`n <= LANES`), the other lanes 0; reads nothing
    /// past `p + n`.
    unsafe fn load_part(p: *const f32, n: usize) -> Self;
    /// Writes all lanes to `p`.
    unsafe fn store(self, p: *mut f32);
    /// Writes the first `n` lanes to `p`, nothing past `p + n`.
    unsafe fn store_part(self, p: *mut f32, n: usize);
    /// `acc + self * b`, fused (one rounding) where the path has FMA.
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self;
    /// `self * b`.
    unsafe fn mul(self, b: Self) -> Self;
    /// The sum of the lanes, in a fixed order.
    unsafe fn sum(self) -> f32;
    /// How many registers [`sum_group`](Simd::sum_group) sums together.
    const GROUP: usize = 1;
    /// The [`sum`](Simd::sum)s of up to [`GROUP`](Simd::GROUP) registers into `out` (as long
    /// as `v`), the same bits each, computed together where the path can.
    #[inline(always)]
    unsafe fn sum_group(v: &[Self], out: &mut [f32]) {
        for (v, out) in v.iter().zip(out) {
            // SAFETY: the caller's contract.
            *out = unsafe { v.sum() };
        }
    }
    /// The sums of a tile's registers, [`GROUP`](Simd::GROUP) at a time: a dot-form tile's
    /// final sums, one per element of its block of `C`.
    #[inline(always)]
    unsafe fn sums<const R: usize, const C: usize>(v: [[Self; C]; R]) -> [[f32; C]; R] {
        let mut out = [[0.0; C]; R];
        for (v, out) in
            v.as_flattened().chunks(Self::GROUP).zip(out.as_flattened_mut().chunks_mut(Self::GROUP))
        {
            // SAFETY: the caller's contract.
            unsafe { Self::sum_group(v, out) };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Simd;
    use crate::kernel::Isa;

    /// Each of `sums`' results has the bits of `sum` on the same register, for every
    /// tile shape: terms of many magnitudes (so any other order of the additions shows).
    fn sums_are_sums<V: Simd>() {
        fn check<V: Simd, const R: usize, const C: usize>(seed: u32) {
            let lanes = |r: usize| -> Vec<f32> {
                (0..V::LANES)
                    .map(|l| {
                        let h = seed.wrapping_mul(2654435761).wrapping_add((r * 64 + l) as u32 * 40503);
                        let h = h.wrapping_mul(2246822519) ^ (h >> 13);
                        ((h >> 8) as f32 / 16777216.0 - 0.5) * 10f32.powi((h % 9) as i32 - 4)
                    })
                    .collect()
            };
            // SAFETY: the caller checked that this CPU has `V`'s instructions.
            unsafe {
                let v: [[V; C]; R] =
                    core::array::from_fn(|r| core::array::from_fn(|c| V::load(lanes(r * C + c).as_ptr())));
                let got = V::sums(v);
                for r in 0..R {
                    for c in 0..C {
                        assert_eq!(
                            got[r][c].to_bits(),
                            v[r][c].sum().to_bits(),
                            "{R} x {C}, register ({r}, {c})"
                        );
                    }
                }
            }
        }
        for seed in 0..200 {
            check::<V, 1, 1>(seed);
            check::<V, 4, 3>(seed);
            check::<V, 3, 2>(seed);
            check::<V, 8, 1>(seed);
            check::<V, 6, 4>(seed);
        }
    }

    #[test]
    fn sums_have_the_bits_of_sum_on_every_path() {
        for isa in Isa::supported_all() {
            match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => sums_are_sums::<super::super::avx512::F32x16>(),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => sums_are_sums::<super::super::avx2::F32x8>(),
                _ => sums_are_sums::<super::super::portable::F32x4>(),
            }
        }
    }
}
