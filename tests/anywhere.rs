//! The native reference for the WebAssembly check (anywhere/check.sh): the main job's
//! batch-norm network, loaded with the std loader from the weights the wasm module gets,
//! classifies the first 100 Fashion-MNIST test images on the portable kernel path, the
//! path the wasm build has. anywhere/wasm/check.mjs compares the module's outputs with these.
//!
//! ```text
//! MLP_DATA_DIR=../shared/data MLP_WASM_WEIGHTS=model.safetensors MLP_WASM_REFERENCE=reference.json \
//!     cargo test --test anywhere -- --ignored
//! ```

use mlp::kernel::{with_isa, Isa};
use mlp::prelude::*;

#[path = "../examples/fashion_mnist/models.rs"]
mod models;

/// How many test images, from the first.
const COUNT: usize = 100;

#[test]
#[ignore = "writes the wasm check's reference: needs MLP_WASM_WEIGHTS, MLP_WASM_REFERENCE and MLP_DATA_DIR"]
fn write_wasm_reference() {
    // `cargo test -- --ignored` runs every ignored test; without the wasm check's files there
    // is nothing to write, and that is not a failure of the library.
    let (Some(weights), Some(out)) =
        (std::env::var_os("MLP_WASM_WEIGHTS"), std::env::var_os("MLP_WASM_REFERENCE"))
    else {
        eprintln!("write_wasm_reference: nothing to do without MLP_WASM_WEIGHTS and MLP_WASM_REFERENCE (anywhere/check.sh sets them)");
        return;
    };
    let mut net = models::BatchNormMlp::seeded(0);
    net.load(&weights).unwrap_or_else(|e| panic!("MLP_WASM_WEIGHTS: {e}"));
    // The main job's loading: pixels / 255.
    let (_, test) = fashion_mnist::load().expect("set MLP_DATA_DIR to a folder with fashion-mnist/");
    let n = COUNT.min(test.len());
    let x = Batch::<784>::from_samples(&test.features()[..n * 784]).unwrap();
    // The wasm build has only the portable path; the native reference must take it too
    // (AVX2's FMA rounds once where the portable path rounds twice).
    let (probabilities, predicted) = with_isa(Isa::Portable, || {
        assert_eq!(mlp::kernel::isa(), Isa::Portable);
        let y = net.predict(&x);
        let probabilities: Vec<Vec<f32>> = (0..n).map(|i| y.sample(i).to_vec()).collect();
        (probabilities, y.argmax())
    });
    let labels = &test.classes().expect("a classification data set")[..n];
    let correct = predicted.iter().zip(labels).filter(|(p, l)| **p == **l as usize).count();
    eprintln!("native portable path: {correct}/{n} of the first test images classified right");
    let report = serde_json::json!({
        "isa": Isa::Portable.name(),
        "count": n,
        // f32s: serde_json writes the shortest decimal that reads back as the same f32.
        "probabilities": probabilities,
        "predicted": predicted,
        "labels": labels,
    });
    std::fs::write(&out, report.to_string()).unwrap_or_else(|e| panic!("MLP_WASM_REFERENCE: {e}"));
}
