//! The one error type of weight files and checkpoints.

use std::path::PathBuf;

/// Everything that can go wrong while saving, loading or addressing a network's tensors.
///
/// Every message names the file (or `<bytes>` for an in-memory buffer) and, where one is
/// at fault, the tensor:
///
/// ```text
/// tensor `dense_0.weight` in model.safetensors has shape [100, 784]; the network expects [300, 784]
/// ```
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
    #[error("{path} is not a valid safetensors file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser found wrong.
        reason: String,
    },

    /// Tensors the network needs are not in the file. All of them are listed, and so are the
    /// file's tensors the network does not have (often the same tensors under other names).
    #[error("{}", missing_message(path, names, unexpected))]
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
    #[error("{}", unexpected_message(path, names, suggestions))]
    Unexpected {
        /// The file.
        path: PathBuf,
        /// The file's tensors (after prefix, renames and skips) the network does not have.
        names: Vec<String>,
        /// For each, the network's tensor with the closest name, if one is close.
        suggestions: Vec<Option<String>>,
    },

    /// A tensor's shape differs from the network's.
    #[error("tensor `{name}` in {path} has shape {found:?}; the network expects {expected:?}")]
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
    #[error("tensor `{name}` in {path} has dtype {found}; expected F32 (F64, F16 and BF16 are converted)")]
    Dtype {
        /// The file.
        path: PathBuf,
        /// The tensor, as the file names it.
        name: String,
        /// The dtype found (safetensors' name: `I64`, `U8`, ...).
        found: String,
    },

    /// An F64 value does not fit in an f32.
    #[error("tensor `{name}` in {path}: value {value:e} at index {index} is outside the range of f32")]
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
    #[error("{}", non_finite_message(path.as_deref(), name, *index, *value, *count))]
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
    #[error("tensors `{first}` and `{second}` in {path} both map to `{name}`")]
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
    #[error("the network has no tensor `{name}`{}", hint(suggestion))]
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

fn hint(suggestion: &Option<String>) -> String {
    suggestion.as_ref().map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"))
}

fn non_finite_message(
    path: Option<&std::path::Path>,
    name: &str,
    index: usize,
    value: f32,
    count: usize,
) -> String {
    let values = plural(count, "non-finite value", "non-finite values");
    match path {
        None => format!(
            "tensor `{name}` would hold {value} at index {index} ({values}); set_tensor takes finite values only"
        ),
        Some(p) if name.starts_with(super::keys::OPTIMIZER_PREFIX) => {
            format!("tensor `{name}` in {} holds {value} at index {index} ({values})", p.display())
        }
        Some(p) => format!(
            "tensor `{name}` in {} holds {value} at index {index} ({values}); \
             LoadOptions::allow_non_finite(true) loads it anyway",
            p.display()
        ),
    }
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn missing_message(path: &std::path::Path, names: &[String], unexpected: &[String]) -> String {
    let mut s = format!(
        "{} lacks {} the network needs: {}",
        path.display(),
        plural(names.len(), "tensor", "tensors"),
        quoted(names)
    );
    if !unexpected.is_empty() {
        s.push_str(&format!(
            "; it holds {} the network does not have: {}",
            plural(unexpected.len(), "tensor", "tensors"),
            quoted(unexpected)
        ));
        s.push_str(&torch_hint(unexpected));
    }
    s
}

fn unexpected_message(path: &std::path::Path, names: &[String], suggestions: &[Option<String>]) -> String {
    let items: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("`{n}`{}", hint(suggestions.get(i).unwrap_or(&None))))
        .collect();
    format!(
        "{} holds {} the network does not have: {}{}",
        path.display(),
        plural(names.len(), "tensor", "tensors"),
        items.join(", "),
        torch_hint(names)
    )
}

/// Keys like `1.weight` come from a PyTorch `nn.Sequential`: say how to map them.
fn torch_hint(names: &[String]) -> String {
    if names.iter().any(|n| n.starts_with(|c: char| c.is_ascii_digit())) {
        " (keys like `1.weight` come from a PyTorch nn.Sequential: map them with \
         LoadOptions::rename(\"1\", \"dense_0\"))"
            .to_string()
    } else {
        String::new()
    }
}
