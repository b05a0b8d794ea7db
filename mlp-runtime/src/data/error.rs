//! The one error type of the data subsystem.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong while reading, checking, downloading or batching data.
///
/// Each variant names what it is about: a file path, a URL, a CSV line and column, or
/// a sample index, so the message alone tells the user where to look.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// A file starts like gzip (1f 8b) but does not decompress.
    #[error("{path}: corrupt gzip data: {source}")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        source: std::io::Error,
    },

    /// The first bytes are not an IDX magic number (00 00 type ndims).
    #[error("{path}: not an IDX file: expected magic bytes 00 00 at offset 0, found {found}")]
    IdxMagic {
        /// The file.
        path: PathBuf,
        /// The bytes found, in hex.
        found: String,
    },

    /// The IDX element type is not unsigned bytes.
    #[error(
        "{path}: IDX element type 0x{code:02x} ({kind}) at offset 2 is not supported; \
         expected 0x08 (unsigned byte)"
    )]
    IdxType {
        /// The file.
        path: PathBuf,
        /// The type code found.
        code: u8,
        /// What the type code means in the IDX format.
        kind: &'static str,
    },

    /// The header is malformed: too short, zero dimensions, or sizes that overflow.
    #[error("{path}: bad IDX header: {reason}")]
    IdxHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the offset and the expected and found values.
        reason: String,
    },

    /// The payload is shorter than the dimensions say.
    #[error(
        "{path}: truncated IDX data: dimensions {dims:?} need {expected} bytes after the \
         {header}-byte header, found {found}"
    )]
    IdxTruncated {
        /// The file.
        path: PathBuf,
        /// The dimensions from the header.
        dims: Vec<usize>,
        /// Header length in bytes.
        header: usize,
        /// Payload bytes the dimensions need.
        expected: usize,
        /// Payload bytes present.
        found: usize,
    },

    /// Bytes follow the payload.
    #[error(
        "{path}: {extra} bytes of trailing data at offset {offset}: dimensions {dims:?} need \
         exactly {expected} data bytes"
    )]
    IdxTrailing {
        /// The file.
        path: PathBuf,
        /// The dimensions from the header.
        dims: Vec<usize>,
        /// Payload bytes the dimensions need.
        expected: usize,
        /// Offset of the first extra byte.
        offset: usize,
        /// Number of extra bytes.
        extra: usize,
    },

    /// An IDX file is, or claims to be, larger than it may be: the size its
    /// [`FileSpec`](super::FileSpec) gives, or else [`MAX_IDX_BYTES`](super::MAX_IDX_BYTES).
    /// Nothing beyond the limit is read into memory.
    #[error(
        "{path}: {reason}, more than the {limit} bytes it may hold (a built-in data set file \
         has a known size; for other files the limit is MAX_IDX_BYTES, raised with \
         read_idx_with_limit)"
    )]
    IdxTooLarge {
        /// The file.
        path: PathBuf,
        /// The most (decompressed) bytes allowed.
        limit: u64,
        /// What exceeded it: the header's claim, the file's size or its content.
        reason: String,
    },

    /// Two files that must describe the same samples disagree (image and label counts,
    /// or an image file that is not a stack of images).
    #[error("{images} and {labels} do not match: {reason}")]
    Mismatch {
        /// The images (features) file.
        images: PathBuf,
        /// The labels (targets) file.
        labels: PathBuf,
        /// What differs, with both values.
        reason: String,
    },

    /// A file's decompressed content has the wrong sha256.
    #[error(
        "{path}: sha256 of the decompressed content is {found}, expected {expected}; \
         the file is corrupt or a different version: delete it or fetch it again"
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Expected hex digest.
        expected: String,
        /// Actual hex digest.
        found: String,
    },

    /// A download failed: connection, HTTP status, cut-off transfer, corrupt content or a
    /// wrong checksum. No file is left behind.
    #[error("download of {url} failed: {reason}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },

    /// A data set is in none of the places searched, and could not be downloaded.
    ///
    /// Programs usually exit with status 2 on this one: the code is fine, the data is
    /// missing.
    #[error("{}", not_found_message(.name, .searched, .download, .hint))]
    NotFound {
        /// The data set's folder name (`fashion-mnist`).
        name: String,
        /// Each folder searched, with what was missing there.
        searched: Vec<(PathBuf, String)>,
        /// Why the download was not tried, or how it failed.
        download: String,
        /// How to get the data.
        hint: String,
    },

    /// A CSV file's header lacks the label column.
    #[error("{path}: no column named {column:?}; the header has: {header:?}")]
    CsvColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The header row.
        header: Vec<String>,
    },

    /// A CSV field does not parse.
    #[error("{path}:{line}: column {column:?}: {reason}: {text:?}")]
    CsvField {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The column's name.
        column: String,
        /// The offending text.
        text: String,
        /// What was expected.
        reason: &'static str,
    },

    /// A CSV file is malformed (unequal row lengths, bad quoting, invalid UTF-8).
    #[error("{path}:{line}: {reason}")]
    CsvFormat {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when unknown).
        line: u64,
        /// What the CSV reader said.
        reason: String,
    },

    /// In-memory data of inconsistent sizes, or an argument out of range.
    #[error("{what}: expected {expected}, found {found}")]
    Shape {
        /// Which data or argument.
        what: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },

    /// A sample index past the end of a dataset.
    #[error("sample index {index} is out of range for a dataset of {len} samples")]
    Index {
        /// The index.
        index: usize,
        /// The dataset's length.
        len: usize,
    },

    /// A feature or target value is NaN or infinite: training on it silently ruins the
    /// weights (ReLU turns NaN into 0, so the loss can stay finite).
    #[error(
        "sample {sample}, {what} column {column}: {value} is not a finite number; drop or \
         impute missing values, and look for overflow in preprocessing (a large scale factor, \
         a zero standard deviation)"
    )]
    NonFinite {
        /// 0-based sample index.
        sample: usize,
        /// 0-based column within the sample's features or targets.
        column: usize,
        /// `"feature"` or `"target"`.
        what: &'static str,
        /// The value found.
        value: f32,
    },

    /// A class id at or above [`MAX_CLASSES`](super::MAX_CLASSES).
    #[error(
        "sample {sample}: class {class} is too large; class ids must be below {max} \
         (MAX_CLASSES): number the classes from 0"
    )]
    ClassTooLarge {
        /// 0-based sample index.
        sample: usize,
        /// The class found.
        class: u32,
        /// The bound, [`MAX_CLASSES`](super::MAX_CLASSES).
        max: u32,
    },

    /// An operation that needs labels on a dataset made by `Dataset::unlabeled`.
    #[error("{what} needs labelled samples, but the dataset has no labels (Dataset::unlabeled); build it with Dataset::classification or Dataset::regression")]
    Unlabeled {
        /// The operation.
        what: &'static str,
    },

    /// A class-only operation on a dataset whose targets are values (regression).
    #[error("{what} needs class targets, but the dataset's targets are values of width {width}")]
    NotClasses {
        /// The operation.
        what: &'static str,
        /// The targets' width.
        width: usize,
    },
}

impl DataError {
    /// Shorthand for [`DataError::Shape`].
    pub(crate) fn shape(
        what: impl Into<String>,
        expected: impl fmt::Display,
        found: impl fmt::Display,
    ) -> Self {
        DataError::Shape { what: what.into(), expected: expected.to_string(), found: found.to_string() }
    }
}

fn not_found_message(name: &str, searched: &[(PathBuf, String)], download: &str, hint: &str) -> String {
    let mut m = format!("data set {name} not found; looked in:");
    for (dir, why) in searched {
        m.push_str(&format!("\n  {} ({why})", dir.display()));
    }
    m.push_str(&format!("\n  download: {download}"));
    m.push_str(&format!("\nhelp: {hint}"));
    m
}
