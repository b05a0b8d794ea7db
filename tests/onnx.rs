//! ONNX export: the bytes we write, decoded back with prost and checked against the network
//! (nodes, shapes, initializers). `write_onnx_fixtures` (ignored) writes the files that
//! `scripts/onnx_check.py` runs through onnx.checker and onnxruntime.
#![cfg(feature = "onnx")]

use mlp::onnx::proto::{DimensionValue, GraphProto, ModelProto, ValueInfoProto};
use mlp::prelude::*;
use prost::Message;
use rand::{Rng as _, SeedableRng as _};

#[path = "../examples/fashion_mnist/models.rs"]
mod models;

network! {
    /// Every layer kind and activation.
    pub Everything<
        flatten(2, 3);
        batch_norm;
        dense(8, relu);
        leaky_relu(0.2);
        dense(8, elu(0.5));
        selu;
        dense(8, gelu);
        swish;
        tanh;
        sigmoid;
        linear;
        dense(8, leaky_relu);
        prelu;
        layer_norm(epsilon = 1e-5);
        dropout(0.3);
        dense(8, selu);
        alpha_dropout(0.1);
        batch_norm(center = false, scale = false);
        dense(8, tanh, max_norm = 2.0);
        dense(8, prelu);
        residual(relu)< dense(8, relu); batch_norm; dense(8, swish) >;
        residual(project, tanh)< dense(5, sigmoid); layer_norm >;
        dense(6, elu);
        dense(4, softmax);
    >
}

network! { pub Trunk< input(6); dense(4, relu); batch_norm > }
network! { pub Outer< input(6); residual(project, relu)< features: Trunk; dense(4, gelu) >; dense(3, softmax) > }
network! { pub Lent< Trunk; dense(2, sigmoid) > }
network! { pub Image< flatten(4, 2, 2); dense(3, gelu); dense(2, softmax) > }

fn decode(bytes: &[u8]) -> ModelProto {
    ModelProto::decode(bytes).expect("our bytes decode")
}

fn graph(m: &ModelProto) -> &GraphProto {
    m.graph.as_ref().expect("a graph")
}

fn ops(g: &GraphProto) -> Vec<&str> {
    g.node.iter().map(|n| n.op_type.as_deref().unwrap_or("")).collect()
}

fn shape(v: &ValueInfoProto) -> Vec<String> {
    let t = v.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()).expect("a tensor type");
    assert_eq!(t.elem_type, Some(1), "float");
    t.shape
        .as_ref()
        .expect("a shape")
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(DimensionValue::DimValue(n)) => n.to_string(),
            Some(DimensionValue::DimParam(p)) => p.clone(),
            None => "?".into(),
        })
        .collect()
}

/// Every tensor of the network is an initializer of the same name, shape and values.
fn initializers_are_the_weights<L: Layer>(net: &L, g: &GraphProto) {
    for (name, dims) in net.tensor_names() {
        let t = g
            .initializer
            .iter()
            .find(|t| t.name.as_deref() == Some(&name))
            .unwrap_or_else(|| panic!("{name}"));
        let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
        assert_eq!(t.dims, dims, "{name}");
        assert_eq!(t.data_type, Some(1), "{name}");
        assert_eq!(Some(t.float_data.clone()), net.get_tensor(&name), "{name}");
    }
}

fn attr_i(g: &GraphProto, op: &str, name: &str) -> Vec<i64> {
    g.node
        .iter()
        .filter(|n| n.op_type.as_deref() == Some(op))
        .flat_map(|n| n.attribute.iter().filter(|a| a.name.as_deref() == Some(name)).filter_map(|a| a.i))
        .collect()
}

#[test]
fn every_layer_kind_maps_to_its_operators() {
    let net = Everything::seeded(3);
    let m = decode(&net.onnx_bytes().unwrap());
    assert_eq!(m.ir_version, Some(9));
    assert_eq!(m.opset_import[0].version, Some(20));
    assert_eq!(m.producer_name.as_deref(), Some("mlp"));
    assert_eq!(m.producer_version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    let g = graph(&m);
    assert_eq!(g.name.as_deref(), Some("Everything"));
    #[rustfmt::skip]
    let want = [
        "Reshape", "BatchNormalization",
        "Gemm", "Relu", "LeakyRelu",
        "Gemm", "Elu", "Selu",
        "Gemm", "Gelu", "Sigmoid", "Mul", "Tanh", "Sigmoid",
        "Gemm", "LeakyRelu", "PRelu", "LayerNormalization",
        "Gemm", "Selu", "BatchNormalization",
        "Gemm", "Tanh",
        "Gemm", "PRelu",
        "Gemm", "Relu", "BatchNormalization", "Gemm", "Sigmoid", "Mul", "Add", "Relu",
        "Gemm", "Sigmoid", "LayerNormalization", "Gemm", "Add", "Tanh",
        "Gemm", "Elu",
        "Gemm", "Softmax",
    ];
    assert_eq!(ops(g), want);
    assert_eq!(g.input.len(), 1);
    assert_eq!(g.input[0].name.as_deref(), Some("input"));
    assert_eq!(shape(&g.input[0]), ["batch", "2", "3"]);
    assert_eq!(g.output[0].name.as_deref(), Some("output"));
    assert_eq!(shape(&g.output[0]), ["batch", "4"]);
    assert_eq!(g.node.last().unwrap().output, ["output"]);
    assert_eq!(Everything::INPUT_DIMS, [2, 3]);
    initializers_are_the_weights(&net, g);
    // Every Gemm reads its weight as [out, in].
    assert!(attr_i(g, "Gemm", "transB").iter().all(|&t| t == 1));
    assert_eq!(attr_i(g, "Gemm", "transB").len(), 13);
    assert_eq!(attr_i(g, "Softmax", "axis"), [-1]);
    assert_eq!(attr_i(g, "LayerNormalization", "axis"), [-1, -1]);
    // Dense layers read their keys; the projection has no bias.
    let gemm_inputs: Vec<&Vec<String>> =
        g.node.iter().filter(|n| n.op_type.as_deref() == Some("Gemm")).map(|n| &n.input).collect();
    assert_eq!(gemm_inputs[0][1..], ["dense_0.weight", "dense_0.bias"]);
    assert_eq!(gemm_inputs[9][1..], ["residual_1.dense_0.weight", "residual_1.dense_0.bias"]);
    assert_eq!(gemm_inputs[10][1..], ["residual_1.projection.weight"]);
    // The batch norm without gamma and beta: constants named as the missing tensors.
    let find = |name: &str| g.initializer.iter().find(|t| t.name.as_deref() == Some(name)).unwrap();
    assert_eq!(find("batch_norm_1.weight").float_data, vec![1.0; 8]);
    assert_eq!(find("batch_norm_1.bias").float_data, vec![0.0; 8]);
    assert_eq!(net.get_tensor("batch_norm_1.weight"), None);
    let eps: Vec<f32> = g
        .node
        .iter()
        .filter(|n| n.op_type.as_deref() == Some("BatchNormalization"))
        .flat_map(|n| n.attribute.iter().filter_map(|a| a.f))
        .collect();
    assert_eq!(eps, [1e-3; 3]);
    // Initializer names are unique.
    let mut names: Vec<_> = g.initializer.iter().map(|t| t.name.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), g.initializer.len());
}

#[test]
fn a_sub_network_inside_a_projected_residual_is_inlined_under_its_keys() {
    let net = Outer::seeded(1);
    let g = graph(&decode(&net.onnx_bytes().unwrap())).clone();
    assert_eq!(
        ops(&g),
        ["Gemm", "Relu", "BatchNormalization", "Gemm", "Gelu", "Gemm", "Add", "Relu", "Gemm", "Softmax"]
    );
    assert_eq!(
        g.node[0].input[1..],
        ["residual_0.features.dense_0.weight", "residual_0.features.dense_0.bias"]
    );
    assert_eq!(g.node[5].input, ["input", "residual_0.projection.weight"]);
    assert_eq!(shape(&g.input[0]), ["batch", "6"]);
    initializers_are_the_weights(&net, &g);
}

#[test]
fn a_first_sub_network_lends_its_input_dims() {
    assert_eq!(Lent::INPUT_DIMS, [6]);
    assert_eq!(Image::INPUT_DIMS, [4, 2, 2]);
    network! { ImageHead< Image; dense(2) > }
    assert_eq!(ImageHead::INPUT_DIMS, [4, 2, 2]);
    let g = graph(&decode(&ImageHead::seeded(0).onnx_bytes().unwrap())).clone();
    assert_eq!(shape(&g.input[0]), ["batch", "4", "2", "2"]);
    assert_eq!(ops(&g)[0], "Reshape");
    let shape_name = &g.node[0].input[1];
    let t = g.initializer.iter().find(|t| t.name.as_ref() == Some(shape_name)).unwrap();
    assert_eq!(t.int64_data, [-1, 16]);
    assert_eq!(t.data_type, Some(7));
    let first_key = &ImageHead::seeded(0).tensor_names()[0].0;
    assert!(first_key.ends_with(".dense_0.weight"), "{first_key}");
    assert_eq!(&g.node[1].input[1], first_key);
}

#[test]
fn opsets_17_to_21_with_their_ir_versions_and_others_are_errors() {
    let net = Outer::seeded(0);
    for (opset, ir) in [(17, 8), (18, 8), (19, 9), (20, 9), (21, 10)] {
        let m = decode(&net.onnx_bytes_with(&OnnxOptions::new().opset(opset)).unwrap());
        assert_eq!((m.opset_import[0].version, m.ir_version), (Some(opset), Some(ir)));
        let ops = ops(graph(&m)).join(" ");
        // Gelu exists from opset 20; below, its exact erf formula.
        assert_eq!(ops.contains("Gelu"), opset >= 20, "{opset}: {ops}");
        assert_eq!(ops.contains("Erf"), opset < 20, "{opset}: {ops}");
    }
    for opset in [0, 16, 22, -1] {
        let err = net.onnx_bytes_with(&OnnxOptions::new().opset(opset)).unwrap_err();
        assert!(matches!(err, OnnxError::Opset { opset: o } if o == opset));
        assert!(err.to_string().contains("from 17 to 21"), "{err}");
    }
}

#[test]
fn metadata_and_graph_name_are_recorded() {
    let opts = OnnxOptions::new().metadata("classes", "a,b,c").graph_name("fashion");
    let m = decode(&Outer::seeded(0).onnx_bytes_with(&opts).unwrap());
    assert_eq!(m.metadata_props.len(), 1);
    assert_eq!(m.metadata_props[0].key.as_deref(), Some("classes"));
    assert_eq!(m.metadata_props[0].value.as_deref(), Some("a,b,c"));
    assert_eq!(graph(&m).name.as_deref(), Some("fashion"));
}

/// `y = 2x`: a hand-written layer that does not describe itself.
#[derive(Clone, Debug)]
struct Double {
    out: Batch<2>,
}

impl Layer for Double {
    const IN: usize = 2;
    const OUT: usize = 2;
    // Wrong on purpose: 1 * 3 is not 2.
    const INPUT_DIMS: &'static [usize] = &[1, 3];
    type Input = Batch<2>;
    type Output = Batch<2>;
    fn forward(&mut self, x: &Batch<2>, _: &mut Context) {
        self.out.copy_from(x);
        self.out.as_mut_slice().iter_mut().for_each(|v| *v *= 2.0);
    }
    fn output(&self) -> &Batch<2> {
        &self.out
    }
    fn backward(&mut self, _: &Batch<2>, _: &Batch<2>, _: Backward) {}
    fn input_grad(&self) -> &Batch<2> {
        &self.out
    }
    fn visit(&mut self, _: &mut dyn Visitor) {}
    fn visit_ref(&self, _: &mut dyn VisitorRef) {}
    fn set_trainable(&mut self, _: bool) {}
}

impl Build for Double {
    fn build(_: &mut mlp::rng::Rng) -> Self {
        Double { out: Batch::zeros(0) }
    }
}

impl Network for Double {
    const NAME: &'static str = "Double";
    const PARAMS: usize = 0;
    const TRAINABLE_PARAMS: usize = 0;
    const ROWS: &'static [mlp::summary::Row] = &[];
}

network! { WithDouble< input(2); dense(2); Double; dense(1) > }

#[test]
fn a_layer_without_an_onnx_form_is_an_error_naming_its_type() {
    let err = WithDouble::seeded(0).onnx_bytes().unwrap_err();
    assert!(matches!(err, OnnxError::Unsupported { layer } if layer.ends_with("Double")), "{err:?}");
    assert!(err.to_string().contains("Double"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no.onnx");
    assert!(WithDouble::seeded(0).export_onnx(&path).is_err());
    assert!(!path.exists(), "nothing is written");
    // Dims that do not multiply to the width are refused, naming the layer.
    let err = Double::build(&mut mlp::rng::seeded(0)).onnx_bytes().unwrap_err();
    assert!(err.to_string().contains("Double") && err.to_string().contains("[1, 3]"), "{err}");
}

#[test]
fn files_are_the_bytes_and_the_model_forwards() {
    let dir = tempfile::tempdir().unwrap();
    let net = Outer::seeded(2);
    let path = dir.path().join("outer.onnx");
    net.export_onnx(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), net.onnx_bytes().unwrap());
    let model = Model::compile(net.clone(), Adam::default(), SparseCategoricalCrossentropy::new());
    assert_eq!(model.onnx_bytes().unwrap(), net.onnx_bytes().unwrap());
    let opts = OnnxOptions::new().opset(18);
    model.export_onnx_with(&path, &opts).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), model.onnx_bytes_with(&opts).unwrap());
    model.export_onnx(&path).unwrap();
    // A directory at the path is refused, named in the error.
    let err = net.export_onnx(dir.path()).unwrap_err();
    assert!(matches!(err, OnnxError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains(&dir.path().display().to_string()), "{err}");
}

/// Gives every tensor random values (variances positive), so batch norm's running
/// statistics and every gamma take part in the comparison.
fn randomize<L: Layer>(net: &mut L, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for (name, dims) in net.tensor_names() {
        let n: usize = dims.iter().product();
        let values: Vec<f32> = (0..n)
            .map(|_| {
                if name.ends_with("running_var") {
                    rng.random_range(0.5..1.5)
                } else {
                    rng.random_range(-0.8..0.8)
                }
            })
            .collect();
        net.set_tensor(&name, &values).unwrap();
    }
}

/// One model for scripts/onnx_check.py: the .onnx file, and inputs with our outputs.
fn fixture<L, const I: usize, const O: usize>(
    dir: &std::path::Path,
    file: &str,
    net: &mut L,
    opts: &OnnxOptions,
) -> serde_json::Value
where
    L: Layer<Input = Batch<I>, Output = Batch<O>>,
{
    net.export_onnx_with(dir.join(file), opts).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let cases: Vec<serde_json::Value> = [1usize, 7]
        .iter()
        .map(|&batch| {
            let input: Vec<f32> = (0..batch * I).map(|_| rng.random_range(-2.0..2.0)).collect();
            let x = Batch::<I>::from_samples(&input).unwrap();
            let mut ctx = Context::infer();
            net.forward(&x, &mut ctx);
            serde_json::json!({ "batch": batch, "input": input, "expected": net.output().as_slice() })
        })
        .collect();
    serde_json::json!({ "file": file, "input_dims": L::INPUT_DIMS, "cases": cases })
}

/// Writes the models scripts/onnx_check.py checks, with inputs and our outputs, into
/// `$MLP_ONNX_DIR` (a temporary folder without it): `manifest.json` lists them.
#[test]
#[ignore = "writes the files scripts/onnx_check.py reads (set MLP_ONNX_DIR)"]
fn write_onnx_fixtures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir =
        std::env::var_os("MLP_ONNX_DIR").map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let mut models = Vec::new();
    let (mut every, mut outer, mut image) = (Everything::seeded(1), Outer::seeded(2), Image::seeded(3));
    randomize(&mut every, 1);
    randomize(&mut outer, 2);
    randomize(&mut image, 3);
    for opset in [17, 20, 21] {
        let opts = OnnxOptions::new().opset(opset);
        models.push(fixture(&dir, &format!("everything_opset{opset}.onnx"), &mut every, &opts));
    }
    let opts = OnnxOptions::new().metadata("classes", "a,b,c");
    models.push(fixture(&dir, "sub_network_in_projected_residual.onnx", &mut outer, &opts));
    models.push(fixture(&dir, "flatten_4_2_2.onnx", &mut image, &OnnxOptions::new().opset(19)));
    // The main job's four models, trained by `--epochs 1 --save M.safetensors --export M.onnx`
    // into $MLP_ONNX_MAIN_JOB: our outputs from the saved weights, beside the exported file.
    if let Some(main) = std::env::var_os("MLP_ONNX_MAIN_JOB").map(std::path::PathBuf::from) {
        let trained = |name: &str| -> Option<(std::path::PathBuf, std::path::PathBuf)> {
            let (w, o) = (main.join(format!("{name}.safetensors")), main.join(format!("{name}.onnx")));
            (w.exists() && o.exists()).then_some((w, o))
        };
        macro_rules! main_job_model {
            ($name:literal, $ty:ty) => {
                if let Some((weights, onnx)) = trained($name) {
                    let mut net = <$ty>::seeded(0);
                    net.load(&weights).unwrap();
                    let mut spec =
                        fixture(&dir, concat!("main_job_", $name, ".onnx"), &mut net, &OnnxOptions::new());
                    // Check the main job's own file, not a re-export; absolute, since the
                    // script reads names relative to the fixtures' folder.
                    let onnx = std::path::absolute(&onnx).unwrap();
                    spec["file"] = serde_json::json!(onnx);
                    models.push(spec);
                }
            };
        }
        main_job_model!("plain", models::Plain);
        main_job_model!("batchnorm", models::BatchNormMlp);
        main_job_model!("dropout", models::DropoutMlp);
        main_job_model!("residual", models::ResidualMlp);
    }
    let manifest = serde_json::json!({ "models": models });
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    assert!(dir.join("everything_opset20.onnx").exists());
}
