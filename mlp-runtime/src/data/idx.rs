//! The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.
//!
//! An IDX file is a 4-byte magic number (`00 00`, an element type code, the number of
//! dimensions), one big-endian `u32` per dimension, then the elements in row-major
//! order. Only unsigned bytes (type `0x08`) are supported: that is what both data sets
//! use.

use std::fs::{File, Metadata};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::DataError;

/// The first two bytes of every gzip stream.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The largest IDX file read without an explicit limit: 1 GiB of decompressed content,
/// header included.
///
/// A gzip file inflates up to a thousandfold (a 1 MB file to 1 GB), so neither the
/// compressed size nor the header's claim bounds the memory a file takes; this does.
/// The largest IDX data set in common use, EMNIST ByClass, has 547 MB of training
/// images, well inside it. [`read_idx_with_limit`] reads one file with another limit;
/// the built-in data sets use each file's exact size ([`FileSpec::size`](super::FileSpec::size)).
pub const MAX_IDX_BYTES: u64 = 1 << 30;

/// The first allocation for an IDX payload read from a stream; it then doubles as
/// bytes arrive, so a small file cannot reserve what its header merely claims.
const FIRST_CHUNK: usize = 1 << 20;

/// The most bytes a gzip file of at most `limit` bytes of content can have: deflate
/// adds 5 bytes per 64 KiB stored block to incompressible data, gzip 18 per member.
pub(crate) fn max_compressed(limit: u64) -> u64 {
    limit.saturating_add(limit / 1000).saturating_add(1 << 10)
}

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
/// bytes, not by its name), up to [`MAX_IDX_BYTES`] of content.
pub fn read_idx(path: impl AsRef<Path>) -> Result<Idx, DataError> {
    read_idx_with_limit(path, MAX_IDX_BYTES)
}

/// Like [`read_idx`], allowing at most `max_bytes` of (decompressed) content, header
/// included: [`DataError::IdxTooLarge`] beyond it. The file is inflated as a stream and
/// memory is only reserved as the data arrives, so a gzip bomb costs no more memory
/// than `max_bytes`.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("labels.idx");
/// std::fs::write(&path, [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]).unwrap();
/// assert_eq!(mlp_runtime::data::read_idx_with_limit(&path, 11).unwrap().data, [7, 8, 9]);
/// assert!(mlp_runtime::data::read_idx_with_limit(&path, 10).is_err());
/// ```
pub fn read_idx_with_limit(path: impl AsRef<Path>, max_bytes: u64) -> Result<Idx, DataError> {
    let path = path.as_ref();
    let mut content = Content::open(path, max_bytes)?;
    let (raw_len, gz) = (content.raw_len, content.gz);
    read_idx_from(&mut content.reader, path, max_bytes, raw_len, gz)
}

/// Reads a file and, if it starts with the gzip magic bytes, decompresses it; an error
/// beyond [`MAX_IDX_BYTES`] of content.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let mut content = Content::open(path, MAX_IDX_BYTES)?;
    let mut out = Vec::new();
    let gz = content.gz;
    read_bounded(&mut content.reader, &mut out, path, MAX_IDX_BYTES, gz)?;
    Ok(out)
}

/// Decompresses `bytes` if they start with the gzip magic bytes; returns them as they
/// are otherwise. An error beyond [`MAX_IDX_BYTES`] of decompressed content. `path` is
/// only used in the error.
pub fn gunzip_if_gz(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>, DataError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    // Multi-member: `gzip -c a b > c.gz` style files are valid gzip too.
    read_bounded(MultiGzDecoder::new(bytes.as_slice()), &mut out, path, MAX_IDX_BYTES, true)?;
    Ok(out)
}

/// Reads all of `r` into `out`, but never more than `limit` bytes.
fn read_bounded(r: impl Read, out: &mut Vec<u8>, path: &Path, limit: u64, gz: bool) -> Result<(), DataError> {
    let n = r.take(limit.saturating_add(1)).read_to_end(out).map_err(|e| read_error(path, gz, e))?;
    if n as u64 > limit {
        return Err(DataError::IdxTooLarge {
            path: path.to_owned(),
            limit,
            reason: format!("its content has {} bytes or more", limit.saturating_add(1)),
        });
    }
    Ok(())
}

/// Parses the bytes of an (already decompressed) IDX file. `name` is the path or name
/// the errors mention.
pub fn parse_idx(bytes: &[u8], name: impl AsRef<Path>) -> Result<Idx, DataError> {
    read_idx_from(bytes, name.as_ref(), u64::MAX, Some(bytes.len() as u64), false)
}

/// A file's content as a stream: inflated if the file is gzip.
pub(crate) struct Content {
    /// The (decompressed) bytes.
    pub(crate) reader: Box<dyn Read>,
    /// The file's length when it is not compressed.
    pub(crate) raw_len: Option<u64>,
    /// Whether the file is gzip.
    pub(crate) gz: bool,
}

impl Content {
    /// Opens `path`; a file longer than `limit` (or, compressed, than any gzip of
    /// `limit` bytes can be) is refused by its size, before anything is read.
    pub(crate) fn open(path: &Path, limit: u64) -> Result<Content, DataError> {
        let io_err = |source| DataError::Io { path: path.to_owned(), source };
        let meta = check_regular(path)?;
        let mut file = BufReader::new(File::open(path).map_err(io_err)?);
        if file.fill_buf().map_err(io_err)?.starts_with(&GZIP_MAGIC) {
            // Empty gzip members inflate to nothing: without this, a huge file of them
            // would keep a reader busy for as long as it lasts.
            if meta.len() > max_compressed(limit) {
                return Err(DataError::IdxTooLarge {
                    path: path.to_owned(),
                    limit,
                    reason: format!("the compressed file has {} bytes", meta.len()),
                });
            }
            return Ok(Content { reader: Box::new(MultiGzDecoder::new(file)), raw_len: None, gz: true });
        }
        if meta.len() > limit {
            return Err(DataError::IdxTooLarge {
                path: path.to_owned(),
                limit,
                reason: format!("the file has {} bytes", meta.len()),
            });
        }
        Ok(Content { reader: Box::new(file), raw_len: Some(meta.len()), gz: false })
    }
}

/// The metadata of `path` if it is a regular file (after following symlinks); an error
/// saying what it is otherwise: reading a FIFO or a device can block or never end.
pub(crate) fn check_regular(path: &Path) -> Result<Metadata, DataError> {
    let meta = std::fs::metadata(path).map_err(|source| DataError::Io { path: path.to_owned(), source })?;
    if meta.is_file() {
        return Ok(meta);
    }
    let what = if meta.is_dir() { "a directory" } else { "a FIFO, socket or device" };
    Err(DataError::Io {
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidInput, format!("not a regular file: {what}")),
    })
}

/// A reader that hashes what passes through it.
pub(crate) struct HashRead<'a, R> {
    /// The source.
    pub(crate) inner: R,
    /// Fed every byte read.
    pub(crate) hasher: &'a mut Sha256,
}

impl<R: Read> Read for HashRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

/// A read error as a [`DataError`]: from a gzip stream it is most likely corruption.
fn read_error(path: &Path, gz: bool, source: io::Error) -> DataError {
    if gz {
        DataError::Gzip { path: path.to_owned(), source }
    } else {
        DataError::Io { path: path.to_owned(), source }
    }
}

/// Fills `buf` from `r` until it is full or the stream ends; returns the bytes read.
pub(crate) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(buf.get_mut(n..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads an IDX file from a stream of its (decompressed) content, holding at most
/// `limit` bytes. Every size the header claims is checked against `limit` (and against
/// `raw_len`, the content's length when known) before memory is reserved for it, and
/// the payload buffer grows only as bytes actually arrive.
pub(crate) fn read_idx_from(
    mut r: impl Read,
    path: &Path,
    limit: u64,
    raw_len: Option<u64>,
    gz: bool,
) -> Result<Idx, DataError> {
    let read_err = |e| read_error(path, gz, e);
    let header_err = |reason: String| DataError::IdxHeader { path: path.to_owned(), reason };

    let mut magic = [0u8; 4];
    let n = read_full(&mut r, &mut magic).map_err(read_err)?;
    let [z0, z1, code, ndims] = magic;
    if n < 4 {
        return Err(header_err(format!(
            "expected a 4-byte magic number at offset 0, found {n} bytes in the whole file"
        )));
    }
    if [z0, z1] != [0, 0] {
        let found = magic.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
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
    // At most 255 dimensions: 1020 bytes.
    let mut dim_bytes = vec![0u8; header - 4];
    let n = read_full(&mut r, &mut dim_bytes).map_err(read_err)?;
    if n < dim_bytes.len() {
        return Err(header_err(format!(
            "{ndims} dimensions need a {header}-byte header, found {} bytes",
            4 + n
        )));
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| c.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)))
        .collect();
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(|| {
        header_err(format!("dimensions {dims:?} describe more elements than fit in memory"))
    })?;
    let total = (expected as u64).saturating_add(header as u64);
    if total > limit {
        return Err(DataError::IdxTooLarge {
            path: path.to_owned(),
            limit,
            reason: format!("its header (dimensions {dims:?}) claims {total} bytes"),
        });
    }
    if let Some(len) = raw_len {
        let found = usize::try_from(len).unwrap_or(usize::MAX).saturating_sub(header);
        if found < expected {
            return Err(DataError::IdxTruncated { path: path.to_owned(), dims, header, expected, found });
        }
        if found > expected {
            let (offset, extra) = (header + expected, found - expected);
            return Err(DataError::IdxTrailing { path: path.to_owned(), dims, expected, offset, extra });
        }
    }

    let mut data = Vec::new();
    while data.len() < expected {
        // A known length was checked above; a stream only gets what it has shown so far.
        let step = if raw_len.is_some() { expected } else { data.len().max(FIRST_CHUNK) };
        let want = (expected - data.len()).min(step);
        data.try_reserve_exact(want).map_err(|_| {
            header_err(format!("cannot allocate memory for the {expected} bytes of dimensions {dims:?}"))
        })?;
        let got = r.by_ref().take(want as u64).read_to_end(&mut data).map_err(read_err)?;
        if got < want {
            let found = data.len();
            return Err(DataError::IdxTruncated { path: path.to_owned(), dims, header, expected, found });
        }
    }

    // Whatever follows is an error; count it, but never past the limit.
    let room = limit - total;
    let extra = io::copy(&mut r.by_ref().take(room.saturating_add(1)), &mut io::sink()).map_err(read_err)?;
    if extra > room {
        return Err(DataError::IdxTooLarge {
            path: path.to_owned(),
            limit,
            reason: format!(
                "its content goes on past the {total} bytes its header claims, to {} bytes or more",
                limit.saturating_add(1)
            ),
        });
    }
    if extra > 0 {
        let extra = usize::try_from(extra).unwrap_or(usize::MAX);
        return Err(DataError::IdxTrailing {
            path: path.to_owned(),
            dims,
            expected,
            offset: header + expected,
            extra,
        });
    }
    Ok(Idx { dims, data, path: path.to_owned() })
}

/// Lowercase hex sha256 of what `hasher` has seen.
pub(crate) fn hex_digest(hasher: Sha256) -> String {
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
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

    /// A gzip stream of `header` followed by `zeros` zero bytes, compressed on the fly
    /// (a 1 GB bomb is about 1 MB).
    fn bomb(header: &[u8], zeros: usize) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(header).unwrap();
        let block = vec![0u8; 1 << 20];
        let mut left = zeros;
        while left > 0 {
            let n = left.min(block.len());
            e.write_all(&block[..n]).unwrap();
            left -= n;
        }
        e.finish().unwrap()
    }

    #[test]
    fn a_gzip_bomb_is_an_error_without_inflating_it_into_memory() {
        let dir = tempfile::tempdir().unwrap();
        // The header claims 28 bytes (16 of data); 16 MiB of zeros follow it.
        let path = dir.path().join("bomb.gz");
        std::fs::write(&path, bomb(&idx_bytes(&[4, 4], &[]), 16 << 20)).unwrap();
        let err = read_idx_with_limit(&path, 1 << 20).unwrap_err();
        assert!(matches!(err, DataError::IdxTooLarge { limit: 1048576, .. }), "{err:?}");
        assert!(err.to_string().contains("bomb.gz"), "{err}");
        // Within the limit the extra bytes are counted exactly, as for a raw file.
        let err = read_idx_with_limit(&path, 32 << 20).unwrap_err();
        assert!(matches!(err, DataError::IdxTrailing { extra: 16777200, offset: 28, .. }), "{err:?}");
        // The slice-based helpers stop at the cap too (here: the content is under it).
        assert_eq!(read_maybe_gz(&path).unwrap().len(), 12 + (16 << 20));
    }

    #[test]
    fn a_header_claiming_more_than_the_limit_is_refused_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        // 4 GiB claimed by a 40-byte file: refused from the header alone.
        let path = dir.path().join("claims.gz");
        std::fs::write(&path, gz(&idx_bytes(&[1 << 16, 1 << 16], &[1, 2, 3]))).unwrap();
        let err = read_idx(&path).unwrap_err();
        assert!(matches!(err, DataError::IdxTooLarge { limit: MAX_IDX_BYTES, .. }), "{err:?}");
        assert!(err.to_string().contains("claims 4294967308 bytes"), "{err}");
        // Under the limit but not there: truncated, with what was found.
        let err = read_idx_with_limit(&path, 1 << 33).unwrap_err();
        assert!(matches!(err, DataError::IdxTruncated { found: 3, .. }), "{err:?}");
    }

    #[test]
    fn a_raw_file_is_refused_by_its_size_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.idx");
        // Sparse: 2 GiB of size, no data on disk.
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(2 << 30).unwrap();
        let err = read_idx(&path).unwrap_err();
        assert!(matches!(err, DataError::IdxTooLarge { .. }), "{err:?}");
        assert!(err.to_string().contains("the file has 2147483648 bytes"), "{err}");
        // The same for a gzip file larger than any compression of the limit.
        let gz_path = dir.path().join("big.gz");
        let mut f = std::fs::File::create(&gz_path).unwrap();
        f.write_all(&gz(&idx_bytes(&[1], &[1]))).unwrap();
        f.set_len(2 << 30).unwrap();
        let err = read_idx(&gz_path).unwrap_err();
        assert!(err.to_string().contains("the compressed file has 2147483648 bytes"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_or_fifo_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_idx(dir.path()).unwrap_err();
        assert!(err.to_string().contains("not a regular file: a directory"), "{err}");
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if status.is_ok_and(|s| s.success()) {
            // Would block forever in open() or read() if it were tried.
            let err = read_idx(&fifo).unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
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
            // The streaming reader (unknown length, as from gzip) and the slice parser agree.
            let streamed = if bytes.starts_with(&GZIP_MAGIC) {
                read_idx_from(MultiGzDecoder::new(bytes.as_slice()), Path::new("fuzz"), 1 << 20, None, true)
            } else {
                read_idx_from(bytes.as_slice(), Path::new("fuzz"), 1 << 20, None, false)
            };
            // Any limit, even below the header: an error or a file that fits, never a panic.
            let limit = rng.random_range(0..48);
            let known = rng.random_bool(0.5).then_some(bytes.len() as u64);
            if let Ok(idx) = read_idx_from(bytes.as_slice(), Path::new("fuzz"), limit, known, false) {
                assert!((4 + 4 * idx.dims.len() + idx.data.len()) as u64 <= limit);
            }
            if let Ok(raw) = gunzip_if_gz(bytes, Path::new("fuzz")) {
                let parsed = parse_idx(&raw, "fuzz").ok();
                assert_eq!(parsed, streamed.ok(), "both parsers agree");
                if let Some(idx) = parsed {
                    assert_eq!(idx.data.len(), idx.dims.iter().product::<usize>());
                    assert_eq!(raw.len(), 4 + 4 * idx.dims.len() + idx.data.len());
                }
            } else {
                assert!(streamed.is_err());
            }
        }
    }
}
