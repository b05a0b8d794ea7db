//! The weights of the microcontroller example (anywhere/cortex-m) and the outputs it must
//! print, made on the host with the std runtime.
//!
//! `MLP_CORTEX_M_WRITE=1 cargo test --release --test cortex_m_weights -- --ignored` trains the example's
//! 4-32-16-4 network on a synthetic task (which of four inputs uniform in [-1, 1] is the
//! largest), then writes anywhere/cortex-m/model.safetensors (3.3 KB, committed) and
//! anywhere/cortex-m/expected.txt (the class and probabilities of each fixed input, which
//! anywhere/cortex-m/check.sh compares with what the firmware prints under QEMU).
//! Everything is seeded, so a rerun writes the same files on the same machine.
//!
//! The test that is not ignored checks that the committed files still agree: the weights,
//! loaded here, give the expected outputs.

#[path = "../anywhere/cortex-m/src/model.rs"]
mod model;

use mlp::prelude::*;
use model::{Tiny, INPUTS};
use rand::Rng as _;
use std::path::PathBuf;
use std::sync::Mutex;

/// How close the host's outputs must be to expected.txt's (check.sh uses the same bound
/// for the firmware's).
const TOLERANCE: f32 = 1e-6;

/// Held by each test while it uses the files: one writes them, the other reads them, and the
/// harness runs tests in parallel (`--include-ignored` runs both).
static FILES: Mutex<()> = Mutex::new(());

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("anywhere/cortex-m")
}

/// `n` samples of four floats uniform in [-1, 1], each labelled with its largest one.
fn largest_of_four(n: usize, seed: u64) -> Dataset {
    let mut rng = mlp::rng::seeded(seed);
    let x: Vec<f32> = (0..n * 4).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let y = x.chunks(4).map(|s| mlp::batch::argmax(s) as u32).collect();
    Dataset::classification(x, 4, y).expect("4 floats per sample")
}

/// The class and probabilities of each fixed input, as expected.txt holds them.
fn outputs(net: &mut Tiny) -> Vec<(usize, [f32; 4])> {
    INPUTS
        .iter()
        .map(|x| {
            let y = net.predict(&Batch::<4>::from_sample(x)).sample(0);
            (mlp::batch::argmax(y), y.try_into().expect("4 outputs"))
        })
        .collect()
}

/// expected.txt: one line per input, `index class p0 p1 p2 p3`, floats in Rust's shortest
/// round-trip form (what the firmware prints too).
fn parse_expected(text: &str) -> Vec<(usize, [f32; 4])> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 6, "expected.txt line `{l}`");
            let p = |i: usize| f[i].parse::<f32>().expect("a float");
            (f[1].parse().expect("a class"), [p(2), p(3), p(4), p(5)])
        })
        .collect()
}

#[test]
#[ignore = "with MLP_CORTEX_M_WRITE=1, rewrites anywhere/cortex-m/model.safetensors and expected.txt"]
fn make_cortex_m_weights() -> Result<(), Box<dyn std::error::Error>> {
    // Asked for by name: `cargo test -- --ignored` (the real-data tests) must not rewrite
    // committed files.
    if std::env::var_os("MLP_CORTEX_M_WRITE").is_none() {
        println!("set MLP_CORTEX_M_WRITE=1 to retrain and rewrite anywhere/cortex-m's weights");
        return Ok(());
    }
    let train = largest_of_four(8192, 1);
    let test = largest_of_four(2048, 2);
    let mut model =
        Model::compile(Tiny::seeded(7), Adam::new(1e-2), SparseCategoricalCrossentropy::new()).seed(7);
    model.fit(&train, Fit::new().epochs(40).batch_size(64).verbose(Verbosity::Silent))?;
    let accuracy = model.evaluate(&test)?.get("accuracy").expect("accuracy is a metric");
    println!("test accuracy {accuracy}");
    // The task is easy: a network that misses this did not train, and should not be shipped.
    assert!(accuracy > 0.95, "test accuracy {accuracy}");

    let _files = FILES.lock().unwrap_or_else(|e| e.into_inner());
    model.net.save(dir().join("model.safetensors"))?;
    let mut text = String::from(
        "# Made by tests/cortex_m_weights.rs (make_cortex_m_weights) from model.safetensors:\n\
         # index class p0 p1 p2 p3 for each of src/model.rs's INPUTS.\n",
    );
    for (i, (class, p)) in outputs(&mut model.net).iter().enumerate() {
        text += &format!("{i} {class} {} {} {} {}\n", p[0], p[1], p[2], p[3]);
    }
    std::fs::write(dir().join("expected.txt"), text)?;
    Ok(())
}

#[test]
fn cortex_m_weights_give_the_expected_outputs() -> Result<(), Box<dyn std::error::Error>> {
    let _files = FILES.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Tiny::seeded(0);
    net.load(dir().join("model.safetensors"))?;
    let expected = parse_expected(&std::fs::read_to_string(dir().join("expected.txt"))?);
    assert_eq!(expected.len(), INPUTS.len());
    for (i, ((class, p), (want_class, want))) in outputs(&mut net).iter().zip(&expected).enumerate() {
        assert_eq!(class, want_class, "input {i}");
        for (a, b) in p.iter().zip(want) {
            assert!((a - b).abs() <= TOLERANCE, "input {i}: {p:?} vs expected {want:?}");
        }
    }
    Ok(())
}
