//! Whole networks to and from safetensors files, and single tensors by name (std). Loading
//! goes through [`load`](super::load), the checks loading from bytes makes without std.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, View};

use super::convert;
use super::error::WeightError;
use super::keys::{closest, LoadOptions};
use super::load::{convert_error, get_tensor, layout, load_from_bytes, non_finite, parse, LoadReport};
use super::load_error::BYTES;
use crate::layer::Layer;
use crate::tensors::{for_each_tensor, for_each_tensor_ref};

/// A tensor read from a file by [`read_tensors`]: name, shape, row-major values.
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// A copy of the tensor called `name`, or an error naming the closest tensor the network
/// has (like [`set_tensor`]'s).
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(3); dense(2) > }
/// let net = Net::seeded(0);
/// assert_eq!(net.tensor("dense_0.bias")?, vec![0.0, 0.0]);
/// let err = net.tensor("dense_0.weights").unwrap_err();
/// assert_eq!(err.to_string(), "the network has no tensor `dense_0.weights` (did you mean `dense_0.weight`?)");
/// # Ok::<(), WeightError>(())
/// ```
pub fn tensor<L: Layer + ?Sized>(net: &L, name: &str) -> Result<Vec<f32>, WeightError> {
    get_tensor(net, name).ok_or_else(|| unknown_tensor(net, name))
}

/// The error for a tensor name the network does not have, with the closest one it has.
fn unknown_tensor<L: Layer + ?Sized>(net: &L, name: &str) -> WeightError {
    let names: Vec<String> = layout(net).into_iter().map(|(n, _, _)| n).collect();
    WeightError::UnknownTensor { name: name.to_string(), suggestion: closest(name, &names) }
}

/// Overwrites the tensor called `name` with `values` (row-major, PyTorch's layout). Fails,
/// changing nothing, if the network has no such tensor, its size differs, or a value is NaN
/// or infinite ([`WeightError::NonFinite`]; to plant one on purpose, write through
/// [`for_each_tensor`](crate::tensors::for_each_tensor)).
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(3); dense(2) > }
/// let mut net = Net::seeded(0);
/// mlp::io::set_tensor(&mut net, "dense_0.bias", &[0.5, -1.0])?;
/// assert_eq!(net.get_tensor("dense_0.bias"), Some(vec![0.5, -1.0]));
/// let err = net.set_tensor("dense_0.bias", &[1.0]).unwrap_err();
/// assert_eq!(err.to_string(), "tensor `dense_0.bias` has shape [2] (2 values); got 1 values");
/// let err = net.set_tensor("dense_0.bias", &[1.0, f32::INFINITY]).unwrap_err();
/// assert_eq!(err.to_string(), "tensor `dense_0.bias` would hold inf at index 1 (1 non-finite value); \
///     set_tensor takes finite values only");
/// assert_eq!(net.get_tensor("dense_0.bias"), Some(vec![0.5, -1.0]));
/// let err = net.set_tensor("dense_0.weights", &[1.0]).unwrap_err();
/// assert_eq!(err.to_string(), "the network has no tensor `dense_0.weights` (did you mean `dense_0.weight`?)");
/// # Ok::<(), WeightError>(())
/// ```
pub fn set_tensor<L: Layer + ?Sized>(net: &mut L, name: &str, values: &[f32]) -> Result<(), WeightError> {
    let mut result = None;
    for_each_tensor(net, |n, mut t| {
        if result.is_none() && n == name {
            let value = t.value();
            result = Some(if value.len() == values.len() {
                match non_finite(values) {
                    Some((index, bad, count)) => Err(WeightError::NonFinite {
                        path: None,
                        name: name.to_string(),
                        index,
                        value: bad,
                        count,
                    }),
                    None => {
                        value.copy_from_slice(values);
                        Ok(())
                    }
                }
            } else {
                Err(WeightError::Length {
                    name: name.to_string(),
                    shape: t.shape().to_vec(),
                    expected: t.shape().iter().product(),
                    found: values.len(),
                })
            });
        }
    });
    result.unwrap_or_else(|| Err(unknown_tensor(net, name)))
}

/// The network's tensors, encoded as a safetensors file with this metadata.
pub(crate) fn encode<L: Layer + ?Sized>(
    net: &L,
    extra: Vec<(String, OwnedTensor)>,
    metadata: HashMap<String, String>,
    path: &Path,
) -> Result<Vec<u8>, WeightError> {
    let mut tensors: Vec<(String, OwnedTensor)> = Vec::new();
    for_each_tensor_ref(net, |name, t| {
        let shape = t.shape().to_vec();
        tensors.push((name.to_string(), OwnedTensor { shape, data: convert::to_le_bytes(t.value()) }));
    });
    tensors.extend(extra);
    safetensors::serialize(tensors, Some(metadata))
        .map_err(|e| WeightError::Encode { path: path.to_path_buf(), reason: e.to_string() })
}

/// The network's tensors as the bytes of a safetensors file (what [`save_weights`] writes):
/// F32, PyTorch's names and layouts, metadata `{"format": "pt"}`.
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(3); dense(2) > }
/// let bytes = mlp::io::weights_to_bytes(&Net::seeded(1))?;
/// let mut other = Net::seeded(2);
/// mlp::io::load_weights_from_bytes(&mut other, &bytes, &LoadOptions::new())?;
/// assert_eq!(other.get_tensor("dense_0.weight"), Net::seeded(1).get_tensor("dense_0.weight"));
/// # Ok::<(), WeightError>(())
/// ```
pub fn weights_to_bytes<L: Layer + ?Sized>(net: &L) -> Result<Vec<u8>, WeightError> {
    encode(net, Vec::new(), weights_metadata(), Path::new(BYTES))
}

fn weights_metadata() -> HashMap<String, String> {
    // One key: safetensors writes the map in hash order, and one key keeps files byte-identical.
    HashMap::from([("format".to_string(), "pt".to_string())])
}

/// Saves every tensor of `net` to `path` as safetensors (F32, PyTorch's names and layouts,
/// so `safetensors.torch.load_file` reads it). The file is written to a temporary file
/// beside the target, synced, then renamed over it: a failed save leaves any earlier file
/// intact. A symlink at `path` is followed (its target is replaced, the link kept); the
/// target's permissions are kept; a directory, device, FIFO or socket at `path` is refused
/// ([`WeightError::Io`]). [`WeightsExt::save`](crate::io::WeightsExt::save) is the method form.
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(4); dense(8, relu); batch_norm; dense(3, softmax) > }
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("model.safetensors");
/// let mut net = Net::seeded(1);
/// mlp::io::save_weights(&net, &path)?;
/// let mut copy = Net::seeded(2);
/// copy.load(&path)?;
/// let x = Batch::<4>::from_samples(&[0.1, 0.2, 0.3, 0.4]).unwrap();
/// assert_eq!(copy.predict(&x).as_slice(), net.predict(&x).as_slice());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_weights<L: Layer + ?Sized>(net: &L, path: impl AsRef<Path>) -> Result<(), WeightError> {
    let path = path.as_ref();
    let bytes = encode(net, Vec::new(), weights_metadata(), path)?;
    write_file(path, &bytes)
}

/// Writes `bytes` to `path` atomically; errors name the file.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WeightError> {
    super::atomic::write(path, bytes).map_err(|source| WeightError::Io { path: path.to_path_buf(), source })
}

/// Reads a whole file; errors name it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, WeightError> {
    std::fs::read(path).map_err(|source| WeightError::Io { path: path.to_path_buf(), source })
}

/// Loads every tensor of `net` from the safetensors file at `path`, strictly: the file must
/// hold exactly the network's tensors (a checkpoint's `__optimizer.*` keys aside), with the
/// same shapes, a float dtype (F32 as is; F64 rounded, F16 and BF16 widened) and finite
/// values (NaN and infinities are refused, naming the tensor and the first bad index, unless
/// [`LoadOptions::allow_non_finite`]). Nothing in
/// `net` changes unless everything checks out. [`WeightsExt::load`](crate::io::WeightsExt::load)
/// is the method form; [`load_weights_with`] renames, filters and relaxes.
///
/// ```
/// use mlp::prelude::*;
/// network! { Small< input(4); dense(8) > }
/// network! { Wide< input(4); dense(9) > }
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("small.safetensors");
/// Small::seeded(1).save(&path)?;
/// let err = mlp::io::load_weights(&mut Wide::seeded(0), &path).unwrap_err();
/// assert!(err.to_string().contains("has shape [8, 4]; the network expects [9, 4]"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_weights<L: Layer + ?Sized>(net: &mut L, path: impl AsRef<Path>) -> Result<(), WeightError> {
    load_weights_with(net, path, &LoadOptions::default()).map(drop)
}

/// Loads `net`'s tensors from `path` as `opts` say (see [`LoadOptions`]); all-or-nothing
/// like [`load_weights`].
///
/// ```
/// use mlp::prelude::*;
/// network! { Trunk< input(4); dense(8, relu) > }
/// network! { Big< features: Trunk; dense(3, softmax) > }
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("big.safetensors");
/// let mut big = Big::seeded(1);
/// big.save(&path)?;
/// let mut trunk = Trunk::seeded(2);
/// let report = trunk.load_with(&path, &LoadOptions::new().prefix("features"))?;
/// assert_eq!(report.loaded, ["dense_0.weight", "dense_0.bias"]);
/// assert_eq!(report.ignored, ["dense_0.bias", "dense_0.weight"]); // the head's
/// assert_eq!(trunk.get_tensor("dense_0.weight"), big.get_tensor("features.dense_0.weight"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_weights_with<L: Layer + ?Sized>(
    net: &mut L,
    path: impl AsRef<Path>,
    opts: &LoadOptions<'_>,
) -> Result<LoadReport, WeightError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    load_from_bytes(net, &bytes, opts).map_err(|e| e.at(path))
}

/// Like [`load_weights_with`], from the bytes of a safetensors file (`include_bytes!` of a
/// shipped model, or [`weights_to_bytes`]); messages call it `<bytes>`. This is
/// [`load_from_bytes`] (which works without std) with the error as a [`WeightError`].
pub fn load_weights_from_bytes<L: Layer + ?Sized>(
    net: &mut L,
    bytes: &[u8],
    opts: &LoadOptions<'_>,
) -> Result<LoadReport, WeightError> {
    load_from_bytes(net, bytes, opts).map_err(WeightError::from)
}

/// Every tensor of the safetensors file at `path` as (name, shape, f32 values), sorted by
/// name: for inspecting a file, or reading inputs and reference outputs. Dtypes convert as
/// in [`load_weights`]; a non-float tensor is an error naming it. Values come as they are,
/// NaN and infinities included (this reads a file; it loads nothing).
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(3); dense(2) > }
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("net.safetensors");
/// Net::seeded(0).save(&path)?;
/// let tensors = mlp::io::read_tensors(&path)?;
/// assert_eq!(tensors[0], ("dense_0.bias".to_string(), vec![2], vec![0.0, 0.0]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_tensors(path: impl AsRef<Path>) -> Result<Vec<NamedTensor>, WeightError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let file = parse(&bytes).map_err(|e| e.at(path))?;
    let mut out = Vec::with_capacity(file.len());
    for (name, view) in file.iter() {
        let values =
            convert::to_f32(view.dtype(), view.data()).map_err(|e| convert_error(e, name).at(path))?;
        out.push((name.to_string(), view.shape().to_vec(), values));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// A tensor to save: F32 values as little-endian bytes.
pub(crate) struct OwnedTensor {
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Vec<u8>,
}

impl View for OwnedTensor {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}
