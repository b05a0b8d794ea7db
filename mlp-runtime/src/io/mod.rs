//! Weights in safetensors: files and checkpoints (std), and the bytes of a file (with or
//! without std).
//!
//! Tensor names and layouts follow PyTorch (see the design notes): `dense_0.weight` is
//! `[out, in]`, `dense_0.bias` `[out]`; batch norm has `weight` (gamma), `bias` (beta),
//! `running_mean` and `running_var`; nested names join with `.`
//! (`features.dense_1.bias`). A file saved here loads in PyTorch with
//! `safetensors.torch.load_file`, and a PyTorch `state_dict` loads here with a key map
//! ([`LoadOptions::rename`]).
//!
//! - Loading checks every name, dtype, shape and value before it writes anything: a failed
//!   load leaves the network as it was, and the error names the file and the tensor. NaN and
//!   infinite values are refused ([`LoadOptions::allow_non_finite`] lets them in).
//! - Without std, weights load from the bytes of a file ([`load_from_bytes`], for example of
//!   `include_bytes!("model.safetensors")`), with the same checks and keys, the errors
//!   [`LoadError`]s; [`tensor_names`] and [`get_tensor`] work too. Files, saving and
//!   checkpoints need std.
//! - Dtypes: F32 is read as is; F16 and BF16 are widened exactly; F64 is rounded to the
//!   nearest f32 (an F64 beyond f32's range is an error). Integer and other dtypes are
//!   refused ([`LoadError::Dtype`]); skip such keys by name (PyTorch's
//!   `num_batches_tracked`).
//! - Saving writes a temporary file beside the target, syncs it and renames it over the
//!   target: a failed save leaves any earlier file intact. Symlinks are followed and kept,
//!   permissions kept, anything but a regular file at the path refused, and temporaries
//!   left by killed saves removed at the next save of the same file.
//!
//! ```
//! use mlp::prelude::*;
//! network! { Net< input(4); dense(8, relu); batch_norm; dense(3, softmax) > }
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("model.safetensors");
//! let net = Net::seeded(1);
//! net.save(&path)?;
//! let mut other = Net::seeded(2);
//! other.load(&path)?;
//! assert_eq!(other.get_tensor("batch_norm_0.running_var"), Some(vec![1.0; 8]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "std")]
pub(crate) mod atomic;
#[cfg(feature = "std")]
pub mod checkpoint;
mod convert;
#[cfg(feature = "std")]
mod error;
mod keys;
mod load;
mod load_error;
#[cfg(feature = "std")]
mod weights;

use alloc::string::String;
use alloc::vec::Vec;
#[cfg(feature = "std")]
use std::path::Path;

#[cfg(feature = "std")]
pub use atomic::check_writable;
#[cfg(feature = "std")]
pub use checkpoint::{load_checkpoint, save_checkpoint, CheckpointState, RngState, CHECKPOINT_VERSION};
#[cfg(feature = "std")]
pub use error::WeightError;
pub use keys::{KeyMap, LoadOptions};
pub use load::{get_tensor, load_from_bytes, tensor_names, LoadReport};
pub use load_error::LoadError;
#[cfg(feature = "std")]
pub use weights::{
    load_weights, load_weights_from_bytes, load_weights_with, read_tensors, save_weights, set_tensor, tensor,
    weights_to_bytes, NamedTensor,
};

use crate::layer::Layer;

/// The weight functions as methods of every layer and network: `net.save("model.safetensors")?`,
/// `net.load(..)?`, and without std `net.load_from_bytes(..)?`. The methods with paths or a
/// `WeightError` (`save`, `load`, `load_with`, `tensor`, `set_tensor`) need std.
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(2); dense(2) > }
/// let mut net = Net::seeded(0);
/// net.set_tensor("dense_0.bias", &[1.0, 2.0])?;
/// assert_eq!(net.get_tensor("dense_0.bias"), Some(vec![1.0, 2.0]));
/// assert_eq!(net.tensor_names()[0], ("dense_0.weight".to_string(), vec![2, 2]));
/// # Ok::<(), WeightError>(())
/// ```
pub trait WeightsExt: Layer {
    /// [`load_from_bytes`]: every tensor from the bytes of a safetensors file, as `opts` say,
    /// all or nothing; with or without std.
    ///
    /// ```
    /// use mlp::prelude::*;
    /// network! { Net< input(3); dense(2) > }
    /// let bytes = mlp::io::weights_to_bytes(&Net::seeded(1))?;
    /// let mut net = Net::seeded(2);
    /// net.load_from_bytes(&bytes, &LoadOptions::new())?;
    /// assert_eq!(net.get_tensor("dense_0.bias"), Net::seeded(1).get_tensor("dense_0.bias"));
    /// # Ok::<(), WeightError>(())
    /// ```
    fn load_from_bytes(&mut self, bytes: &[u8], opts: &LoadOptions<'_>) -> Result<LoadReport, LoadError> {
        load_from_bytes(self, bytes, opts)
    }
    /// [`save_weights`]: every tensor to a safetensors file, atomically.
    #[cfg(feature = "std")]
    fn save(&self, path: impl AsRef<Path>) -> Result<(), WeightError> {
        save_weights(self, path)
    }
    /// [`load_weights`]: every tensor from a safetensors file, strictly, all or nothing.
    #[cfg(feature = "std")]
    fn load(&mut self, path: impl AsRef<Path>) -> Result<(), WeightError> {
        load_weights(self, path)
    }
    /// [`load_weights_with`]: renamed, filtered or relaxed loading.
    #[cfg(feature = "std")]
    fn load_with(
        &mut self,
        path: impl AsRef<Path>,
        opts: &LoadOptions<'_>,
    ) -> Result<LoadReport, WeightError> {
        load_weights_with(self, path, opts)
    }
    /// [`get_tensor`]: a copy of one tensor by name, `None` if there is none.
    fn get_tensor(&self, name: &str) -> Option<Vec<f32>> {
        get_tensor(self, name)
    }
    /// [`tensor`]: a copy of one tensor by name, or an error with the closest name.
    #[cfg(feature = "std")]
    fn tensor(&self, name: &str) -> Result<Vec<f32>, WeightError> {
        tensor(self, name)
    }
    /// [`set_tensor`]: overwrites one tensor by name.
    #[cfg(feature = "std")]
    fn set_tensor(&mut self, name: &str, values: &[f32]) -> Result<(), WeightError> {
        set_tensor(self, name, values)
    }
    /// [`tensor_names`]: every tensor's name and PyTorch shape.
    fn tensor_names(&self) -> Vec<(String, Vec<usize>)> {
        tensor_names(self)
    }
}

impl<L: Layer + ?Sized> WeightsExt for L {}

/// Re-exports for `mlp::prelude`.
pub mod prelude {
    #[cfg(feature = "std")]
    pub use super::{CheckpointState, RngState, WeightError};
    pub use super::{LoadError, LoadOptions, LoadReport, WeightsExt};
}
