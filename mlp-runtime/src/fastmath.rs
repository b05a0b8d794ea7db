//! `exp`, `expm1` and `tanh` for the activations, written so a loop over a slice compiles
//! to vector instructions: no calls, no branches (both sides computed, then selected).
//! The standard library's versions call libm once per element, which was 65% of the tiny
//! network's step. Accurate to a few units in the last place (tested against `std` below);
//! NaN stays NaN, infinities give the limits.
//!
//! The polynomials are Cephes' (`expf.c`, `tanhf.c`, S. L. Moshier, 1984-2000).

// The coefficients as published, some with a digit more than f32 holds.
#![allow(clippy::excessive_precision)]

const LOG2E: f32 = core::f32::consts::LOG2_E;
/// ln 2 in two parts, so `n * LN2_HI` is exact for the `n` that occur.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// `x + ROUND - ROUND` rounds `x` to the nearest integer for |x| < 2^22 without a call.
const ROUND: f32 = 12_582_912.0;

/// The range [`exp`] computes: below `EXP_LO` it is 0, above `EXP_HI` infinity.
const EXP_HI: f32 = 88.376_26;
const EXP_LO: f32 = -87.336_54;

/// `e^x`. Below -87.34 it is 0 (where `std` still gives subnormals), above 88.37
/// infinity (`std` from 88.72): the range where `2^n` is a normal float.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    // Comparisons with NaN are false, so NaN passes both clamps and both selects.
    let c = if x > EXP_HI { EXP_HI } else { x };
    let c = if c < EXP_LO { EXP_LO } else { c };
    let t = c * LOG2E + ROUND;
    let n = t - ROUND;
    let r = c - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_2e-4;
    let p = p * r + 1.398_2e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5.000_000_1e-1;
    let y = p * r * r + r + 1.0;
    // 2^n from its bits. `n` as an integer is read from `t`'s low bits (`t` is ROUND + n
    // with a unit last place), not converted with `as i32`, whose saturating conversion
    // does not vectorize (the loops ran it one lane at a time). n is in [-126, 127] after
    // the clamps; for NaN the bits are garbage, but `y` is NaN and so is the product.
    let n_int = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let e = y * f32::from_bits((n_int.wrapping_add(127) << 23) as u32);
    if x < EXP_LO {
        0.0
    } else if x > EXP_HI {
        f32::INFINITY
    } else {
        e
    }
}

/// `e^x - 1`, accurate near 0 (a Taylor polynomial below 1/2, where `exp(x) - 1` would
/// cancel).
#[inline(always)]
pub(crate) fn exp_m1(x: f32) -> f32 {
    // Terms up to x^9 / 9!: below 0.5^10 / 10! = 2.7e-10 relative error.
    let t = x * (1.0 / 9.0) + 1.0;
    let t = t * x * (1.0 / 8.0) + 1.0;
    let t = t * x * (1.0 / 7.0) + 1.0;
    let t = t * x * (1.0 / 6.0) + 1.0;
    let t = t * x * (1.0 / 5.0) + 1.0;
    let t = t * x * (1.0 / 4.0) + 1.0;
    let t = t * x * (1.0 / 3.0) + 1.0;
    let t = t * x * (1.0 / 2.0) + 1.0;
    let small = t * x;
    let large = exp(x) - 1.0;
    if x.abs() < 0.5 {
        small
    } else {
        large
    }
}

/// `tanh(x)`: an odd polynomial below 0.625, else `1 - 2 / (e^2|x| + 1)` with the sign
/// of `x`.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let p = -5.704_988_7e-3;
    let p = p * z + 2.063_908_9e-2;
    let p = p * z - 5.373_971_6e-2;
    let p = p * z + 1.333_144_2e-1;
    let p = p * z - 3.333_328_2e-1;
    // x * (1 + ..) rather than x + ..: keeps the sign of -0.
    let small = x * (p * z + 1.0);
    // Past 10, tanh is 1 in f32; clamping keeps exp finite (NaN passes through).
    let a10 = if a > 10.0 { 10.0 } else { a };
    let large = (1.0 - 2.0 / (exp(2.0 * a10) + 1.0)).copysign(x);
    if a < 0.625 {
        small
    } else {
        large
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between two finite floats of the same sign.
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    fn grid() -> impl Iterator<Item = f32> {
        (-200_000..=200_000)
            .map(|i| i as f32 * 1e-4)
            .chain([1e-30, -1e-30, 1e-8, -3e-6, 20.0, -20.0, 85.0, -85.0])
    }

    #[test]
    fn exp_is_within_two_ulps() {
        for x in grid() {
            assert!(ulps(exp(x), x.exp()) <= 2, "exp({x}) = {} vs {}", exp(x), x.exp());
        }
    }

    #[test]
    fn exp_takes_the_exponent_from_bits_as_a_conversion_would() {
        // The same scaling as `n as i32` would give, on a spread of every magnitude and
        // sign (about a million floats) and both ends of the clamped range.
        let by_conversion = |x: f32| {
            let c = x.clamp(EXP_LO, EXP_HI);
            let n = (c * LOG2E + ROUND) - ROUND;
            n as i32
        };
        for bits in (0..=u32::MAX).step_by(4099).chain([0x42b0_c0a5, 0xc2ae_ac50]) {
            let x = f32::from_bits(bits);
            if x.is_nan() {
                continue;
            }
            let c = x.clamp(EXP_LO, EXP_HI);
            let t = c * LOG2E + ROUND;
            let n_int = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
            assert_eq!(n_int, by_conversion(x), "x = {x}");
        }
    }

    #[test]
    fn exp_m1_is_within_three_ulps() {
        for x in grid() {
            let (got, want) = (exp_m1(x), x.exp_m1());
            assert!(ulps(got, want) <= 3 || (got - want).abs() < 1e-37, "exp_m1({x}) = {got} vs {want}");
        }
    }

    #[test]
    fn tanh_is_within_three_ulps() {
        for x in grid() {
            let (got, want) = (tanh(x), x.tanh());
            assert!(ulps(got, want) <= 3, "tanh({x}) = {got} vs {want}");
        }
    }

    #[test]
    fn nan_stays_nan_and_infinities_give_the_limits() {
        for f in [exp, exp_m1, tanh] {
            assert!(f(f32::NAN).is_nan());
        }
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert_eq!(exp_m1(f32::NEG_INFINITY), -1.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(-1e4), 0.0);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
    }
}
