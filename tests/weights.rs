//! Weight files and checkpoints: round trips, every error with its message, atomic loads
//! and saves, transfer learning by prefix, tensors by name.

use std::fs;
use std::path::{Path, PathBuf};

use mlp::io::{
    get_tensor, load_checkpoint, load_weights, load_weights_from_bytes, load_weights_with, read_tensors,
    save_checkpoint, save_weights, set_tensor, tensor_names, weights_to_bytes,
};
use mlp::prelude::*;
use rand::{Rng as _, RngCore as _};

network! { Model< input(6); dense(10, relu); batch_norm; residual(relu)< dense(10, relu); dense(10) >; dropout(0.2); dense(3, softmax) > }
network! { Trunk< input(4); dense(8, relu); batch_norm > }
network! { Big< features: Trunk; dense(3, softmax) > }
network! { Narrow< input(784); dense(100) > }
network! { Wide< input(784); dense(300) > }
network! { Tiny< input(3); dense(2) > }
// The same lower layers as `Model` under a new, wider head (Keras: reuse `model_A.layers[:-1]`).
network! { NewHead< input(6); dense(10, relu); batch_norm; residual(relu)< dense(10, relu); dense(10) >; dropout(0.2); dense(5, softmax) > }

/// A fresh directory under the system's temporary directory, removed on drop (the root
/// crate has no `tempfile` dev-dependency).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mlp-weights-test-{}-{n}", std::process::id()));
        fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn input<const N: usize>(n: usize, seed: u64) -> Batch<N> {
    let mut rng = mlp::rng::seeded(seed);
    let v: Vec<f32> = (0..n * N).map(|_| rng.random_range(-2.0..2.0)).collect();
    Batch::from_samples(&v).expect("n * N values")
}

/// Every tensor of `net`, by name, in visit order.
fn all_tensors<L: Layer>(net: &mut L) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    mlp::tensors::for_each_tensor(net, |n, mut t| out.push((n.to_string(), t.value().to_vec())));
    out
}

/// Gives batch norm's running statistics values far from their 0/1 start, so a loader that
/// forgot the buffers would be caught.
fn perturb_buffers<L: Layer>(net: &mut L, seed: u64) {
    let mut rng = mlp::rng::seeded(seed);
    mlp::tensors::for_each_tensor(net, |_, t| {
        if let mlp::tensors::Tensor::Buffer { value, .. } = t {
            value.iter_mut().for_each(|v| *v = rng.random_range(0.5..1.5));
        }
    });
}

/// Builds a safetensors file by hand: (name, dtype, shape, little-endian bytes).
fn safetensors_file(tensors: &[(&str, &str, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut header = String::from("{");
    let mut data = Vec::new();
    for (i, (name, dtype, shape, bytes)) in tensors.iter().enumerate() {
        let (start, end) = (data.len(), data.len() + bytes.len());
        data.extend_from_slice(bytes);
        let sep = if i == 0 { "" } else { "," };
        header.push_str(&format!(
            r#"{sep}"{name}":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{start},{end}]}}"#
        ));
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The tensors of `net` as a hand-built file, with `edit` applied to the list first.
fn file_of<L: Layer>(
    net: &mut L,
    edit: impl FnOnce(&mut Vec<(String, String, Vec<usize>, Vec<u8>)>),
) -> Vec<u8> {
    let mut list: Vec<(String, String, Vec<usize>, Vec<u8>)> = tensor_names(net)
        .into_iter()
        .map(|(n, s)| {
            let v = get_tensor(net, &n).unwrap_or_default();
            (n, "F32".to_string(), s, f32_bytes(&v))
        })
        .collect();
    edit(&mut list);
    let refs: Vec<(&str, &str, Vec<usize>, Vec<u8>)> =
        list.iter().map(|(n, d, s, b)| (n.as_str(), d.as_str(), s.clone(), b.clone())).collect();
    safetensors_file(&refs)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).expect("temp dir is writable");
    path
}

fn leftover_temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn round_trip_gives_identical_tensors_and_predictions() -> Result {
    let dir = TempDir::new()?;
    let path = dir.path().join("model.safetensors");
    let mut net = Model::seeded(1);
    perturb_buffers(&mut net, 2);
    net.save(&path)?;

    let mut other = Model::seeded(99);
    assert_ne!(all_tensors(&mut other), all_tensors(&mut net));
    other.load(&path)?;
    assert_eq!(all_tensors(&mut other), all_tensors(&mut net));
    let x = input::<6>(5, 3);
    assert_eq!(other.predict(&x).as_slice(), net.predict(&x).as_slice());

    // The file holds PyTorch's names and shapes, nothing else, all F32.
    let file: Vec<(String, Vec<usize>)> = read_tensors(&path)?.into_iter().map(|(n, s, _)| (n, s)).collect();
    let mut expected = tensor_names(&net);
    expected.sort();
    assert_eq!(file, expected);
    assert!(file.contains(&("dense_0.weight".to_string(), vec![10, 6])));
    assert!(file.contains(&("residual_0.dense_1.bias".to_string(), vec![10])));
    assert!(file.contains(&("batch_norm_0.running_var".to_string(), vec![10])));

    // Same network, same bytes; and the in-memory form is the file.
    let again = dir.path().join("again.safetensors");
    save_weights(&net, &again)?;
    assert_eq!(fs::read(&again)?, fs::read(&path)?);
    assert_eq!(weights_to_bytes(&net)?, fs::read(&path)?);
    let mut third = Model::seeded(7);
    load_weights_from_bytes(&mut third, &fs::read(&path)?, &LoadOptions::new())?;
    assert_eq!(all_tensors(&mut third), all_tensors(&mut net));
    Ok(())
}

#[test]
fn skipping_a_layer_by_name_loads_the_rest_and_keeps_its_own_values() -> Result {
    let bytes = weights_to_bytes(&Model::seeded(1))?;
    let mut net = NewHead::seeded(2);
    let head = (net.get_tensor("dense_1.weight"), net.get_tensor("dense_1.bias"));
    // Strictly, the head's shapes differ; skipping the layer by name loads everything else.
    assert!(load_weights_from_bytes(&mut net, &bytes, &LoadOptions::new()).is_err());
    let report = load_weights_from_bytes(&mut net, &bytes, &LoadOptions::new().skip("dense_1"))?;
    assert!(report.missing.is_empty(), "{report:?}");
    assert_eq!((net.get_tensor("dense_1.weight"), net.get_tensor("dense_1.bias")), head);
    assert_eq!(
        net.get_tensor("residual_0.dense_1.weight"),
        Model::seeded(1).get_tensor("residual_0.dense_1.weight")
    );
    Ok(())
}

#[test]
fn missing_tensors_are_all_listed_with_the_file() -> Result {
    let dir = TempDir::new()?;
    let bytes = file_of(&mut Model::seeded(1), |l| l.retain(|(n, ..)| !n.starts_with("residual_0.")));
    let path = write(dir.path(), "model.safetensors", &bytes);
    let err = load_weights(&mut Model::seeded(2), &path).unwrap_err();
    assert!(matches!(&err, WeightError::Missing { names, .. } if names.len() == 4), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{} lacks 4 tensors the network needs: `residual_0.dense_0.weight`, `residual_0.dense_0.bias`, \
             `residual_0.dense_1.weight`, `residual_0.dense_1.bias`",
            path.display()
        )
    );

    // A misnamed tensor is missing under one name and unexpected under the other.
    let bytes = file_of(&mut Model::seeded(1), |l| l[1].0 = "dense_0.biases".to_string());
    let path = write(dir.path(), "renamed.safetensors", &bytes);
    let err = load_weights(&mut Model::seeded(2), &path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} lacks 1 tensor the network needs: `dense_0.bias`; it holds 1 tensor the network does not \
             have: `dense_0.biases`",
            path.display()
        )
    );
    Ok(())
}

#[test]
fn extra_tensors_are_named_with_a_suggestion() -> Result {
    let dir = TempDir::new()?;
    let bytes = file_of(&mut Tiny::seeded(1), |l| {
        l.push(("dense_0.wieght".into(), "F32".into(), vec![1], f32_bytes(&[1.0])));
        l.push(("dense_7.running_mean".into(), "F32".into(), vec![1], f32_bytes(&[1.0])));
    });
    let path = write(dir.path(), "tiny.safetensors", &bytes);
    let mut net = Tiny::seeded(2);
    let before = all_tensors(&mut net);
    let err = net.load(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} holds 2 tensors the network does not have: `dense_0.wieght` (did you mean `dense_0.weight`?), \
             `dense_7.running_mean`",
            path.display()
        )
    );
    assert_eq!(all_tensors(&mut net), before);

    // allow_extra loads the rest and reports what it ignored.
    let report = net.load_with(&path, &LoadOptions::new().allow_extra(true))?;
    assert_eq!(report.loaded, ["dense_0.weight", "dense_0.bias"]);
    assert_eq!(report.ignored, ["dense_0.wieght", "dense_7.running_mean"]);
    assert_eq!(all_tensors(&mut net), all_tensors(&mut Tiny::seeded(1)));

    // Two keys renamed onto one tensor: both named, nothing written.
    let before = all_tensors(&mut net);
    let opts = LoadOptions::new().map(|k| Some(k.replace("wieght", "weight")));
    let err = net.load_with(&path, &opts.allow_extra(true)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "tensors `dense_0.weight` and `dense_0.wieght` in {} both map to `dense_0.weight`",
            path.display()
        )
    );
    assert_eq!(all_tensors(&mut net), before);
    Ok(())
}

#[test]
fn a_pytorch_style_file_gets_a_hint_about_key_maps() -> Result {
    let dir = TempDir::new()?;
    let bytes = file_of(&mut Tiny::seeded(1), |l| {
        for t in l.iter_mut() {
            t.0 = t.0.replace("dense_0", "0");
        }
    });
    let path = write(dir.path(), "torch.safetensors", &bytes);
    let err = load_weights(&mut Tiny::seeded(2), &path).unwrap_err().to_string();
    assert!(err.contains("lacks 2 tensors the network needs: `dense_0.weight`, `dense_0.bias`"), "{err}");
    assert!(err.contains("LoadOptions::rename(\"1\", \"dense_0\")"), "{err}");
    load_weights_with(&mut Tiny::seeded(2), &path, &LoadOptions::new().rename("0", "dense_0"))?;
    Ok(())
}

#[test]
fn wrong_shape_names_the_tensor_and_both_shapes() -> Result {
    let dir = TempDir::new()?;
    let path = dir.path().join("model.safetensors");
    Narrow::seeded(1).save(&path)?;
    let err = Wide::seeded(2).load(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "tensor `dense_0.weight` in {} has shape [100, 784]; the network expects [300, 784]",
            path.display()
        )
    );
    assert!(matches!(err, WeightError::Shape { ref expected, ref found, .. }
        if expected == &[300, 784] && found == &[100, 784]));

    // A transposed kernel (Keras' [in, out] layout) is caught too.
    let bytes = file_of(&mut Tiny::seeded(1), |l| l[0].2 = vec![3, 2]);
    let path = write(dir.path(), "keras.safetensors", &bytes);
    let err = load_weights(&mut Tiny::seeded(1), &path).unwrap_err().to_string();
    assert!(err.ends_with("has shape [3, 2]; the network expects [2, 3]"), "{err}");
    Ok(())
}

#[test]
fn wrong_dtype_is_refused_and_float_dtypes_convert() -> Result {
    let dir = TempDir::new()?;
    let int = file_of(&mut Tiny::seeded(1), |l| {
        l[1] = (
            "dense_0.bias".into(),
            "I64".into(),
            vec![2],
            [3i64, 4].iter().flat_map(|v| v.to_le_bytes()).collect(),
        )
    });
    let path = write(dir.path(), "int.safetensors", &int);
    let err = load_weights(&mut Tiny::seeded(1), &path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "tensor `dense_0.bias` in {} has dtype I64; expected F32 (F64, F16 and BF16 are converted)",
            path.display()
        )
    );

    // F64 rounds to f32, F16 widens exactly.
    let weight: Vec<f64> = vec![0.1, -0.2, 0.3, 1e-3, 5.0, -6.0];
    let f64_bytes: Vec<u8> = weight.iter().flat_map(|v| v.to_le_bytes()).collect();
    let f16_bytes: Vec<u8> = [0x3c00u16, 0xc000].iter().flat_map(|v| v.to_le_bytes()).collect();
    let bytes = safetensors_file(&[
        ("dense_0.weight", "F64", vec![2, 3], f64_bytes),
        ("dense_0.bias", "F16", vec![2], f16_bytes),
    ]);
    let path = write(dir.path(), "mixed.safetensors", &bytes);
    let mut net = Tiny::seeded(1);
    net.load(&path)?;
    assert_eq!(net.get_tensor("dense_0.weight"), Some(weight.iter().map(|&v| v as f32).collect()));
    assert_eq!(net.get_tensor("dense_0.bias"), Some(vec![1.0, -2.0]));

    // An F64 beyond f32's range is an error, not an infinity.
    let huge: Vec<u8> = [1.0f64, 1e300].iter().flat_map(|v| v.to_le_bytes()).collect();
    let bytes =
        file_of(&mut Tiny::seeded(1), |l| l[1] = ("dense_0.bias".into(), "F64".into(), vec![2], huge));
    let path = write(dir.path(), "huge.safetensors", &bytes);
    let err = load_weights(&mut Tiny::seeded(1), &path).unwrap_err().to_string();
    assert!(err.contains("tensor `dense_0.bias`") && err.contains("value 1e300 at index 1"), "{err}");
    Ok(())
}

#[test]
fn a_tensor_whose_bytes_disagree_with_its_shape_is_named() -> Result {
    let dir = TempDir::new()?;
    // 20 bytes for a [2, 3] F32 kernel (24), then a correct bias.
    let bytes = safetensors_file(&[
        ("dense_0.weight", "F32", vec![2, 3], vec![0; 20]),
        ("dense_0.bias", "F32", vec![2], vec![0; 8]),
    ]);
    let path = write(dir.path(), "short.safetensors", &bytes);
    let err = load_weights(&mut Tiny::seeded(1), &path).unwrap_err();
    assert!(matches!(err, WeightError::Corrupt { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{} is not a valid safetensors file: tensor `dense_0.weight`: shape [2, 3] of F32 takes 24 bytes, \
             but its data_offsets [0, 20] hold 20",
            path.display()
        )
    );
    // A shape whose element count overflows.
    let bytes = safetensors_file(&[("dense_0.bias", "F32", vec![usize::MAX, 2], vec![0; 8])]);
    let err = read_tensors(write(dir.path(), "huge.safetensors", &bytes)).unwrap_err().to_string();
    assert!(err.ends_with("tensor `dense_0.bias`: shape [18446744073709551615, 2] of F32 has more elements than fit in memory"), "{err}");
    Ok(())
}

#[test]
fn non_finite_values_are_refused_by_name_unless_allowed() -> Result {
    let dir = TempDir::new()?;
    let f16_inf: Vec<u8> = [0x3c00u16, 0x7c00].iter().flat_map(|v| v.to_le_bytes()).collect();
    let f64_nan: Vec<u8> =
        [0.5f64, -1.0, f64::NAN, 0.0, 1.0, f64::NAN].iter().flat_map(|v| v.to_le_bytes()).collect();
    let cases = [
        (
            file_of(&mut Tiny::seeded(1), |l| l[1].3 = f32_bytes(&[f32::NAN, 1.0])),
            "tensor `dense_0.bias` in {} holds NaN at index 0 (1 non-finite value)",
        ),
        (
            file_of(&mut Tiny::seeded(1), |l| l[1] = ("dense_0.bias".into(), "F16".into(), vec![2], f16_inf)),
            "tensor `dense_0.bias` in {} holds inf at index 1 (1 non-finite value)",
        ),
        (
            file_of(&mut Tiny::seeded(1), |l| {
                l[0] = ("dense_0.weight".into(), "F64".into(), vec![2, 3], f64_nan)
            }),
            "tensor `dense_0.weight` in {} holds NaN at index 2 (2 non-finite values)",
        ),
    ];
    for (i, (bytes, message)) in cases.into_iter().enumerate() {
        let path = write(dir.path(), &format!("bad{i}.safetensors"), &bytes);
        let mut net = Tiny::seeded(2);
        let before = all_tensors(&mut net);
        let err = net.load(&path).unwrap_err();
        let expected = message.replace("{}", &path.display().to_string())
            + "; LoadOptions::allow_non_finite(true) loads it anyway";
        assert_eq!(err.to_string(), expected);
        assert!(matches!(err, WeightError::NonFinite { .. }));
        assert_eq!(all_tensors(&mut net), before);
        // The same through the in-memory loader, and deliberately allowed.
        let err = load_weights_from_bytes(&mut net, &bytes, &LoadOptions::new()).unwrap_err().to_string();
        assert!(err.contains("in <bytes> holds"), "{err}");
        net.load_with(&path, &LoadOptions::new().allow_non_finite(true))?;
        assert!(all_tensors(&mut net).iter().any(|(_, v)| v.iter().any(|x| !x.is_finite())));
    }

    // A checkpoint is a weight file: a diverged one's weights can still be looked at.
    let mut diverged = Tiny::seeded(1);
    mlp::tensors::for_each_tensor(&mut diverged, |_, mut t| t.value()[0] = f32::NAN);
    let path = dir.path().join("diverged.safetensors");
    diverged.save(&path)?;
    assert!(Tiny::seeded(1).load(&path).is_err());
    Tiny::seeded(1).load_with(&path, &LoadOptions::new().allow_non_finite(true))?;

    // set_tensor refuses them, changing nothing.
    let mut net = Tiny::seeded(1);
    let before = net.get_tensor("dense_0.weight");
    let err =
        net.set_tensor("dense_0.weight", &[0.0, 1.0, 2.0, f32::NEG_INFINITY, 4.0, f32::NAN]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `dense_0.weight` would hold -inf at index 3 (2 non-finite values); set_tensor takes finite values only"
    );
    assert_eq!(net.get_tensor("dense_0.weight"), before);
    Ok(())
}

#[test]
fn truncated_files_are_errors_that_name_the_file() -> Result {
    let dir = TempDir::new()?;
    let path = dir.path().join("model.safetensors");
    Model::seeded(1).save(&path)?;
    let full = fs::read(&path)?;
    let mut net = Model::seeded(2);
    let before = all_tensors(&mut net);
    for len in [0, 1, 7, 8, 9, 20, 100, full.len() / 2, full.len() - 4, full.len() - 1] {
        let cut = write(dir.path(), "cut.safetensors", &full[..len]);
        let err = net.load(&cut).unwrap_err();
        assert!(matches!(err, WeightError::Corrupt { .. }), "{len}: {err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("{} is not a valid safetensors file: ", cut.display())), "{msg}");
    }
    // Header length pointing past the end: says so.
    let cut = write(dir.path(), "cut.safetensors", &full[..full.len() - 1]);
    let msg = net.load(&cut).unwrap_err().to_string();
    assert!(msg.contains("truncated"), "{msg}");
    // Padding after the data is refused too.
    let mut padded = full.clone();
    padded.extend_from_slice(&[0; 4]);
    let path2 = write(dir.path(), "padded.safetensors", &padded);
    assert!(matches!(net.load(&path2), Err(WeightError::Corrupt { .. })));
    assert_eq!(all_tensors(&mut net), before);
    Ok(())
}

#[test]
fn random_bytes_and_other_files_are_errors_never_panics() -> Result {
    let dir = TempDir::new()?;
    let mut rng = mlp::rng::seeded(5);
    let mut net = Tiny::seeded(0);
    let path = dir.path().join("junk.safetensors");
    for i in 0..300 {
        let len = rng.random_range(0..400);
        let mut bytes = vec![0u8; len];
        rng.fill_bytes(&mut bytes);
        if i % 3 == 0 && len >= 8 {
            // A plausible header length, so the parser gets to the JSON.
            let n = rng.random_range(0..len as u64);
            bytes[..8].copy_from_slice(&n.to_le_bytes());
        }
        fs::write(&path, &bytes)?;
        assert!(matches!(net.load(&path), Err(WeightError::Corrupt { .. })), "case {i}");
        assert!(load_weights_from_bytes(&mut net, &bytes, &LoadOptions::new()).is_err());
    }
    // Valid JSON headers with inconsistent contents.
    for header in [
        r#"{"dense_0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,4]}}"#,
        r#"{"dense_0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]}}"#,
        r#"{"dense_0.weight":{"dtype":"F99","shape":[2,3],"data_offsets":[0,24]}}"#,
        r#"{"dense_0.weight":{"dtype":"F32","shape":[18446744073709551615,2],"data_offsets":[0,24]}}"#,
        r#"[1, 2, 3]"#,
    ] {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0; 24]);
        fs::write(&path, &bytes)?;
        assert!(matches!(net.load(&path), Err(WeightError::Corrupt { .. })), "{header}");
    }

    let text = write(dir.path(), "notes.txt", b"these are not the weights you are looking for\n");
    let msg = net.load(&text).unwrap_err().to_string();
    assert!(msg.starts_with(&format!("{} is not a valid safetensors file", text.display())), "{msg}");

    let nowhere = dir.path().join("no-such-file.safetensors");
    let err = net.load(&nowhere).unwrap_err();
    assert!(matches!(err, WeightError::Io { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&nowhere.display().to_string()), "{err}");
    Ok(())
}

#[test]
fn a_failed_load_leaves_the_network_unchanged() -> Result {
    let dir = TempDir::new()?;
    // Every tensor right except the last one's shape: the earlier ones must not be written.
    let bytes = file_of(&mut Model::seeded(1), |l| {
        let last = l.len() - 1;
        l[last].2 = vec![1, 3];
    });
    let path = write(dir.path(), "bad-last.safetensors", &bytes);
    let mut net = Model::seeded(2);
    perturb_buffers(&mut net, 3);
    let before = all_tensors(&mut net);
    let err = net.load(&path).unwrap_err();
    assert!(matches!(err, WeightError::Shape { ref name, .. } if name == "dense_1.bias"), "{err:?}");
    assert_eq!(all_tensors(&mut net), before);

    // Likewise for a wrong dtype in the last tensor, and for a checkpoint.
    let bytes = file_of(&mut Model::seeded(1), |l| {
        let last = l.len() - 1;
        l[last].1 = "I32".into();
    });
    let path = write(dir.path(), "bad-dtype.safetensors", &bytes);
    assert!(matches!(net.load(&path), Err(WeightError::Dtype { .. })));
    assert!(load_checkpoint(&path, &mut net).is_err());
    assert_eq!(all_tensors(&mut net), before);
    Ok(())
}

#[test]
fn a_failed_save_leaves_the_earlier_file_intact() -> Result {
    let dir = TempDir::new()?;
    let path = dir.path().join("model.safetensors");
    let mut first = Model::seeded(1);
    first.save(&path)?;
    let saved = fs::read(&path)?;

    // Into a directory that does not exist: an IO error naming the file.
    let mut second = Model::seeded(2);
    let missing_dir = dir.path().join("no-such-dir").join("model.safetensors");
    let err = second.save(&missing_dir).unwrap_err();
    assert!(matches!(err, WeightError::Io { ref path, .. } if path == &missing_dir), "{err:?}");
    assert!(err.to_string().starts_with(&missing_dir.display().to_string()), "{err}");

    // Over something the rename cannot replace (a non-empty directory): the temporary file
    // was fully written, then the rename failed; it is removed and the directory untouched.
    let occupied = dir.path().join("occupied.safetensors");
    fs::create_dir(&occupied)?;
    fs::write(occupied.join("keep"), b"keep")?;
    assert!(matches!(second.save(&occupied), Err(WeightError::Io { .. })));
    assert_eq!(fs::read(occupied.join("keep"))?, b"keep");

    assert_eq!(fs::read(&path)?, saved);
    assert_eq!(leftover_temporaries(dir.path()), Vec::<String>::new());
    let mut check = Model::seeded(3);
    check.load(&path)?;
    assert_eq!(all_tensors(&mut check), all_tensors(&mut first));

    // A successful save replaces the file whole.
    second.save(&path)?;
    check.load(&path)?;
    assert_eq!(all_tensors(&mut check), all_tensors(&mut second));
    assert_eq!(leftover_temporaries(dir.path()), Vec::<String>::new());
    Ok(())
}

#[test]
fn a_trunk_loads_from_a_bigger_networks_file_by_prefix() -> Result {
    let dir = TempDir::new()?;
    let path = dir.path().join("big.safetensors");
    let mut big = Big::seeded(1);
    perturb_buffers(&mut big, 4);
    big.save(&path)?;

    let mut trunk = Trunk::seeded(2);
    let report = trunk.load_with(&path, &LoadOptions::new().prefix("features."))?;
    assert_eq!(
        report.loaded,
        [
            "dense_0.weight",
            "dense_0.bias",
            "batch_norm_0.weight",
            "batch_norm_0.bias",
            "batch_norm_0.running_mean",
            "batch_norm_0.running_var"
        ]
    );
    assert_eq!(report.ignored, ["dense_0.bias", "dense_0.weight"]);
    assert!(report.missing.is_empty());
    for (name, value) in all_tensors(&mut trunk) {
        assert_eq!(Some(value), big.get_tensor(&format!("features.{name}")), "{name}");
    }
    // The trunk computes what the big network's features do.
    let x = input::<4>(3, 9);
    let mut ctx = Context::infer();
    big.features.forward(&x, &mut ctx);
    assert_eq!(trunk.predict(&x).as_slice(), big.features.output().as_slice());

    // Without the prefix only the head's `dense_0` matches by name; batch norm is missing.
    let err = Trunk::seeded(2).load(&path).unwrap_err().to_string();
    assert!(err.contains("lacks 4 tensors"), "{err}");

    // The other way: a trunk's file into a fresh big network's `features`, head untouched.
    let trunk_path = dir.path().join("trunk.safetensors");
    trunk.save(&trunk_path)?;
    let mut fresh = Big::seeded(5);
    let head_before = fresh.get_tensor("dense_0.weight");
    let report =
        fresh.load_with(&trunk_path, &LoadOptions::new().rename("", "features").allow_missing(true))?;
    assert_eq!(report.missing, ["dense_0.weight", "dense_0.bias"]);
    assert_eq!(fresh.get_tensor("dense_0.weight"), head_before);
    assert_eq!(
        fresh.get_tensor("features.batch_norm_0.running_mean"),
        big.get_tensor("features.batch_norm_0.running_mean")
    );
    Ok(())
}

#[test]
fn tensors_by_name_in_memory() -> Result {
    let mut net = Model::seeded(1);
    let names = net.tensor_names();
    assert_eq!(names.len(), 12);
    assert_eq!(names[0], ("dense_0.weight".to_string(), vec![10, 6]));
    assert_eq!(names[4], ("batch_norm_0.running_mean".to_string(), vec![10]));

    let w: Vec<f32> = (0..60).map(|i| i as f32 / 10.0).collect();
    set_tensor(&mut net, "dense_0.weight", &w)?;
    assert_eq!(get_tensor(&net, "dense_0.weight"), Some(w.clone()));
    // PyTorch layout: row o of the [out, in] kernel is unit o's weights.
    let mut x = Batch::<6>::zeros(1);
    x.as_mut_slice()[2] = 1.0;
    let mut ctx = Context::infer();
    net.dense_0.forward(&x, &mut ctx);
    let out = net.dense_0.output().as_slice().to_vec();
    let expect: Vec<f32> = (0..10).map(|o| w[o * 6 + 2].max(0.0)).collect();
    assert_eq!(out, expect);

    assert_eq!(net.get_tensor("dense_9.weight"), None);
    let err = net.set_tensor("batchnorm_0.running_var", &[0.0; 10]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the network has no tensor `batchnorm_0.running_var` (did you mean `batch_norm_0.running_var`?)"
    );
    let err = net.set_tensor("dense_0.weight", &[0.0; 59]).unwrap_err();
    assert_eq!(err.to_string(), "tensor `dense_0.weight` has shape [10, 6] (60 values); got 59 values");
    assert_eq!(net.get_tensor("dense_0.weight"), Some(w));
    Ok(())
}

/// One fake training step: every trainable tensor gets a gradient derived from its values.
fn step<L: Layer, O: Optimizer>(net: &mut L, opt: &mut O) {
    opt.begin_step();
    let mut slot = 0;
    mlp::tensors::for_each_tensor(net, |_, t| {
        if let mlp::tensors::Tensor::Param(p) = t {
            let grad: Vec<f32> = p.value.iter().map(|v| (v * 3.0).sin() + 0.1).collect();
            opt.update(slot, p.value, &grad);
            slot += 1;
        }
    });
}

#[test]
fn checkpoints_resume_bit_identically() -> Result {
    let dir = TempDir::new()?;
    let path = dir.path().join("ckpt.safetensors");
    let mut net = Model::seeded(1);
    perturb_buffers(&mut net, 6);
    let mut opt = Adam::new(0.01);
    for _ in 0..3 {
        step(&mut net, &mut opt);
    }
    let mut rng = mlp::rng::seeded(11);
    let _ = rng.random::<u32>();
    let mut state = CheckpointState::of(4, &opt, &rng);
    state.extra = vec![("best_loss".into(), "0.25".into()), ("note".into(), "a \"quoted\"\nline".into())];
    save_checkpoint(&path, &net, &state)?;

    let mut resumed = Model::seeded(2);
    let loaded = load_checkpoint(&path, &mut resumed)?;
    assert_eq!(loaded, state);
    assert_eq!(loaded.epoch, 4);
    assert_eq!((loaded.optimizer_name.as_str(), loaded.optimizer_iterations), ("adam", 3));
    assert_eq!(loaded.extra("note"), Some("a \"quoted\"\nline"));
    assert_eq!(all_tensors(&mut resumed), all_tensors(&mut net));

    // The generator continues the same stream.
    let mut rng2 = loaded.rng.restore();
    for _ in 0..10 {
        assert_eq!(rng.random::<u64>(), rng2.random::<u64>());
    }

    // The optimizer continues the same trajectory, bit for bit.
    let mut opt2 = Adam::new(0.01);
    loaded.restore_optimizer(&mut opt2)?;
    for _ in 0..2 {
        step(&mut net, &mut opt);
        step(&mut resumed, &mut opt2);
    }
    assert_eq!(all_tensors(&mut resumed), all_tensors(&mut net));

    // A checkpoint is a weight file too; the same state gives the same bytes.
    let mut plain = Model::seeded(3);
    load_weights(&mut plain, &path)?;
    let again = dir.path().join("again.safetensors");
    let mut net_again = Model::seeded(2);
    load_checkpoint(&path, &mut net_again)?;
    save_checkpoint(&again, &net_again, &state)?;
    assert_eq!(fs::read(&again)?, fs::read(&path)?);

    // Another optimizer's state is refused by name.
    let err = loaded.restore_optimizer(&mut Sgd::new(0.1)).unwrap_err();
    assert_eq!(err.to_string(), "the checkpoint holds the state of optimizer `adam`, not `SGD`");
    Ok(())
}

#[test]
fn checkpoint_errors_name_the_file() -> Result {
    let dir = TempDir::new()?;
    let weights = dir.path().join("weights.safetensors");
    Tiny::seeded(1).save(&weights)?;
    let err = load_checkpoint(&weights, &mut Tiny::seeded(1)).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: not a checkpoint: no `mlp.checkpoint` metadata (a plain weight file? use load_weights)",
            weights.display()
        )
    );

    // An optimizer tensor listed in the metadata but absent from the file.
    let state = CheckpointState {
        epoch: 1,
        optimizer_name: "SGD".into(),
        optimizer_iterations: 7,
        optimizer: vec![("0.momentum".into(), vec![0.5; 6]), ("learning_rate".into(), vec![0.1])],
        rng: RngState::of(&mlp::rng::seeded(0)),
        extra: vec![],
    };
    let ckpt = dir.path().join("ckpt.safetensors");
    save_checkpoint(&ckpt, &Tiny::seeded(1), &state)?;
    let bytes = fs::read(&ckpt)?;
    let n = u64::from_le_bytes(bytes[..8].try_into()?) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + n])?;
    // Inside the metadata string, quotes are escaped; keep the header's length.
    let renamed = header.replace(r#"learning_rate\"]"#, r#"learning_rat\"] "#);
    assert_ne!(renamed, header);
    let mut edited = bytes[..8].to_vec();
    edited.extend_from_slice(renamed.as_bytes());
    edited.extend_from_slice(&bytes[8 + n..]);
    let path = write(dir.path(), "edited.safetensors", &edited);
    let err = load_checkpoint(&path, &mut Tiny::seeded(1)).unwrap_err().to_string();
    assert_eq!(
        err,
        format!("{}: optimizer state tensor `__optimizer.learning_rat` is missing", path.display())
    );

    // Truncated checkpoints are corrupt files.
    let cut = write(dir.path(), "cut.safetensors", &bytes[..bytes.len() - 3]);
    assert!(matches!(load_checkpoint(&cut, &mut Tiny::seeded(1)), Err(WeightError::Corrupt { .. })));
    Ok(())
}

#[test]
fn saving_and_reading_need_only_a_shared_reference() -> Result {
    let dir = TempDir::new()?;
    let mut trained = Model::seeded(1);
    perturb_buffers(&mut trained, 3);
    let net: &Model = &trained;
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    save_weights(net, &a)?;
    net.save(&b)?;
    let opt = Adam::new(0.01);
    save_checkpoint(&c, net, &CheckpointState::of(1, &opt, &mlp::rng::seeded(0)))?;
    let bytes = weights_to_bytes(net)?;
    let names = tensor_names(net);
    assert_eq!(names, net.tensor_names());
    assert_eq!(get_tensor(net, "batch_norm_0.running_var"), net.get_tensor("batch_norm_0.running_var"));
    assert_eq!(mlp::tensors::snapshot(net).len(), names.len());

    let expected = all_tensors(&mut trained.clone());
    for path in [&a, &b] {
        let mut other = Model::seeded(2);
        load_weights(&mut other, path)?;
        assert_eq!(all_tensors(&mut other), expected);
    }
    let mut other = Model::seeded(2);
    load_checkpoint(&c, &mut other)?;
    assert_eq!(all_tensors(&mut other), expected);
    let mut other = Model::seeded(2);
    load_weights_from_bytes(&mut other, &bytes, &LoadOptions::new())?;
    assert_eq!(all_tensors(&mut other), expected);
    Ok(())
}

/// A layer written by hand, not by `network!`: `y = x * scale + shift`, with a learned scale
/// and a running maximum kept as a buffer. Its tensors must reach files through `visit_ref`.
#[derive(Clone)]
struct ScaleShift {
    scale: Vec<f32>,
    scale_grad: Vec<f32>,
    shift: Vec<f32>,
    shift_grad: Vec<f32>,
    running_max: Vec<f32>,
    trainable: bool,
    out: Batch<3>,
    dx: Batch<3>,
}

impl ScaleShift {
    fn new(seed: u64) -> Self {
        let mut rng = mlp::rng::seeded(seed);
        let mut draw = || (0..3).map(|_| rng.random_range(-1.0f32..1.0)).collect::<Vec<_>>();
        ScaleShift {
            scale: draw(),
            scale_grad: vec![0.0; 3],
            shift: draw(),
            shift_grad: vec![0.0; 3],
            running_max: draw(),
            trainable: true,
            out: Batch::zeros(0),
            dx: Batch::zeros(0),
        }
    }
}

impl Layer for ScaleShift {
    const IN: usize = 3;
    const OUT: usize = 3;
    type Input = Batch<3>;
    type Output = Batch<3>;

    fn forward(&mut self, x: &Batch<3>, _ctx: &mut Context) {
        self.out.copy_from(x);
        for y in self.out.as_mut_slice().chunks_exact_mut(3) {
            let per_feature = self.scale.iter().zip(&self.shift).zip(&mut self.running_max);
            for (y, ((s, b), m)) in y.iter_mut().zip(per_feature) {
                *m = m.max(*y);
                *y = *y * s + b;
            }
        }
    }

    fn output(&self) -> &Batch<3> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<3>, dy: &Batch<3>, how: Backward) {
        if self.trainable {
            for (x, g) in x.as_slice().chunks_exact(3).zip(dy.as_slice().chunks_exact(3)) {
                let grads = self.scale_grad.iter_mut().zip(&mut self.shift_grad);
                for ((x, g), (ds, db)) in x.iter().zip(g).zip(grads) {
                    *ds += x * g;
                    *db += g;
                }
            }
        }
        if how.input_grad {
            self.dx.copy_from(dy);
            for d in self.dx.as_mut_slice().chunks_exact_mut(3) {
                d.iter_mut().zip(&self.scale).for_each(|(d, s)| *d *= s);
            }
        }
    }

    fn input_grad(&self) -> &Batch<3> {
        &self.dx
    }

    fn visit(&mut self, v: &mut dyn Visitor) {
        let (trainable, shape) = (self.trainable, &[3][..]);
        let (value, grad) = (&mut self.scale, &mut self.scale_grad);
        v.param("scale", Param { value, grad, shape, trainable, l1: 0.0, l2: 0.0 });
        let (value, grad) = (&mut self.shift, &mut self.shift_grad);
        v.param("shift", Param { value, grad, shape, trainable, l1: 0.0, l2: 0.0 });
        v.buffer("running_max", &mut self.running_max, shape);
    }

    fn visit_ref(&self, v: &mut dyn VisitorRef) {
        let (trainable, shape) = (self.trainable, &[3][..]);
        let (value, grad) = (&self.scale, &self.scale_grad);
        v.param("scale", ParamRef { value, grad, shape, trainable, l1: 0.0, l2: 0.0 });
        let (value, grad) = (&self.shift, &self.shift_grad);
        v.param("shift", ParamRef { value, grad, shape, trainable, l1: 0.0, l2: 0.0 });
        v.buffer("running_max", &self.running_max, shape);
    }

    fn set_trainable(&mut self, trainable: bool) {
        self.trainable = trainable;
    }
}

#[test]
fn a_hand_written_layer_saves_and_loads_every_tensor() -> Result {
    let dir = TempDir::new()?;
    let path = dir.path().join("scale_shift.safetensors");
    let layer = ScaleShift::new(1);
    layer.save(&path)?;
    let names: Vec<String> = read_tensors(&path)?.into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(names, ["running_max", "scale", "shift"]);

    let mut other = ScaleShift::new(2);
    other.load(&path)?;
    assert_eq!(all_tensors(&mut other), all_tensors(&mut layer.clone()));
    let x = input::<3>(4, 5);
    let mut ctx = Context::infer();
    other.forward(&x, &mut ctx);
    let mut original = layer.clone();
    original.forward(&x, &mut ctx);
    assert_eq!(other.output().as_slice(), original.output().as_slice());
    Ok(())
}
