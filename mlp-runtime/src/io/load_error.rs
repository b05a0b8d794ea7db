//! The error of loading weights from bytes ([`LoadError`]), and the text of every loading
//! message: [`WeightError`](super::WeightError) (std) says the same with the file's path.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Display;

/// What messages call an in-memory buffer, where a file's path would be.
pub(crate) const BYTES: &str = "<bytes>";

/// Why the bytes of a safetensors file could not be loaded into a network: what
/// [`load_from_bytes`](super::load_from_bytes) returns, with or without std.
///
/// The checks are the file loader's, and so are the messages, with `<bytes>` where a file's
/// path would be:
///
/// ```text
/// tensor `dense_0.weight` in <bytes> has shape [100, 784]; the network expects [300, 784]
/// ```
#[cfg_attr(
    feature = "std",
    doc = "\nWith std, [`LoadError::at`] names a file instead and gives the [`WeightError`](super::WeightError) \
           the file loaders return; `?` converts into `WeightError` too (naming `<bytes>`)."
)]
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not a safetensors file: truncated, a bad header, offsets that do not add up.
    #[error("{}", message::corrupt(&BYTES, reason))]
    Corrupt {
        /// What the parser found wrong.
        reason: String,
    },

    /// Tensors the network needs are not in the file. All of them are listed, and so are the
    /// file's tensors the network does not have (often the same tensors under other names).
    #[error("{}", message::missing(&BYTES, names, unexpected))]
    Missing {
        /// The network's tensors the file lacks, in the network's order.
        names: Vec<String>,
        /// The file's tensors (after prefix, renames and skips) the network does not have.
        unexpected: Vec<String>,
    },

    /// The file holds tensors the network does not have (and nothing is missing).
    /// [`LoadOptions::allow_extra`](super::LoadOptions::allow_extra) ignores them instead.
    #[error("{}", message::unexpected(&BYTES, names, suggestions))]
    Unexpected {
        /// The file's tensors (after prefix, renames and skips) the network does not have.
        names: Vec<String>,
        /// For each, the network's tensor with the closest name, if one is close.
        suggestions: Vec<Option<String>>,
    },

    /// A tensor's shape differs from the network's.
    #[error("{}", message::shape(&BYTES, name, expected, found))]
    Shape {
        /// The tensor, as the network names it.
        name: String,
        /// The network's shape (PyTorch's layout).
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },

    /// A tensor's dtype is not a float type. F32 is read as is; F64 is rounded to f32,
    /// F16 and BF16 are widened (exactly).
    #[error("{}", message::dtype(&BYTES, name, found))]
    Dtype {
        /// The tensor, as the file names it.
        name: String,
        /// The dtype found (safetensors' name: `I64`, `U8`, ...).
        found: String,
    },

    /// An F64 value does not fit in an f32.
    #[error("{}", message::out_of_range(&BYTES, name, *index, *value))]
    OutOfRange {
        /// The tensor, as the file names it.
        name: String,
        /// The flat (row-major) index of the value.
        index: usize,
        /// The value.
        value: f64,
    },

    /// A tensor holds NaN or an infinity. Loading refuses it unless
    /// [`LoadOptions::allow_non_finite`](super::LoadOptions::allow_non_finite).
    #[error("{}", message::non_finite(Some(&BYTES), name, *index, *value, *count))]
    NonFinite {
        /// The tensor, as the network names it.
        name: String,
        /// The flat (row-major) index of the first non-finite value.
        index: usize,
        /// That value.
        value: f32,
        /// How many of the tensor's values are not finite.
        count: usize,
    },

    /// Two of the file's tensors are mapped to the same network tensor by the prefix and renames.
    #[error("{}", message::conflict(&BYTES, name, first, second))]
    Conflict {
        /// The network tensor both map to.
        name: String,
        /// The first file tensor.
        first: String,
        /// The second file tensor.
        second: String,
    },
}

/// The messages, each naming where the tensors came from (`at`: a file's path, or `<bytes>`).
pub(crate) mod message {
    use super::*;
    use crate::io::keys::OPTIMIZER_PREFIX;

    pub(crate) fn corrupt(at: &dyn Display, reason: &str) -> String {
        format!("{at} is not a valid safetensors file: {reason}")
    }

    pub(crate) fn missing(at: &dyn Display, names: &[String], unexpected: &[String]) -> String {
        let mut s = format!(
            "{at} lacks {} the network needs: {}",
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

    pub(crate) fn unexpected(at: &dyn Display, names: &[String], suggestions: &[Option<String>]) -> String {
        let items: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("`{n}`{}", hint(suggestions.get(i).unwrap_or(&None))))
            .collect();
        format!(
            "{at} holds {} the network does not have: {}{}",
            plural(names.len(), "tensor", "tensors"),
            items.join(", "),
            torch_hint(names)
        )
    }

    pub(crate) fn shape(at: &dyn Display, name: &str, expected: &[usize], found: &[usize]) -> String {
        format!("tensor `{name}` in {at} has shape {found:?}; the network expects {expected:?}")
    }

    pub(crate) fn dtype(at: &dyn Display, name: &str, found: &str) -> String {
        format!("tensor `{name}` in {at} has dtype {found}; expected F32 (F64, F16 and BF16 are converted)")
    }

    pub(crate) fn out_of_range(at: &dyn Display, name: &str, index: usize, value: f64) -> String {
        format!("tensor `{name}` in {at}: value {value:e} at index {index} is outside the range of f32")
    }

    /// `at` is `None` for values given to `set_tensor`.
    pub(crate) fn non_finite(
        at: Option<&dyn Display>,
        name: &str,
        index: usize,
        value: f32,
        count: usize,
    ) -> String {
        let values = plural(count, "non-finite value", "non-finite values");
        match at {
            None => format!(
                "tensor `{name}` would hold {value} at index {index} ({values}); set_tensor takes finite values only"
            ),
            Some(at) if name.starts_with(OPTIMIZER_PREFIX) => {
                format!("tensor `{name}` in {at} holds {value} at index {index} ({values})")
            }
            Some(at) => format!(
                "tensor `{name}` in {at} holds {value} at index {index} ({values}); \
                 LoadOptions::allow_non_finite(true) loads it anyway"
            ),
        }
    }

    pub(crate) fn conflict(at: &dyn Display, name: &str, first: &str, second: &str) -> String {
        format!("tensors `{first}` and `{second}` in {at} both map to `{name}`")
    }

    /// ` (did you mean `name`?)`, or nothing.
    pub(crate) fn hint(suggestion: &Option<String>) -> String {
        suggestion.as_ref().map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"))
    }

    fn quoted(names: &[String]) -> String {
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    }

    fn plural(n: usize, one: &str, many: &str) -> String {
        format!("{n} {}", if n == 1 { one } else { many })
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
}
