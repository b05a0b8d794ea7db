//! Loading weights from the bytes of a safetensors file, with or without std: the header
//! parsed and bounds-checked, every name, shape, dtype and value checked against the
//! network, then everything written at once. The file loaders and checkpoints (std) go
//! through the same functions.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use alloc::{format, vec};

use safetensors::SafeTensors;

use super::convert::{self, ConvertError};
use super::keys::{closest, LoadOptions};
use super::load_error::LoadError;
use crate::layer::Layer;
use crate::tensors::{for_each_tensor, for_each_tensor_ref};

/// What a load did: [`load_from_bytes`]'s report, and `load_weights_with`'s (std).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// The network tensors that were written, in the network's order.
    pub loaded: Vec<String>,
    /// The network tensors the file lacks, left as they were (only with `allow_missing`).
    pub missing: Vec<String>,
    /// The file's keys that were not loaded: skipped, outside the prefix, optimizer state, or
    /// extra (with `allow_extra`); sorted.
    pub ignored: Vec<String>,
}

/// Loads `net`'s tensors from the bytes of a safetensors file, as `opts` say (see
/// [`LoadOptions`]): the way to load weights without std, and the same checks as the file
/// loaders. The file must hold exactly the network's tensors (unless `opts` relax it), with
/// the same shapes, a float dtype (F32 as is; F64 rounded, F16 and BF16 widened) and finite
/// values. Nothing in `net` changes unless everything checks out; bad bytes are an error,
/// never a panic. [`WeightsExt::load_from_bytes`](super::WeightsExt::load_from_bytes) is the
/// method form.
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(3); dense(2) > }
/// let bytes = mlp::io::weights_to_bytes(&Net::seeded(1))?; // what `net.save(path)` writes
/// let mut net = Net::seeded(2);
/// let report = mlp::io::load_from_bytes(&mut net, &bytes, &LoadOptions::new())?;
/// assert_eq!(report.loaded, ["dense_0.weight", "dense_0.bias"]);
/// assert_eq!(net.get_tensor("dense_0.weight"), Net::seeded(1).get_tensor("dense_0.weight"));
///
/// let err = mlp::io::load_from_bytes(&mut net, &bytes[..20], &LoadOptions::new()).unwrap_err();
/// assert!(matches!(err, LoadError::Corrupt { .. }), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// On a device without std or files, the weights are compiled into the program; the
/// network's type is the same as on the host. Here, a PyTorch `nn.Sequential`'s
/// `state_dict`, its keys mapped to the network's names:
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< flatten(3, 4); dense(16); batch_norm(epsilon = 1e-5); relu; dense(8, elu); dense(5, softmax) > }
///
/// # /*
/// static MODEL: &[u8] = include_bytes!("model.safetensors");
/// # */
/// # static MODEL: &[u8] = include_bytes!("../../../tests/fixtures/torch_sequential.safetensors");
/// let torch_keys = LoadOptions::new()
///     .rename("1", "dense_0")
///     .rename("2", "batch_norm_0")
///     .rename("4", "dense_1")
///     .rename("6", "dense_2")
///     .skip("num_batches_tracked");
/// let mut net = Net::seeded(0);
/// net.load_from_bytes(MODEL, &torch_keys)?;
/// let y = net.predict(&Batch::<12>::zeros(1));
/// assert_eq!(y.len(), 1);
/// # Ok::<(), LoadError>(())
/// ```
///
/// Errors are [`LoadError`]s, whose messages call the buffer `<bytes>`.
#[cfg_attr(
    feature = "std",
    doc = "With std, `?` converts them into [`WeightError`](super::WeightError), and \
           [`load_weights_from_bytes`](super::load_weights_from_bytes) is this function with that error type."
)]
pub fn load_from_bytes<L: Layer + ?Sized>(
    net: &mut L,
    bytes: &[u8],
    opts: &LoadOptions<'_>,
) -> Result<LoadReport, LoadError> {
    let file = parse(bytes)?;
    let plan = plan(net, &file, opts)?;
    Ok(apply(net, plan))
}

/// Name, PyTorch shape and element count of every tensor of `net`, in visit order.
pub(crate) fn layout<L: Layer + ?Sized>(net: &L) -> Vec<(String, Vec<usize>, usize)> {
    let mut out = Vec::new();
    for_each_tensor_ref(net, |name, t| out.push((name.to_string(), t.shape().to_vec(), t.value().len())));
    out
}

/// The names and PyTorch shapes of the network's tensors, in visit order (the order of
/// [`for_each_tensor_ref`](crate::tensors::for_each_tensor_ref)).
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(3); dense(2) > }
/// let names = mlp::io::tensor_names(&Net::seeded(0));
/// assert_eq!(names, [("dense_0.weight".to_string(), vec![2, 3]), ("dense_0.bias".to_string(), vec![2])]);
/// ```
pub fn tensor_names<L: Layer + ?Sized>(net: &L) -> Vec<(String, Vec<usize>)> {
    layout(net).into_iter().map(|(n, s, _)| (n, s)).collect()
}

/// A copy of the tensor called `name` (row-major, PyTorch's layout), or `None` if the network
/// has no such tensor.
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(3); dense(2) > }
/// let net = Net::seeded(0);
/// assert_eq!(mlp::io::get_tensor(&net, "dense_0.bias"), Some(vec![0.0, 0.0]));
/// assert_eq!(mlp::io::get_tensor(&net, "dense_0.gamma"), None);
/// ```
///
/// With std, `tensor` says why instead of returning `None`.
pub fn get_tensor<L: Layer + ?Sized>(net: &L, name: &str) -> Option<Vec<f32>> {
    let mut found = None;
    for_each_tensor_ref(net, |n, t| {
        if found.is_none() && n == name {
            found = Some(t.value().to_vec());
        }
    });
    found
}

/// The error for a tensor whose bytes could not become f32 values.
pub(crate) fn convert_error(e: ConvertError, name: &str) -> LoadError {
    let name = name.to_string();
    match e {
        ConvertError::Dtype(d) => LoadError::Dtype { name, found: d.to_string() },
        ConvertError::OutOfRange(index, value) => LoadError::OutOfRange { name, index, value },
    }
}

/// Parses a safetensors file; never panics on bad bytes.
pub(crate) fn parse(bytes: &[u8]) -> Result<SafeTensors<'_>, LoadError> {
    SafeTensors::deserialize(bytes).map_err(|e| LoadError::Corrupt { reason: describe(&e, bytes) })
}

fn describe(e: &safetensors::SafeTensorError, bytes: &[u8]) -> String {
    use safetensors::SafeTensorError as E;
    let len = bytes.len();
    match e {
        // The parser checks tensors in an order its hash map decides among equal offsets, and
        // some of its messages name no tensor: check again, in a fixed order, naming it.
        E::InvalidOffset(_) | E::TensorInvalidInfo | E::ValidationOverflow | E::MisalignedSlice => {
            inconsistent_tensor(bytes).unwrap_or_else(|| e.to_string())
        }
        E::HeaderTooSmall => format!("{len} bytes, too short for the 8-byte header length"),
        E::HeaderTooLarge | E::InvalidHeaderLength => {
            format!("the header length in the first 8 bytes does not fit the file's {len} bytes (truncated?)")
        }
        E::MetadataIncompleteBuffer => {
            format!("the header's tensors do not cover the file's {len} bytes exactly (truncated or padded?)")
        }
        other => other.to_string(),
    }
}

/// The parser's checks of the header's tensors, in order of data offsets and then of name: the
/// first tensor whose byte range does not follow the previous tensor's, or disagrees with its
/// shape and dtype, as a message naming it; `None` if the header cannot be read that far (the
/// parser's own message is then used).
fn inconsistent_tensor(bytes: &[u8]) -> Option<String> {
    let n = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes.get(8..8usize.checked_add(n)?)?).ok()?;
    let mut infos: Vec<(&String, safetensors::tensor::TensorInfo)> = header
        .iter()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .filter_map(|(k, v)| Some((k, serde_json::from_value(v.clone()).ok()?)))
        .collect();
    infos.sort_by(|(a, x), (b, y)| (x.data_offsets, a).cmp(&(y.data_offsets, b)));
    let mut previous: Option<(&String, usize)> = None;
    infos.into_iter().find_map(|(name, info)| {
        let (dtype, shape, (start, end)) = (info.dtype, &info.shape, info.data_offsets);
        if end < start {
            return Some(format!("tensor `{name}`: its data_offsets [{start}, {end}] end before they start"));
        }
        let (expected, place) = match previous {
            Some((p, end)) => (end, format!("where those of `{p}` end")),
            None => (0, "where the data starts".to_string()),
        };
        if start != expected {
            return Some(format!(
                "tensor `{name}`: its data_offsets [{start}, {end}] should start at {expected}, {place}"
            ));
        }
        previous = Some((name, end));
        let held = end - start;
        let bits = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .and_then(|n| n.checked_mul(dtype.bitsize()));
        match bits {
            None => Some(format!(
                "tensor `{name}`: shape {shape:?} of {dtype} has more elements than fit in memory"
            )),
            Some(b) if b % 8 != 0 => {
                Some(format!("tensor `{name}`: shape {shape:?} of {dtype} is not a whole number of bytes"))
            }
            Some(b) if b / 8 != held => Some(format!(
                "tensor `{name}`: shape {shape:?} of {dtype} takes {} bytes, but its data_offsets \
                 [{start}, {end}] hold {held}",
                b / 8
            )),
            Some(_) => None,
        }
    })
}

/// Values to write, checked: network name -> values.
pub(crate) struct Plan {
    values: BTreeMap<String, Vec<f32>>,
    report: LoadReport,
}

/// Checks every name, dtype and shape of `file` against `net`, and converts the values.
/// Nothing is written.
pub(crate) fn plan<L: Layer + ?Sized>(
    net: &L,
    file: &SafeTensors<'_>,
    opts: &LoadOptions<'_>,
) -> Result<Plan, LoadError> {
    let layout = layout(net);
    let index: BTreeMap<&str, usize> =
        layout.iter().enumerate().map(|(i, (n, _, _))| (n.as_str(), i)).collect();

    let mut keys: Vec<&str> = file.iter().map(|(k, _)| k).collect();
    keys.sort_unstable();

    let mut ignored = Vec::new();
    let mut unexpected = Vec::new();
    // network index -> file key
    let mut sources: Vec<Option<&str>> = vec![None; layout.len()];
    for key in keys {
        let Some(name) = opts.map_key(key) else {
            ignored.push(key.to_string());
            continue;
        };
        match index.get(name.as_str()) {
            None if opts.allow_extra => ignored.push(key.to_string()),
            None => unexpected.push(name),
            Some(&i) => {
                if let Some(first) = sources[i] {
                    return Err(LoadError::Conflict {
                        name,
                        first: first.to_string(),
                        second: key.to_string(),
                    });
                }
                sources[i] = Some(key);
            }
        }
    }

    // A skipped name is not missing: skipping a layer keeps the network's own values.
    let missing: Vec<String> = layout
        .iter()
        .zip(&sources)
        .filter(|((n, _, _), s)| s.is_none() && !opts.skips(n))
        .map(|((n, _, _), _)| n.clone())
        .collect();
    if !missing.is_empty() && !opts.allow_missing {
        return Err(LoadError::Missing { names: missing, unexpected });
    }
    if !unexpected.is_empty() {
        let names: Vec<String> = layout.iter().map(|(n, _, _)| n.clone()).collect();
        let suggestions = unexpected.iter().map(|u| closest(u, &names)).collect();
        return Err(LoadError::Unexpected { names: unexpected, suggestions });
    }

    let mut values = BTreeMap::new();
    let mut loaded = Vec::new();
    for ((name, shape, len), source) in layout.iter().zip(&sources) {
        let Some(key) = source else { continue };
        let view = file.tensor(key).map_err(|e| LoadError::Corrupt { reason: e.to_string() })?;
        if view.shape() != shape.as_slice() {
            return Err(LoadError::Shape {
                name: name.clone(),
                expected: shape.clone(),
                found: view.shape().to_vec(),
            });
        }
        let v = convert::to_f32(view.dtype(), view.data()).map_err(|e| convert_error(e, key))?;
        if v.len() != *len {
            // The layer's buffer disagrees with its own shape: report it rather than panic.
            return Err(LoadError::Shape {
                name: name.clone(),
                expected: vec![*len],
                found: view.shape().to_vec(),
            });
        }
        if !opts.allow_non_finite {
            if let Some((index, value, count)) = non_finite(&v) {
                return Err(LoadError::NonFinite { name: name.clone(), index, value, count });
            }
        }
        values.insert(name.clone(), v);
        loaded.push(name.clone());
    }
    Ok(Plan { values, report: LoadReport { loaded, missing, ignored } })
}

/// The first NaN or infinite value of `values` (index, value), and how many there are.
pub(crate) fn non_finite(values: &[f32]) -> Option<(usize, f32, usize)> {
    let index = values.iter().position(|v| !v.is_finite())?;
    let count = values[index..].iter().filter(|v| !v.is_finite()).count();
    Some((index, values[index], count))
}

/// Writes a checked plan into the network.
pub(crate) fn apply<L: Layer + ?Sized>(net: &mut L, mut plan: Plan) -> LoadReport {
    for_each_tensor(net, |name, mut t| {
        if let Some(v) = plan.values.remove(name) {
            let dst = t.value();
            if dst.len() == v.len() {
                dst.copy_from_slice(&v);
            }
        }
    });
    plan.report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::init::Init;
    use crate::layers::Dense;

    /// A [2, 3] weight and a [2] bias: `weight`, `bias`.
    fn net() -> Dense<3, 2> {
        Dense::new(Activation::Linear, Init::GlorotUniform, &mut crate::rng::seeded(1))
    }

    /// A safetensors file built by hand: (name, dtype, shape, little-endian bytes).
    fn file(tensors: &[(&str, &str, &[usize], Vec<u8>)]) -> Vec<u8> {
        let mut header = serde_json::Map::new();
        let mut data = Vec::new();
        for (name, dtype, shape, bytes) in tensors {
            let offsets = [data.len(), data.len() + bytes.len()];
            data.extend_from_slice(bytes);
            header.insert(
                name.to_string(),
                serde_json::json!({ "dtype": dtype, "shape": shape, "data_offsets": offsets }),
            );
        }
        with_header(&serde_json::Value::Object(header).to_string(), &data)
    }

    /// The header's length, the header, the data.
    fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn f32s(v: &[f32]) -> Vec<u8> {
        convert::to_le_bytes(v)
    }

    /// A good file for `net()`: weight 0..6 / 10, bias [-1, 1].
    fn good() -> Vec<u8> {
        let weight: Vec<f32> = (0..6).map(|i| i as f32 / 10.0).collect();
        file(&[("weight", "F32", &[2, 3], f32s(&weight)), ("bias", "F32", &[2], f32s(&[-1.0, 1.0]))])
    }

    /// Loads `bytes` into `net()` with `opts`; on failure, checks the network is unchanged.
    fn load(bytes: &[u8], opts: &LoadOptions<'_>) -> Result<(Dense<3, 2>, LoadReport), LoadError> {
        let mut n = net();
        match load_from_bytes(&mut n, bytes, opts) {
            Ok(report) => Ok((n, report)),
            Err(e) => {
                let (untouched, mut after) = (net(), Vec::new());
                for_each_tensor_ref(&n, |_, t| after.push(t.value().to_vec()));
                let mut before = Vec::new();
                for_each_tensor_ref(&untouched, |_, t| before.push(t.value().to_vec()));
                assert_eq!(after, before, "a failed load changed the network: {e}");
                Err(e)
            }
        }
    }

    fn error(bytes: &[u8]) -> LoadError {
        load(bytes, &LoadOptions::new()).unwrap_err()
    }

    fn message(bytes: &[u8]) -> String {
        error(bytes).to_string()
    }

    #[test]
    fn a_good_file_loads_every_tensor() {
        let (n, report) = load(&good(), &LoadOptions::new()).unwrap();
        assert_eq!(tensor_names(&n), [("weight".to_string(), vec![2, 3]), ("bias".to_string(), vec![2])]);
        assert_eq!(
            report,
            LoadReport { loaded: vec!["weight".into(), "bias".into()], ..LoadReport::default() }
        );
        assert_eq!(get_tensor(&n, "weight"), Some(vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5]));
        assert_eq!(get_tensor(&n, "bias"), Some(vec![-1.0, 1.0]));
        assert_eq!(get_tensor(&n, "gamma"), None);
    }

    #[test]
    fn short_or_truncated_bytes_are_corrupt() {
        let full = good();
        for len in [0, 1, 7] {
            assert_eq!(
                error(&full[..len]),
                LoadError::Corrupt { reason: format!("{len} bytes, too short for the 8-byte header length") }
            );
        }
        let expected = |len: usize| LoadError::Corrupt {
            reason: format!(
                "the header length in the first 8 bytes does not fit the file's {len} bytes (truncated?)"
            ),
        };
        for len in [8, 9, 20] {
            assert_eq!(error(&full[..len]), expected(len));
        }
        // A header length past the end, and one too large for any file.
        let mut past = full.clone();
        past[..8].copy_from_slice(&(full.len() as u64).to_le_bytes());
        assert_eq!(error(&past), expected(full.len()));
        past[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(error(&past), LoadError::Corrupt { .. }));
        // Data cut short, or padded.
        let msg = message(&full[..full.len() - 1]);
        assert_eq!(
            msg,
            format!(
                "<bytes> is not a valid safetensors file: the header's tensors do not cover the file's {} bytes \
                 exactly (truncated or padded?)",
                full.len() - 1
            )
        );
        let padded = [full.as_slice(), &[0; 4]].concat();
        assert!(message(&padded).contains("(truncated or padded?)"));
    }

    #[test]
    fn a_bad_header_is_corrupt() {
        for header in ["{", "[1, 2, 3]", "{\"weight\": 5}", "\u{0}\u{0}"] {
            let err = load(&with_header(header, &[0; 24]), &LoadOptions::new()).unwrap_err();
            assert!(matches!(err, LoadError::Corrupt { .. }), "{header}: {err:?}");
            assert!(
                err.to_string()
                    .starts_with("<bytes> is not a valid safetensors file: invalid JSON in header: "),
                "{err}"
            );
        }
        // Not UTF-8.
        let mut bytes = with_header("{\"a\":1}", &[]);
        bytes[10] = 0xff;
        let err = error(&bytes);
        assert!(
            err.to_string().starts_with("<bytes> is not a valid safetensors file: invalid UTF-8 in header: "),
            "{err}"
        );
    }

    #[test]
    fn a_tensor_whose_bytes_disagree_with_its_shape_is_named() {
        let bytes =
            file(&[("weight", "F32", &[2, 3], f32s(&[0.0; 5])), ("bias", "F32", &[2], f32s(&[0.0; 2]))]);
        assert_eq!(
            message(&bytes),
            "<bytes> is not a valid safetensors file: tensor `weight`: shape [2, 3] of F32 takes 24 bytes, \
             but its data_offsets [0, 20] hold 20"
        );
        let huge = file(&[("weight", "F32", &[usize::MAX, 2], vec![0; 24])]);
        assert_eq!(
            message(&huge),
            format!(
                "<bytes> is not a valid safetensors file: tensor `weight`: shape [{}, 2] of F32 has more \
                 elements than fit in memory",
                usize::MAX
            )
        );
    }

    #[test]
    fn byte_ranges_that_overlap_or_leave_gaps_are_named_the_same_every_time() {
        let header = |tensors: &[(&str, &str, [usize; 2])]| {
            let entries: Vec<String> = tensors
                .iter()
                .map(|(name, shape, [s, e])| {
                    format!(r#""{name}":{{"dtype":"F32","shape":{shape},"data_offsets":[{s},{e}]}}"#)
                })
                .collect();
            format!("{{{}}}", entries.join(","))
        };
        let cases = [
            // The same range twice (the parser's hash map orders these by chance), one of them
            // of the wrong size too.
            (
                header(&[("bias", "[3]", [0, 12]), ("weight", "[2]", [0, 12])]),
                12,
                "tensor `weight`: its data_offsets [0, 12] should start at 12, where those of `bias` end",
            ),
            (
                header(&[("weight", "[2]", [0, 12]), ("bias", "[3]", [0, 12])]),
                12,
                "tensor `weight`: its data_offsets [0, 12] should start at 12, where those of `bias` end",
            ),
            (
                header(&[("bias", "[3]", [0, 12]), ("weight", "[3]", [16, 28])]),
                28,
                "tensor `weight`: its data_offsets [16, 28] should start at 12, where those of `bias` end",
            ),
            (
                header(&[("bias", "[3]", [4, 16])]),
                16,
                "tensor `bias`: its data_offsets [4, 16] should start at 0, where the data starts",
            ),
            (
                header(&[("bias", "[3]", [12, 0])]),
                12,
                "tensor `bias`: its data_offsets [12, 0] end before they start",
            ),
        ];
        for (header, len, expected) in cases {
            for _ in 0..20 {
                assert_eq!(
                    error(&with_header(&header, &vec![0; len])),
                    LoadError::Corrupt { reason: expected.to_string() },
                    "{header}"
                );
            }
        }
    }

    #[test]
    fn a_wrong_shape_names_both() {
        let bytes =
            file(&[("weight", "F32", &[3, 2], f32s(&[0.0; 6])), ("bias", "F32", &[2], f32s(&[0.0; 2]))]);
        let err = load(&bytes, &LoadOptions::new()).unwrap_err();
        assert_eq!(err, LoadError::Shape { name: "weight".into(), expected: vec![2, 3], found: vec![3, 2] });
        assert_eq!(
            err.to_string(),
            "tensor `weight` in <bytes> has shape [3, 2]; the network expects [2, 3]"
        );
    }

    #[test]
    fn missing_and_unexpected_tensors_are_listed_with_suggestions() {
        let weight = || ("weight", "F32", &[2usize, 3][..], f32s(&[0.0; 6]));
        assert_eq!(message(&file(&[weight()])), "<bytes> lacks 1 tensor the network needs: `bias`");
        assert_eq!(
            message(&file(&[weight(), ("biases", "F32", &[2], f32s(&[0.0; 2]))])),
            "<bytes> lacks 1 tensor the network needs: `bias`; it holds 1 tensor the network does not have: `biases`"
        );
        // Names after renames.
        let err = load(&good(), &LoadOptions::new().rename("bias", "bais")).unwrap_err();
        assert_eq!(err, LoadError::Missing { names: vec!["bias".into()], unexpected: vec!["bais".into()] });
        let extra = file(&[
            weight(),
            ("bias", "F32", &[2], f32s(&[0.0; 2])),
            ("weights", "F32", &[1], f32s(&[0.0])),
            ("1.gamma", "F32", &[1], f32s(&[0.0])),
        ]);
        let err = load(&extra, &LoadOptions::new()).unwrap_err();
        assert_eq!(
            err,
            LoadError::Unexpected {
                names: vec!["1.gamma".into(), "weights".into()],
                suggestions: vec![None, Some("weight".into())],
            }
        );
        assert_eq!(
            err.to_string(),
            "<bytes> holds 2 tensors the network does not have: `1.gamma`, `weights` (did you mean `weight`?) \
             (keys like `1.weight` come from a PyTorch nn.Sequential: map them with LoadOptions::rename(\"1\", \"dense_0\"))"
        );
        let (_, report) = load(&extra, &LoadOptions::new().allow_extra(true)).unwrap();
        assert_eq!(report.ignored, ["1.gamma", "weights"]);
        let (n, report) = load(&file(&[weight()]), &LoadOptions::new().allow_missing(true)).unwrap();
        assert_eq!((report.loaded, report.missing), (vec!["weight".to_string()], vec!["bias".to_string()]));
        assert_eq!(get_tensor(&n, "bias"), get_tensor(&net(), "bias"));
    }

    #[test]
    fn two_keys_for_one_tensor_conflict() {
        let bytes = file(&[
            ("weight", "F32", &[2, 3], f32s(&[0.0; 6])),
            ("bias", "F32", &[2], f32s(&[0.0; 2])),
            ("b", "F32", &[2], f32s(&[0.0; 2])),
        ]);
        let err = load(&bytes, &LoadOptions::new().rename("b", "bias")).unwrap_err();
        assert_eq!(
            err,
            LoadError::Conflict { name: "bias".into(), first: "b".into(), second: "bias".into() }
        );
        assert_eq!(err.to_string(), "tensors `b` and `bias` in <bytes> both map to `bias`");
    }

    #[test]
    fn float_dtypes_convert_and_others_are_refused() {
        let weight = ("weight", "F32", &[2usize, 3][..], f32s(&[0.0; 6]));
        let bias = |dtype, bytes| file(&[weight.clone(), ("bias", dtype, &[2], bytes)]);
        let f16: Vec<u8> = [0x3c00u16, 0xc000].iter().flat_map(|v| v.to_le_bytes()).collect(); // 1, -2
        let bf16: Vec<u8> = [0x3f80u16, 0xc040].iter().flat_map(|v| v.to_le_bytes()).collect(); // 1, -3
        let f64: Vec<u8> = [0.1f64, -2.5].iter().flat_map(|v| v.to_le_bytes()).collect();
        for (dtype, bytes, expected) in
            [("F16", f16, [1.0, -2.0]), ("BF16", bf16, [1.0, -3.0]), ("F64", f64, [0.1, -2.5])]
        {
            let (n, _) = load(&bias(dtype, bytes), &LoadOptions::new()).unwrap();
            assert_eq!(get_tensor(&n, "bias"), Some(expected.to_vec()), "{dtype}");
        }
        let err = load(&bias("I64", vec![0; 16]), &LoadOptions::new()).unwrap_err();
        assert_eq!(err, LoadError::Dtype { name: "bias".into(), found: "I64".into() });
        assert_eq!(
            err.to_string(),
            "tensor `bias` in <bytes> has dtype I64; expected F32 (F64, F16 and BF16 are converted)"
        );
        // Skipped by name instead, it keeps the network's values.
        let (_, report) = load(&bias("I64", vec![0; 16]), &LoadOptions::new().skip("bias")).unwrap();
        assert_eq!(report.ignored, ["bias"]);

        let big: Vec<u8> = [1.0f64, 1e300].iter().flat_map(|v| v.to_le_bytes()).collect();
        let err = load(&bias("F64", big), &LoadOptions::new()).unwrap_err();
        assert_eq!(err, LoadError::OutOfRange { name: "bias".into(), index: 1, value: 1e300 });
        assert_eq!(
            err.to_string(),
            "tensor `bias` in <bytes>: value 1e300 at index 1 is outside the range of f32"
        );
    }

    #[test]
    fn non_finite_values_are_refused_unless_allowed() {
        let bytes = file(&[
            ("weight", "F32", &[2, 3], f32s(&[0.0, f32::NAN, 1.0, f32::INFINITY, 2.0, 3.0])),
            ("bias", "F32", &[2], f32s(&[0.0; 2])),
        ]);
        let err = load(&bytes, &LoadOptions::new()).unwrap_err();
        assert!(
            matches!(err, LoadError::NonFinite { ref name, index: 1, count: 2, .. } if name == "weight"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "tensor `weight` in <bytes> holds NaN at index 1 (2 non-finite values); \
             LoadOptions::allow_non_finite(true) loads it anyway"
        );
        let (n, _) = load(&bytes, &LoadOptions::new().allow_non_finite(true)).unwrap();
        assert!(get_tensor(&n, "weight").unwrap()[1].is_nan());
    }

    #[test]
    fn a_late_error_leaves_the_network_unchanged() {
        // `weight` checks out; `bias` (checked after it) does not: nothing is written.
        let bytes = file(&[
            ("weight", "F32", &[2, 3], f32s(&[9.0; 6])),
            ("bias", "F32", &[2], f32s(&[0.0, f32::NAN])),
        ]);
        assert!(matches!(load(&bytes, &LoadOptions::new()), Err(LoadError::NonFinite { .. })));
    }

    #[test]
    fn with_std_the_path_replaces_bytes_in_every_message() {
        use crate::io::WeightError;
        let errors = [
            LoadError::Corrupt { reason: "r".into() },
            LoadError::Missing { names: vec!["a".into()], unexpected: vec!["1.a".into()] },
            LoadError::Unexpected { names: vec!["b".into()], suggestions: vec![Some("a".into())] },
            LoadError::Shape { name: "a".into(), expected: vec![1], found: vec![2] },
            LoadError::Dtype { name: "a".into(), found: "U8".into() },
            LoadError::OutOfRange { name: "a".into(), index: 0, value: 1e39 },
            LoadError::NonFinite { name: "a".into(), index: 0, value: f32::NAN, count: 1 },
            LoadError::Conflict { name: "a".into(), first: "x".into(), second: "y".into() },
        ];
        for e in errors {
            let text = e.to_string();
            assert_eq!(
                e.clone().at("dir/model.safetensors").to_string(),
                text.replace("<bytes>", "dir/model.safetensors")
            );
            assert_eq!(WeightError::from(e).to_string(), text);
        }
    }
}
