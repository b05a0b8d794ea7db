//! Generated networks: counts, names, forward passes and gradients of whole chains.

use mlp::gradcheck::{check, Tolerance};
use mlp::prelude::*;
use rand::Rng as _;

network! { pub Plain< flatten(28, 28); dense(300, relu); dense(100, relu); dense(10, softmax) > }

network! {
    /// The tutorial's batch-norm model.
    pub WithBatchNorm<
        flatten(28, 28);
        batch_norm;
        dense(300, relu);
        batch_norm;
        hidden: dense(100, relu);
        dropout(0.2);
        residual(relu)<dense(100, relu); batch_norm; dense(100); batch_norm>;
        dense(10, softmax);
    >
}

network! { Small< input(5); dense(6, tanh); batch_norm; dense(6, elu); residual(relu)< dense(6, gelu); layer_norm; dense(6) >;
residual(project, swish)< dense(4, selu); residual< dense(4, sigmoid) > >; dense(3, softmax) > }

// tanh, not relu: a unit that relu kills for most of a tiny batch makes batch norm divide by
// a near-zero deviation, too curved for finite differences to follow.
network! { Trunk< input(5); dense(8, tanh); batch_norm > }
network! { Head< features: Trunk; dense(3, softmax) > }
network! { Middle< input(7); dense(5, tanh); Trunk; dense(2) > }

fn input<const N: usize>(n: usize, seed: u64) -> Batch<N> {
    let mut rng = mlp::rng::seeded(seed);
    let v: Vec<f32> = (0..n * N).map(|_| rng.random_range(-1.5..1.5)).collect();
    Batch::from_samples(&v).unwrap()
}

#[test]
fn the_plain_model_counts_like_keras() {
    assert_eq!(Plain::PARAMS, 266_610);
    assert_eq!(Plain::TRAINABLE_PARAMS, 266_610);
    assert_eq!((Plain::IN, Plain::OUT), (784, 10));
    let s = Plain::summary().to_string();
    assert!(s.contains("Total params: 266,610"), "{s}");
    assert!(s.contains("dense(300, relu)"), "{s}");
}

#[test]
fn batch_norm_statistics_count_as_non_trainable() {
    // Keras: BN(784) 3,136 (1,568 non-trainable), BN(300) 1,200 (600), the residual's two
    // BN(100) 400 (200) each.
    let dense = 784 * 300 + 300 + 300 * 100 + 100 + 2 * (100 * 100 + 100) + 100 * 10 + 10;
    let bn = 4 * (784 + 300 + 100 + 100);
    assert_eq!(WithBatchNorm::PARAMS, dense + bn);
    assert_eq!(WithBatchNorm::TRAINABLE_PARAMS, dense + bn / 2);
    let rows: Vec<&str> = WithBatchNorm::ROWS.iter().map(|r| r.name).collect();
    assert_eq!(
        rows,
        [
            "flatten",
            "batch_norm_0",
            "dense_0",
            "batch_norm_1",
            "hidden",
            "dropout_0",
            "residual_0",
            "dense_2"
        ]
    );
}

#[test]
fn projections_norms_and_nested_blocks_count_like_keras() {
    // dense 5->6 (36); batch_norm(6) (24, 12 trainable); dense 6->6 (42);
    // residual< dense (42); layer_norm (12); dense (42) > (96);
    // residual(project)< dense 6->4 (28); residual< dense 4->4 (20) > > plus a 6x4 projection (72);
    // dense 4->3 (15).
    assert_eq!(Small::PARAMS, 36 + 24 + 42 + 96 + 72 + 15);
    assert_eq!(Small::TRAINABLE_PARAMS, Small::PARAMS - 12);
    let rows: Vec<(&str, usize)> = Small::ROWS.iter().map(|r| (r.name, r.params)).collect();
    assert_eq!(
        rows,
        [
            ("input", 0),
            ("dense_0", 36),
            ("batch_norm_0", 24),
            ("dense_1", 42),
            ("residual_0", 96),
            ("residual_1", 72),
            ("dense_2", 15)
        ]
    );
}

#[test]
fn softmax_output_is_a_distribution_even_for_huge_logits() {
    let mut net = Plain::seeded(1);
    let x = input::<784>(3, 2);
    let y = net.predict(&x);
    for i in 0..3 {
        let s: f32 = y.sample(i).iter().sum();
        assert!((s - 1.0).abs() < 1e-5, "{s}");
    }
    let mut x = x;
    x.as_mut_slice().iter_mut().for_each(|v| *v *= 1e4);
    let y = net.predict(&x);
    assert!(y.as_slice().iter().all(|v| v.is_finite()));
}

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let w = |seed| {
        let mut net = Plain::seeded(seed);
        mlp::tensors::collect(&mut net, |p| p.value.to_vec())
    };
    assert_eq!(w(42), w(42));
    assert_ne!(w(42), w(43));
}

#[test]
fn tensor_names_follow_the_scheme() {
    let mut names = Vec::new();
    mlp::tensors::for_each_tensor(&mut WithBatchNorm::seeded(0), |n, t| {
        names.push(format!("{n}{:?}", t.shape()))
    });
    assert_eq!(
        names,
        [
            "batch_norm_0.weight[784]",
            "batch_norm_0.bias[784]",
            "batch_norm_0.running_mean[784]",
            "batch_norm_0.running_var[784]",
            "dense_0.weight[300, 784]",
            "dense_0.bias[300]",
            "batch_norm_1.weight[300]",
            "batch_norm_1.bias[300]",
            "batch_norm_1.running_mean[300]",
            "batch_norm_1.running_var[300]",
            "hidden.weight[100, 300]",
            "hidden.bias[100]",
            "residual_0.dense_0.weight[100, 100]",
            "residual_0.dense_0.bias[100]",
            "residual_0.batch_norm_0.weight[100]",
            "residual_0.batch_norm_0.bias[100]",
            "residual_0.batch_norm_0.running_mean[100]",
            "residual_0.batch_norm_0.running_var[100]",
            "residual_0.dense_1.weight[100, 100]",
            "residual_0.dense_1.bias[100]",
            "residual_0.batch_norm_1.weight[100]",
            "residual_0.batch_norm_1.bias[100]",
            "residual_0.batch_norm_1.running_mean[100]",
            "residual_0.batch_norm_1.running_var[100]",
            "dense_2.weight[10, 100]",
            "dense_2.bias[10]",
        ]
    );
    let mut names = Vec::new();
    mlp::tensors::for_each_tensor(&mut Head::seeded(0), |n, _| names.push(n.to_string()));
    assert_eq!(names[0], "features.dense_0.weight");
    let mut names = Vec::new();
    mlp::tensors::for_each_tensor(&mut Small::seeded(0), |n, _| names.push(n.to_string()));
    assert!(names.contains(&"residual_1.projection.weight".to_string()), "{names:?}");
    assert!(names.contains(&"residual_1.residual_0.dense_0.bias".to_string()), "{names:?}");
}

#[test]
fn whole_networks_backward_matches_finite_differences() {
    // Batch norm over a small batch is curved enough that a larger step misleads.
    let tol = Tolerance { eps: 3e-3, atol: 3e-3, rtol: 3e-2 };
    check(&mut Small::seeded(3), &input::<5>(4, 3), Mode::Train, tol, 20).unwrap();
    check(&mut Small::seeded(3), &input::<5>(4, 3), Mode::Infer, tol, 20).unwrap();
    check(&mut Head::seeded(4), &input::<5>(4, 4), Mode::Train, tol, 20).unwrap();
    check(&mut Middle::seeded(5), &input::<7>(4, 5), Mode::Train, tol, 20).unwrap();
}

#[test]
fn nets_nest_and_sub_network_widths_come_from_their_types() {
    assert_eq!((Head::IN, Head::OUT), (5, 3));
    assert_eq!(Head::PARAMS, Trunk::PARAMS + 8 * 3 + 3);
    assert_eq!((Middle::IN, Middle::OUT), (7, 2));
    let mut head = Head::seeded(0);
    assert_eq!(head.predict(&input::<5>(2, 0)).len(), 2);
}

#[test]
fn batch_norm_infers_with_moving_statistics() {
    network! { Bn< input(2); batch_norm(momentum = 0.5, epsilon = 0.001) > }
    let mut net = Bn::seeded(0);
    let x = Batch::<2>::from_samples(&[1.0, 10.0, 3.0, 30.0]).unwrap();
    net.forward(&x, &mut Context::train(0));
    // moving mean = 0.5 * 0 + 0.5 * batch mean; moving var = 0.5 * 1 + 0.5 * batch var.
    let (m, v) = ([1.0f32, 10.0], [1.0f32 * 0.5 + 0.5, 0.5 + 0.5 * 100.0]);
    let y = net.predict(&x).clone();
    for j in 0..2 {
        let want = (x.sample(0)[j] - m[j]) / (v[j] + 1e-3).sqrt();
        assert!((y.sample(0)[j] - want).abs() < 1e-5, "{} vs {want}", y.sample(0)[j]);
    }
}

#[test]
fn dropout_keeps_the_expected_fraction_and_scale() {
    network! { Drop< input(1000); dropout(0.3) > }
    let mut net = Drop::seeded(0);
    let x = Batch::<1000>::from_samples(&vec![1.0; 10_000]).unwrap();
    net.forward(&x, &mut Context::train(5));
    let y = net.output().as_slice();
    let kept = y.iter().filter(|v| **v != 0.0).count() as f32 / y.len() as f32;
    assert!((kept - 0.7).abs() < 0.02, "kept {kept}");
    assert!(y.iter().all(|v| *v == 0.0 || (*v - 1.0 / 0.7).abs() < 1e-6));
    assert_eq!(net.predict(&x).as_slice(), x.as_slice(), "identity at inference");
}

#[test]
fn a_784_300_layer_trains_on_a_small_stack() {
    // Weights live on the heap: a 2 MiB thread (a debug test thread's size) is enough.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut net = Plain::seeded(0);
            let x = input::<784>(32, 1);
            net.forward(&x, &mut Context::train(0));
            let dy = Batch::<10>::from_samples(&vec![0.1; 320]).unwrap();
            net.backward(&x, &dy, Backward::FULL);
            net.input_grad().len()
        })
        .unwrap()
        .join()
        .map(|n| assert_eq!(n, 32))
        .unwrap();
}

network! { EveryKind< input(4); dense(6, tanh, bias = false); batch_norm; layer_norm; dropout(0.1); relu;
residual< dense(6); batch_norm >; residual(project)< dense(5) >; Trunk; dense(2) > }

#[test]
fn frozen_layers_count_as_non_trainable_in_the_values_summary() {
    let mut net = WithBatchNorm::seeded(0);
    // Nothing frozen: the value's counts are the compile-time ones.
    assert_eq!(net.runtime_summary(), WithBatchNorm::summary());
    // Keras, after `model.get_layer("hidden").trainable = False` and the same for the first
    // BatchNormalization: Total params: 291,946; Trainable params: 257,710;
    // Non-trainable params: 34,236 (hidden's 30,100, that batch norm's 3,136, the other
    // batch norms' 1,000 moving statistics).
    net.hidden.set_trainable(false);
    net.batch_norm_0.set_trainable(false);
    let s = Summary::of_value(&net);
    assert_eq!((s.total, s.trainable), (291_946, 257_710));
    assert_eq!(s.rows, WithBatchNorm::ROWS);
    let text = s.to_string();
    assert!(text.ends_with(" Trainable params: 257,710\n Non-trainable params: 34,236"), "{text}");
    // The compile-time summary cannot see the freeze.
    assert_eq!(WithBatchNorm::summary().trainable, 289_378);
    // Freezing inside a residual block counts too; unfreezing restores the counts.
    net.residual_0.body_mut().dense_0.set_trainable(false);
    assert_eq!(net.runtime_summary().trainable, 257_710 - 10_100);
    net.set_trainable(true);
    assert_eq!(net.runtime_summary(), WithBatchNorm::summary());
    // Keras' `model.summary()` on the compiled model: the same table, freezes included.
    net.hidden.set_trainable(false);
    let model = Model::compile(net, Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    assert_eq!(model.summary().trainable, 289_378 - 30_100);
    assert_eq!(model.summary().to_string(), model.net.runtime_summary().to_string());
}

/// Every tensor as the mutable walk sees it: name, shape, values, trainable.
type Seen = Vec<(String, Vec<usize>, Vec<f32>, bool)>;

fn walk_mut<L: Layer>(net: &mut L) -> Seen {
    let mut out = Vec::new();
    mlp::tensors::for_each_tensor(net, |name, mut t| {
        let trainable = matches!(&t, mlp::tensors::Tensor::Param(p) if p.trainable);
        out.push((name.to_string(), t.shape().to_vec(), t.value().to_vec(), trainable));
    });
    out
}

fn walk_ref<L: Layer>(net: &L) -> Seen {
    let mut out = Vec::new();
    mlp::tensors::for_each_tensor_ref(net, |name, t| {
        out.push((name.to_string(), t.shape().to_vec(), t.value().to_vec(), t.trainable()));
    });
    out
}

#[test]
fn the_read_only_walk_sees_what_the_mutable_walk_sees() {
    let mut net = EveryKind::seeded(3);
    net.residual_1.set_trainable(false);
    net.trunk_0.batch_norm_0.set_trainable(false);
    let seen = walk_ref(&net);
    assert_eq!(seen, walk_mut(&mut net));
    let names: Vec<&str> = seen.iter().map(|(n, ..)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "dense_0.weight",
            "batch_norm_0.weight",
            "batch_norm_0.bias",
            "batch_norm_0.running_mean",
            "batch_norm_0.running_var",
            "layer_norm_0.weight",
            "layer_norm_0.bias",
            "residual_0.dense_0.weight",
            "residual_0.dense_0.bias",
            "residual_0.batch_norm_0.weight",
            "residual_0.batch_norm_0.bias",
            "residual_0.batch_norm_0.running_mean",
            "residual_0.batch_norm_0.running_var",
            "residual_1.dense_0.weight",
            "residual_1.dense_0.bias",
            "residual_1.projection.weight",
            "trunk_0.dense_0.weight",
            "trunk_0.dense_0.bias",
            "trunk_0.batch_norm_0.weight",
            "trunk_0.batch_norm_0.bias",
            "trunk_0.batch_norm_0.running_mean",
            "trunk_0.batch_norm_0.running_var",
            "dense_1.weight",
            "dense_1.bias",
        ]
    );
    let frozen: Vec<&str> =
        seen.iter().filter(|(n, .., t)| !t && !n.contains("running")).map(|(n, ..)| n.as_str()).collect();
    assert_eq!(
        frozen,
        [
            "residual_1.dense_0.weight",
            "residual_1.dense_0.bias",
            "residual_1.projection.weight",
            "trunk_0.batch_norm_0.weight",
            "trunk_0.batch_norm_0.bias"
        ]
    );
}

// Chapter 11's forms (issue 14), all in one network.
network! {
    pub Chapter11<
        input(6);
        batch_norm(center = false);
        dense(5, prelu, init = variance_scaling(scale = 2, mode = fan_avg, distribution = uniform));
        repeat(2)< dense(5, selu, init = lecun_normal, max_norm = 0.5); alpha_dropout(0.1) >;
        residual< repeat(2)< dense(5, tanh) >; batch_norm(scale = false) >;
        batch_norm(center = false, scale = false);
        dense(3, softmax)
    >
}

#[test]
fn chapter_11_forms_name_count_and_check_their_gradients() {
    let names: Vec<String> = walk_ref(&Chapter11::seeded(1)).into_iter().map(|(n, ..)| n).collect();
    assert_eq!(
        names,
        [
            "batch_norm_0.weight",
            "batch_norm_0.running_mean",
            "batch_norm_0.running_var",
            "dense_0.weight",
            "dense_0.bias",
            "prelu_0.weight",
            "dense_1.weight",
            "dense_1.bias",
            "dense_2.weight",
            "dense_2.bias",
            "residual_0.dense_0.weight",
            "residual_0.dense_0.bias",
            "residual_0.dense_1.weight",
            "residual_0.dense_1.bias",
            "residual_0.batch_norm_0.bias",
            "residual_0.batch_norm_0.running_mean",
            "residual_0.batch_norm_0.running_var",
            "batch_norm_1.running_mean",
            "batch_norm_1.running_var",
            "dense_3.weight",
            "dense_3.bias",
        ]
    );
    // Keras' counts: gamma only (6) + 2 x 6 moving; 35 + 5 slopes; 2 x 30; body 2 x 30 + beta 5
    // + 2 x 5 moving; 2 x 5 moving; 18.
    let summary = Chapter11::summary();
    assert_eq!(Chapter11::PARAMS, 18 + 40 + 60 + 75 + 10 + 18);
    assert_eq!(Chapter11::TRAINABLE_PARAMS, 6 + 40 + 60 + 65 + 18);
    let table = summary.to_string();
    for row in [
        "batch_norm(center = false)",
        "prelu",
        "alpha_dropout(0.1)",
        "batch_norm(center = false, scale = false)",
    ] {
        assert!(table.contains(row), "{row} is not in\n{table}");
    }
    // The prelu slopes start at 0 (Keras): a fresh network computes relu there.
    assert!(Chapter11::seeded(1).prelu_0.get_tensor("weight").unwrap().iter().all(|a| *a == 0.0));
    // Gradients through every new layer, with slopes away from 0 (alpha dropout's mask is
    // fixed by the check's seed).
    let mut net = Chapter11::seeded(2);
    net.set_tensor("prelu_0.weight", &[0.1, -0.2, 0.3, 0.25, 0.05]).unwrap();
    let tol = Tolerance { eps: 3e-3, atol: 3e-3, rtol: 3e-2 };
    check(&mut net, &input::<6>(4, 7), Mode::Train, tol, 20).unwrap();
    check(&mut net, &input::<6>(4, 8), Mode::Infer, tol, 20).unwrap();
}

#[test]
fn max_norm_holds_after_every_step_of_fit_and_spares_frozen_layers() {
    network! { Constrained< input(4); dense(8, relu, max_norm = 0.5); dense(3, softmax, max_norm = 0.1) > }
    let row_norms = |w: &[f32], inputs: usize| -> Vec<f32> {
        w.chunks_exact(inputs).map(|r| r.iter().map(|x| x * x).sum::<f32>().sqrt()).collect()
    };
    let x: Vec<f32> = (0..64 * 4).map(|i| ((i * 37 % 17) as f32 - 8.0) / 4.0).collect();
    let data = Dataset::classification(x, 4, (0..64).map(|i| i % 3).collect()).unwrap();
    // A large rate, so the unconstrained weights would grow past the bounds.
    let mut model =
        Model::compile(Constrained::seeded(1), Sgd::new(1.0), SparseCategoricalCrossentropy::new());
    let frozen_before = model.net.dense_1.weight().to_vec();
    model.net.dense_1.set_trainable(false);
    model.fit(&data, Fit::new().epochs(3).batch_size(8).verbose(Verbosity::Silent)).unwrap();
    assert!(row_norms(model.net.dense_0.weight(), 4).iter().all(|n| *n <= 0.5 + 1e-6));
    assert_eq!(model.net.dense_1.weight(), &frozen_before[..], "a frozen layer's kernel moved");
    // The initial dense_1 rows are above 0.1: untouched while frozen, constrained once trained.
    assert!(row_norms(&frozen_before, 8).iter().any(|n| *n > 0.1));
    model.net.dense_1.set_trainable(true);
    model.fit(&data, Fit::new().epochs(1).batch_size(8).verbose(Verbosity::Silent)).unwrap();
    assert!(row_norms(model.net.dense_1.weight(), 8).iter().all(|n| *n <= 0.1 + 1e-6));
}

#[test]
fn repeat_is_the_layers_written_out() {
    network! { Repeated< input(4); repeat(3)< dense(4, tanh); batch_norm > ; dense(2) > }
    network! { Written< input(4); dense(4, tanh); batch_norm; dense(4, tanh); batch_norm; dense(4, tanh); batch_norm; dense(2) > }
    assert_eq!(
        Repeated::summary().to_string().replace("Repeated", "Written"),
        Written::summary().to_string()
    );
    let (mut a, mut b) = (Repeated::seeded(5), Written::seeded(5));
    assert_eq!(walk_ref(&a), walk_ref(&b));
    let x = input::<4>(3, 1);
    assert_eq!(a.predict(&x).as_slice(), b.predict(&x).as_slice());
}
