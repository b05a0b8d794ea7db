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
}
