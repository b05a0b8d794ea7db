//! The error of weight files and checkpoints (std): [`LoadError`]'s messages with the file's
//! path, and what only files have (I/O, checkpoints, encoding) or only `set_tensor` has.

use std::path::{Path, PathBuf};

use super::load_error::{message, LoadError, BYTES};

/// Everything that can go wrong while saving, loading or addressing a network's tensors.
///
/// Every message names the file (or `<bytes>` for an in-memory buffer) and, where one is
/// at fault, the tensor:
///
/// ```text
/// tensor `dense_0.weight` in model.safetensors has shape [100, 784]; the network expects [300, 784]
/// ```
///
/// The loading variants are [`LoadError`]'s (what loading from bytes returns, with or
/// without std) with the file's path: [`LoadError::at`] makes one from the other.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WeightError {
    /// The file could not be read, written, synced or renamed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The bytes are not a safetensors file: truncated, a bad header, offsets that do not add up.
    #[error("{}", message::corrupt(&path.display(), reason))]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser found wrong.
        reason: String,
    },

    /// Tensors the network needs are not in the file. All of them are listed, and so are the
    /// file's tensors the network does not have (often the same tensors under other names).
    #[error("{}", message::missing(&path.display(), names, unexpected))]
    Missing {
        /// The file.
        path: PathBuf,
        /// The network's tensors the file lacks, in the network's order.
        names: Vec<String>,
        /// The file's tensors (after prefix, renames and skips) the network does not have.
        unexpected: Vec<String>,
    },

    /// The file holds tensors the network does not have (and nothing is missing).
    /// [`LoadOptions::allow_extra`](crate::io::LoadOptions::allow_extra) ignores them instead.
    #[error("{}", message::unexpected(&path.display(), names, suggestions))]
    Unexpected {
        /// The file.
        path: PathBuf,
        /// The file's tensors (after prefix, renames and skips) the network does not have.
        names: Vec<String>,
        /// For each, the network's tensor with the closest name, if one is close.
        suggestions: Vec<Option<String>>,
    },

    /// A tensor's shape differs from the network's.
    #[error("{}", message::shape(&path.display(), name, expected, found))]
    Shape {
        /// The file.
        path: PathBuf,
        /// The tensor, as the network names it.
        name: String,
        /// The network's shape (PyTorch's layout).
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },

    /// A tensor's dtype is not a float type. F32 is read as is; F64 is rounded to f32,
    /// F16 and BF16 are widened (exactly).
    #[error("{}", message::dtype(&path.display(), name, found))]
    Dtype {
        /// The file.
        path: PathBuf,
        /// The tensor, as the file names it.
        name: String,
        /// The dtype found (safetensors' name: `I64`, `U8`, ...).
        found: String,
    },

    /// An F64 value does not fit in an f32.
    #[error("{}", message::out_of_range(&path.display(), name, *index, *value))]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// The tensor, as the file names it.
        name: String,
        /// The flat (row-major) index of the value.
        index: usize,
        /// The value.
        value: f64,
    },

    /// A tensor holds NaN or an infinity. Loading refuses it unless
    /// [`LoadOptions::allow_non_finite`](crate::io::LoadOptions::allow_non_finite);
    /// [`set_tensor`](crate::io::set_tensor) and checkpoints always do.
    #[error("{}", non_finite(path.as_deref(), name, *index, *value, *count))]
    NonFinite {
        /// The file, or `None` for values given to [`set_tensor`](crate::io::set_tensor).
        path: Option<PathBuf>,
        /// The tensor, as the network names it (a checkpoint's optimizer state: its file key).
        name: String,
        /// The flat (row-major) index of the first non-finite value.
        index: usize,
        /// That value.
        value: f32,
        /// How many of the tensor's values are not finite.
        count: usize,
    },

    /// Two of the file's tensors are mapped to the same network tensor by the prefix and renames.
    #[error("{}", message::conflict(&path.display(), name, first, second))]
    Conflict {
        /// The file.
        path: PathBuf,
        /// The network tensor both map to.
        name: String,
        /// The first file tensor.
        first: String,
        /// The second file tensor.
        second: String,
    },

    /// [`set_tensor`](crate::io::set_tensor) was given a name the network does not have.
    #[error("the network has no tensor `{name}`{}", message::hint(suggestion))]
    UnknownTensor {
        /// The name asked for.
        name: String,
        /// The network's tensor with the closest name, if one is close.
        suggestion: Option<String>,
    },

    /// [`set_tensor`](crate::io::set_tensor) was given the wrong number of values.
    #[error("tensor `{name}` has shape {shape:?} ({expected} values); got {found} values")]
    Length {
        /// The tensor.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
        /// The number of values it holds.
        expected: usize,
        /// The number of values given.
        found: usize,
    },

    /// A checkpoint's metadata is missing or malformed, or its optimizer state is incomplete.
    #[error("{path}: {reason}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// The tensors could not be encoded (a header over safetensors' 100 MB limit).
    #[error("cannot encode {path}: {reason}")]
    Encode {
        /// The file.
        path: PathBuf,
        /// What the encoder said.
        reason: String,
    },
}

/// [`message::non_finite`] for a path, or for `set_tensor`'s values (`None`).
fn non_finite(path: Option<&Path>, name: &str, index: usize, value: f32, count: usize) -> String {
    match path {
        Some(p) => message::non_finite(Some(&p.display()), name, index, value, count),
        None => message::non_finite(None, name, index, value, count),
    }
}

impl LoadError {
    /// The same error, naming the file at `path` where the message said `<bytes>`: for bytes
    /// read from a file by other means than [`load_weights`](super::load_weights).
    ///
    /// ```
    /// use mlp::prelude::*;
    /// network! { Net< input(3); dense(2) > }
    /// let err = mlp::io::load_from_bytes(&mut Net::seeded(0), b"not safetensors", &LoadOptions::new()).unwrap_err();
    /// assert!(err.to_string().starts_with("<bytes> is not a valid safetensors file: "), "{err}");
    /// let err = err.at("model.safetensors");
    /// assert!(matches!(err, WeightError::Corrupt { .. }));
    /// assert!(err.to_string().starts_with("model.safetensors is not a valid safetensors file: "), "{err}");
    /// ```
    pub fn at(self, path: impl AsRef<Path>) -> WeightError {
        let path = path.as_ref().to_path_buf();
        match self {
            LoadError::Corrupt { reason } => WeightError::Corrupt { path, reason },
            LoadError::Missing { names, unexpected } => WeightError::Missing { path, names, unexpected },
            LoadError::Unexpected { names, suggestions } => {
                WeightError::Unexpected { path, names, suggestions }
            }
            LoadError::Shape { name, expected, found } => WeightError::Shape { path, name, expected, found },
            LoadError::Dtype { name, found } => WeightError::Dtype { path, name, found },
            LoadError::OutOfRange { name, index, value } => {
                WeightError::OutOfRange { path, name, index, value }
            }
            LoadError::NonFinite { name, index, value, count } => {
                WeightError::NonFinite { path: Some(path), name, index, value, count }
            }
            LoadError::Conflict { name, first, second } => {
                WeightError::Conflict { path, name, first, second }
            }
        }
    }
}

/// The same error and message (`<bytes>` where a file's path would be), so `?` works in a
/// function returning `WeightError`.
impl From<LoadError> for WeightError {
    fn from(e: LoadError) -> Self {
        e.at(BYTES)
    }
}
