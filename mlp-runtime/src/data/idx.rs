//! The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.
//!
//! An IDX file is a 4-byte magic number (`00 00`, an element type code, the number of
//! dimensions), one big-endian `u32` per dimension, then the elements in row-major
//! order. Only unsigned bytes (type `0x08`) are supported: that is what both data sets
//! use.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::DataError;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The contents of an IDX file of unsigned bytes.
///
/// ```
/// use mlp_runtime::data::parse_idx;
/// // Two samples of three bytes: magic 00 00 08 02, dims 2 and 3, then the data.
/// let bytes = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6];
/// let idx = parse_idx(&bytes, "example.idx").unwrap();
/// assert_eq!(idx.dims, [2, 3]);
/// assert_eq!(idx.data, [1, 2, 3, 4, 5, 6]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    /// The dimensions, outermost first: `[count, rows, cols]` for images, `[count]` for
    /// labels.
    pub dims: Vec<usize>,
    /// The elements, row-major; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
    /// The file it came from, for error messages.
    pub path: PathBuf,
}

impl Idx {
    /// The number of items along the first dimension (samples).
    pub fn count(&self) -> usize {
        self.dims.first().copied().unwrap_or(0)
    }

    /// Elements per item: the product of all dimensions but the first (784 for 28x28
    /// images, 1 for labels).
    pub fn item_len(&self) -> usize {
        self.dims.iter().skip(1).product()
    }
}

/// Reads an IDX file, decompressing it first if it is gzip (detected by its first two
/// bytes, not by its name).
pub fn read_idx(path: impl AsRef<Path>) -> Result<Idx, DataError> {
    let path = path.as_ref();
    parse_idx_owned(read_maybe_gz(path)?, path)
}

/// Reads a file and, if it starts with the gzip magic bytes, decompresses it.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_owned(), source })?;
    gunzip_if_gz(bytes, path)
}

/// Decompresses `bytes` if they start with the gzip magic bytes; returns them as they
/// are otherwise. `path` is only used in the error.
pub fn gunzip_if_gz(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>, DataError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    // The gzip trailer stores the uncompressed size mod 2^32; use it only as a capacity
    // hint, capped, since a corrupt file could claim anything.
    let hint = bytes
        .get(bytes.len().saturating_sub(4)..)
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize)
        .min(256 << 20);
    let mut out = Vec::with_capacity(hint);
    // Multi-member: `gzip -c a b > c.gz` style files are valid gzip too.
    MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|source| DataError::Gzip { path: path.to_owned(), source })?;
    Ok(out)
}

/// Parses the bytes of an (already decompressed) IDX file. `name` is the path or name
/// the errors mention.
pub fn parse_idx(bytes: &[u8], name: impl AsRef<Path>) -> Result<Idx, DataError> {
    let path = name.as_ref();
    let (dims, header) = check_idx(bytes, path)?;
    let data = bytes.get(header..).unwrap_or_default().to_vec();
    Ok(Idx { dims, data, path: path.to_owned() })
}

/// Like [`parse_idx`], reusing the buffer instead of copying the payload (the
/// training images are 47 MB).
pub(crate) fn parse_idx_owned(mut bytes: Vec<u8>, path: &Path) -> Result<Idx, DataError> {
    let (dims, header) = check_idx(&bytes, path)?;
    bytes.drain(..header.min(bytes.len()));
    Ok(Idx { dims, data: bytes, path: path.to_owned() })
}

/// Checks the header and the payload length; returns the dimensions and the header
/// length.
fn check_idx(bytes: &[u8], path: &Path) -> Result<(Vec<usize>, usize), DataError> {
    let header_err = |reason: String| DataError::IdxHeader { path: path.to_owned(), reason };

    let Some(&[z0, z1, code, ndims]) = bytes.first_chunk::<4>() else {
        return Err(header_err(format!(
            "expected a 4-byte magic number at offset 0, found {} bytes in the whole file",
            bytes.len()
        )));
    };
    if [z0, z1] != [0, 0] {
        let found = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
        return Err(DataError::IdxMagic { path: path.to_owned(), found });
    }
    if code != 0x08 {
        let kind = match code {
            0x09 => "signed byte",
            0x0b => "16-bit integer",
            0x0c => "32-bit integer",
            0x0d => "32-bit float",
            0x0e => "64-bit float",
            _ => "not an IDX type code",
        };
        return Err(DataError::IdxType { path: path.to_owned(), code, kind });
    }
    if ndims == 0 {
        return Err(header_err("expected at least 1 dimension at offset 3, found 0".into()));
    }

    let header = 4 + 4 * usize::from(ndims);
    let Some(dim_bytes) = bytes.get(4..header) else {
        return Err(header_err(format!(
            "{ndims} dimensions need a {header}-byte header, found {} bytes",
            bytes.len()
        )));
    };
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| c.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)))
        .collect();
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(|| {
        header_err(format!("dimensions {dims:?} describe more elements than fit in memory"))
    })?;

    let found = bytes.len() - header;
    if found < expected {
        return Err(DataError::IdxTruncated { path: path.to_owned(), dims, header, expected, found });
    }
    if found > expected {
        return Err(DataError::IdxTrailing {
            path: path.to_owned(),
            dims,
            expected,
            offset: header + expected,
            extra: found - expected,
        });
    }
    Ok((dims, header))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use rand::{Rng as _, SeedableRng};
    use std::io::Write;

    fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend_from_slice(data);
        b
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn parses_images_and_labels() {
        let data: Vec<u8> = (0..2 * 3 * 4).collect();
        let idx = parse_idx(&idx_bytes(&[2, 3, 4], &data), "x").unwrap();
        assert_eq!(idx.dims, [2, 3, 4]);
        assert_eq!(idx.count(), 2);
        assert_eq!(idx.item_len(), 12);
        assert_eq!(idx.data, data);

        let labels = parse_idx(&idx_bytes(&[3], &[7, 8, 9]), "y").unwrap();
        assert_eq!((labels.count(), labels.item_len(), labels.data), (3, 1, vec![7, 8, 9]));
    }

    #[test]
    fn reads_gzip_by_magic_not_name() {
        let dir = tempfile::tempdir().unwrap();
        let raw = idx_bytes(&[2, 2], &[1, 2, 3, 4]);
        // A gzip file without .gz and a raw file with .gz: content decides.
        let a = dir.path().join("plain-name");
        let b = dir.path().join("raw.gz");
        std::fs::write(&a, gz(&raw)).unwrap();
        std::fs::write(&b, &raw).unwrap();
        assert_eq!(read_idx(&a).unwrap().data, [1, 2, 3, 4]);
        assert_eq!(read_idx(&b).unwrap().data, [1, 2, 3, 4]);
    }

    #[test]
    fn truncated_payload_reports_expected_and_found() {
        let bytes = idx_bytes(&[2, 3], &[1, 2, 3, 4]);
        let err = parse_idx(&bytes, "data/t.idx").unwrap_err();
        assert!(matches!(err, DataError::IdxTruncated { expected: 6, found: 4, header: 12, .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("data/t.idx") && msg.contains("need 6 bytes") && msg.contains("found 4"),
            "{msg}"
        );
    }

    #[test]
    fn trailing_garbage_is_an_error() {
        let bytes = idx_bytes(&[2], &[1, 2, 3]);
        let err = parse_idx(&bytes, "l.idx").unwrap_err();
        assert!(matches!(err, DataError::IdxTrailing { offset: 10, extra: 1, expected: 2, .. }), "{err:?}");
    }

    #[test]
    fn rejects_bad_magic_and_types() {
        let err = parse_idx(&[1, 2, 8, 1, 0, 0, 0, 0], "m").unwrap_err();
        assert!(err.to_string().contains("found 01 02 08 01"), "{err}");
        let mut f32_file = idx_bytes(&[1], &[0, 0, 0, 0]);
        f32_file[2] = 0x0d;
        let err = parse_idx(&f32_file, "f").unwrap_err();
        assert!(matches!(err, DataError::IdxType { code: 0x0d, kind: "32-bit float", .. }), "{err:?}");
        assert!(matches!(parse_idx(&[0, 0, 8, 0], "z"), Err(DataError::IdxHeader { .. })));
        assert!(matches!(parse_idx(&[0, 0, 8], "s"), Err(DataError::IdxHeader { .. })));
        let err = parse_idx(&[0, 0, 8, 3, 0, 0, 0, 1], "h").unwrap_err();
        assert!(err.to_string().contains("16-byte header, found 8 bytes"), "{err}");
    }

    #[test]
    fn overflowing_dims_are_an_error() {
        let bytes = idx_bytes(&[u32::MAX, u32::MAX, u32::MAX], &[]);
        assert!(matches!(parse_idx(&bytes, "o"), Err(DataError::IdxHeader { .. })));
    }

    #[test]
    fn corrupt_gzip_is_an_error_naming_the_file() {
        let mut z = gz(&idx_bytes(&[4], &[1, 2, 3, 4]));
        let n = z.len();
        z.truncate(n - 6);
        let err = gunzip_if_gz(z, Path::new("cut.gz")).unwrap_err();
        assert!(matches!(err, DataError::Gzip { .. }) && err.to_string().contains("cut.gz"), "{err}");
    }

    /// Whatever the bytes, parsing returns (never panics), and anything it accepts is
    /// consistent with its header.
    #[test]
    fn never_panics_on_random_corrupt_or_truncated_input() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let good = idx_bytes(&[3, 2, 2], &(0..12).collect::<Vec<u8>>());
        let good_gz = gz(&good);
        for round in 0..4000 {
            let mut bytes = match round % 4 {
                0 => good.clone(),
                1 => good_gz.clone(),
                2 => idx_bytes(&[rng.random_range(0..5), rng.random_range(0..5)], &[]),
                _ => (0..rng.random_range(0..40)).map(|_| rng.random()).collect(),
            };
            // Cut, flip and append at random.
            if !bytes.is_empty() && rng.random_bool(0.5) {
                let cut = rng.random_range(0..bytes.len());
                bytes.truncate(cut);
            }
            for _ in 0..rng.random_range(0..3) {
                if let Some(b) = bytes.get_mut(rng.random_range(0..40)) {
                    *b ^= 1 << rng.random_range(0..8);
                }
            }
            if rng.random_bool(0.2) {
                bytes.push(rng.random());
            }
            if let Ok(raw) = gunzip_if_gz(bytes, Path::new("fuzz")) {
                let owned = parse_idx_owned(raw.clone(), Path::new("fuzz")).ok();
                assert_eq!(owned, parse_idx(&raw, "fuzz").ok(), "both parsers agree");
                if let Some(idx) = owned {
                    assert_eq!(idx.data.len(), idx.dims.iter().product::<usize>());
                    assert_eq!(raw.len(), 4 + 4 * idx.dims.len() + idx.data.len());
                }
            }
        }
    }
}
