//! A PyTorch `nn.Sequential` state dict (tests/fixtures, made by scripts/torch_fixture.py)
//! loads into its `network!` mirror through a key map and computes what PyTorch computed.

use std::path::PathBuf;

use mlp::io::read_tensors;
use mlp::prelude::*;

// The mirror in scripts/torch_fixture.py's docstring. PyTorch's BatchNorm1d epsilon is 1e-5;
// ours defaults to Keras' 1e-3.
network! { pub TorchMirror< flatten(3, 4); dense(16); batch_norm(epsilon = 1e-5); relu; dense(8, elu); dense(5, softmax) > }
network! { KerasEpsilon< flatten(3, 4); dense(16); batch_norm; relu; dense(8, elu); dense(5, softmax) > }

/// Absolute tolerance against PyTorch's outputs (softmax probabilities). Measured: 6e-8 (f32
/// rounding); a wrong batch-norm epsilon moves them by ~4e-5, dropped statistics by ~0.05.
const TOL: f32 = 1e-6;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// PyTorch Sequential index -> our layer name; `num_batches_tracked` (int64) skipped by name.
fn torch_key_map() -> LoadOptions<'static> {
    LoadOptions::new()
        .rename("1", "dense_0")
        .rename("2", "batch_norm_0")
        .rename("4", "dense_1")
        .rename("6", "dense_2")
        .skip("num_batches_tracked")
}

/// The fixture's inputs `x` [6, 12] and PyTorch's eval-mode outputs `y` [6, 5], row-major:
/// each row is one sample, contiguous, which is how `Batch::from_samples` reads them.
fn inputs_and_outputs() -> Result<(Batch<12>, Vec<f32>)> {
    let tensors = read_tensors(fixture("torch_sequential_io.safetensors"))?;
    let get = |name: &str, shape: &[usize]| {
        tensors
            .iter()
            .find(|(n, s, _)| n == name && s == shape)
            .map(|(_, _, v)| v.clone())
            .ok_or_else(|| format!("fixture lacks `{name}` {shape:?}"))
    };
    let x = Batch::<12>::from_samples(&get("x", &[6, 12])?)?;
    Ok((x, get("y", &[6, 5])?))
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn a_pytorch_sequential_state_dict_predicts_like_pytorch() -> Result {
    let mut net = TorchMirror::seeded(0);
    let report = net.load_with(fixture("torch_sequential.safetensors"), &torch_key_map())?;
    assert_eq!(report.loaded.len(), 10);
    assert_eq!(report.ignored, ["2.num_batches_tracked"]);
    assert!(report.missing.is_empty());

    let (x, y) = inputs_and_outputs()?;
    let ours = net.predict(&x);
    assert_eq!(ours.len(), 6);
    let err = max_abs_diff(ours.as_slice(), &y);
    assert!(err < TOL, "max |ours - pytorch| = {err}");
    assert_eq!(ours.argmax(), (0..6).map(|i| mlp::batch::argmax(&y[i * 5..i * 5 + 5])).collect::<Vec<_>>());
    Ok(())
}

#[test]
fn the_tolerance_catches_a_wrong_epsilon() -> Result {
    // Same weights, Keras' epsilon: the outputs move by ~4e-5, well past `TOL`, so the
    // comparison really checks the batch norm's running statistics and epsilon.
    let mut net = KerasEpsilon::seeded(0);
    net.load_with(fixture("torch_sequential.safetensors"), &torch_key_map())?;
    let (x, y) = inputs_and_outputs()?;
    let err = max_abs_diff(net.predict(&x).as_slice(), &y);
    assert!(err > 1e-5, "max |ours - pytorch| = {err}");
    Ok(())
}

#[test]
fn without_the_key_map_the_errors_say_what_to_do() {
    let path = fixture("torch_sequential.safetensors");
    let err = TorchMirror::seeded(0).load(&path).unwrap_err().to_string();
    assert!(err.contains("lacks 10 tensors the network needs: `dense_0.weight`"), "{err}");
    assert!(err.contains("`1.weight`"), "{err}");
    assert!(err.contains("LoadOptions::rename(\"1\", \"dense_0\")"), "{err}");

    // The map without the skip: the int64 counter is a tensor the network lacks, named as such
    // (were it renamed onto a real tensor, its I64 dtype would be refused).
    let opts = LoadOptions::new()
        .rename("1", "dense_0")
        .rename("2", "batch_norm_0")
        .rename("4", "dense_1")
        .rename("6", "dense_2");
    let err = TorchMirror::seeded(0).load_with(&path, &opts).unwrap_err().to_string();
    assert!(err.contains("`batch_norm_0.num_batches_tracked`"), "{err}");
}

#[test]
fn our_file_of_the_mirror_round_trips_to_the_same_outputs() -> Result {
    let mut net = TorchMirror::seeded(0);
    net.load_with(fixture("torch_sequential.safetensors"), &torch_key_map())?;
    let bytes = mlp::io::weights_to_bytes(&net)?;
    let mut copy = TorchMirror::seeded(1);
    mlp::io::load_weights_from_bytes(&mut copy, &bytes, &LoadOptions::new())?;
    let (x, y) = inputs_and_outputs()?;
    assert!(max_abs_diff(copy.predict(&x).as_slice(), &y) < TOL);
    Ok(())
}
