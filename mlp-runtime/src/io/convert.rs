//! Reading a safetensors tensor's little-endian bytes as f32.

use alloc::vec::Vec;

use safetensors::Dtype;

/// Why a tensor's bytes could not become f32 values.
pub(crate) enum ConvertError {
    /// Not a float dtype.
    Dtype(Dtype),
    /// An F64 value beyond f32's range, at this index.
    OutOfRange(usize, f64),
}

/// The values of a tensor of `dtype` stored in `data` (safetensors is little-endian and
/// row-major). F32 is read as is; F16 and BF16 are widened exactly; F64 is rounded to the
/// nearest f32, and a finite value that would become infinite is an error. `data`'s length
/// has been checked against the shape by the safetensors parser; a ragged tail is ignored.
pub(crate) fn to_f32(dtype: Dtype, data: &[u8]) -> Result<Vec<f32>, ConvertError> {
    match dtype {
        Dtype::F32 => {
            Ok(data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
        }
        Dtype::BF16 => Ok(data
            .chunks_exact(2)
            .map(|c| f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16))
            .collect()),
        Dtype::F16 => {
            Ok(data.chunks_exact(2).map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]]))).collect())
        }
        Dtype::F64 => data
            .chunks_exact(8)
            .enumerate()
            .map(|(i, c)| {
                let v = f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                let x = v as f32;
                if v.is_finite() && !x.is_finite() {
                    Err(ConvertError::OutOfRange(i, v))
                } else {
                    Ok(x)
                }
            })
            .collect(),
        other => Err(ConvertError::Dtype(other)),
    }
}

/// IEEE 754 binary16 to f32 (exact: every f16 is an f32).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = (h >> 10) & 0x1f;
    let man = u32::from(h & 0x3ff);
    match exp {
        // Zero and subnormals: man * 2^-24, exact in f32.
        0 => sign * man as f32 * f32::from_bits(0x3380_0000),
        // Infinity and NaN (the payload kept).
        31 => f32::from_bits(u32::from(h & 0x8000) << 16 | 0x7f80_0000 | man << 13),
        _ => f32::from_bits(u32::from(h & 0x8000) << 16 | (u32::from(exp) + 112) << 23 | man << 13),
    }
}

/// f32 values as little-endian bytes (for saving, a std feature).
#[cfg(any(feature = "std", test))]
pub(crate) fn to_le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_values_widen_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn bf16_f64_and_f32_read_little_endian() {
        let bf: Vec<u8> = [0x3f80u16, 0xc040].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert!(matches!(to_f32(Dtype::BF16, &bf), Ok(v) if v == [1.0, -3.0]));
        let f: Vec<u8> = [0.1f64, -2.5].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert!(matches!(to_f32(Dtype::F64, &f), Ok(v) if v == [0.1f32, -2.5]));
        assert!(matches!(to_f32(Dtype::F32, &to_le_bytes(&[1.5, -0.25])), Ok(v) if v == [1.5, -0.25]));
        let big: Vec<u8> = [1.0f64, 1e300].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert!(matches!(to_f32(Dtype::F64, &big), Err(ConvertError::OutOfRange(1, v)) if v == 1e300));
        let inf = f64::INFINITY.to_le_bytes();
        assert!(matches!(to_f32(Dtype::F64, &inf), Ok(v) if v == [f32::INFINITY]));
        assert!(matches!(to_f32(Dtype::I64, &[0; 8]), Err(ConvertError::Dtype(Dtype::I64))));
    }
}
