//! Training on the real Fashion-MNIST, with floors that a broken optimizer or a wrong
//! gradient cannot pass. Ignored by default; CI runs them with the data:
//! `MLP_DATA_DIR=../shared/data cargo test --test fashion_mnist_real -- --ignored`.

use mlp::prelude::*;

network! { Plain< flatten(28, 28); dense(300, relu); dense(100, relu); dense(10, softmax) > }
network! { DropoutElu< flatten(28, 28); dropout(0.2); dense(300, elu); dense(100, elu); dropout(0.2); dense(10, softmax) > }

fn data() -> (Dataset, Dataset) {
    fashion_mnist::load().expect("set MLP_DATA_DIR to a folder with fashion-mnist/")
}

#[test]
#[ignore = "needs the real datasets: MLP_DATA_DIR=../shared/data"]
fn plain_sgd_two_epochs_reaches_keras_territory() {
    // Keras 3, same model and optimizer: 78.9% after 1 epoch, 84.2% after 5.
    let (train, test) = data();
    let mut model = Model::compile(Plain::seeded(42), Sgd::new(0.01), SparseCategoricalCrossentropy::new());
    model.fit(&train, Fit::new().epochs(2).verbose(Verbosity::Lines)).unwrap();
    let acc = model.evaluate(&test).unwrap().get("accuracy").unwrap();
    eprintln!("plain, 2 epochs: test accuracy {acc:.4}");
    assert!(acc > 0.81, "test accuracy {acc}");
}

#[test]
#[ignore = "needs the real datasets: MLP_DATA_DIR=../shared/data"]
fn dropout_adam_one_epoch() {
    // Keras 3: 87.1% after 10 epochs; one epoch of Adam is well above 80%.
    let (train, test) = data();
    let mut model =
        Model::compile(DropoutElu::seeded(42), Adam::new(1e-3), SparseCategoricalCrossentropy::new());
    model.fit(&train, Fit::new().epochs(1).verbose(Verbosity::Lines)).unwrap();
    let acc = model.evaluate(&test).unwrap().get("accuracy").unwrap();
    eprintln!("dropout, 1 epoch: test accuracy {acc:.4}");
    assert!(acc > 0.82, "test accuracy {acc}");
}

// Chapter 11 (issue 14): each technique trains on the real data; the example
// `chapter_11` reports the full runs.
network! { SeluDeep< flatten(28, 28); repeat(20)< dense(100, selu, init = lecun_normal) >; alpha_dropout(0.1); dense(10, softmax) > }
network! { MaxNormed< flatten(28, 28); dense(300, relu, init = he_normal, max_norm = 1.0); dense(100, relu, init = he_normal, max_norm = 1.0); dense(10, softmax) > }
network! { Parametric< flatten(28, 28); dense(300, prelu, init = he_normal); dense(100, prelu, init = he_normal); dense(10, softmax) > }

fn accuracy<N: Net<784, 10>, O: Optimizer, L: Loss>(model: &mut Model<N, O, L>, test: &Dataset) -> f32 {
    model.evaluate(test).unwrap().get("accuracy").unwrap()
}

#[test]
#[ignore = "needs the real datasets: MLP_DATA_DIR=../shared/data"]
fn a_20_layer_selu_stack_learns_on_standardized_inputs() {
    // Keras 3, same model, SGD(1e-3, momentum 0.9), 2 epochs: 85.2% (ours 85.7%).
    let (mut train, mut test) = data();
    let scaler = Standardizer::fit(&train);
    scaler.apply(&mut train).unwrap();
    scaler.apply(&mut test).unwrap();
    let mut model = Model::compile(
        SeluDeep::seeded(42),
        Sgd::new(1e-3).momentum(0.9),
        SparseCategoricalCrossentropy::new(),
    );
    model.fit(&train, Fit::new().epochs(1).verbose(Verbosity::Lines)).unwrap();
    let acc = accuracy(&mut model, &test);
    eprintln!("20 x selu + alpha_dropout, 1 epoch: test accuracy {acc:.4}");
    assert!(acc > 0.80, "test accuracy {acc}");
}

#[test]
#[ignore = "needs the real datasets: MLP_DATA_DIR=../shared/data"]
fn max_norm_bounds_every_row_and_prelu_learns_its_slopes() {
    let (train, test) = data();
    let sgd = || Sgd::new(0.01).momentum(0.9);
    let mut model = Model::compile(MaxNormed::seeded(42), sgd(), SparseCategoricalCrossentropy::new());
    model.fit(&train, Fit::new().epochs(1).verbose(Verbosity::Lines)).unwrap();
    let largest = |w: &[f32], inputs: usize| {
        w.chunks_exact(inputs).map(|r| r.iter().map(|x| x * x).sum::<f32>().sqrt()).fold(0.0, f32::max)
    };
    let (n0, n1) = (largest(model.net.dense_0.weight(), 784), largest(model.net.dense_1.weight(), 300));
    let acc = accuracy(&mut model, &test);
    eprintln!("max_norm = 1, 1 epoch: test accuracy {acc:.4}, largest row norms {n0} and {n1}");
    // Rows at the limit (training pushes them there) and none beyond it.
    assert!(n0 <= 1.0 + 1e-6 && n1 <= 1.0 + 1e-6 && n0 > 0.99, "{n0} {n1}");
    assert!(acc > 0.82, "test accuracy {acc}");

    let mut model = Model::compile(Parametric::seeded(42), sgd(), SparseCategoricalCrossentropy::new());
    model.fit(&train, Fit::new().epochs(1).verbose(Verbosity::Lines)).unwrap();
    let acc = accuracy(&mut model, &test);
    let slopes = model.net.prelu_0.get_tensor("weight").unwrap();
    eprintln!("prelu, 1 epoch: test accuracy {acc:.4}");
    assert!(slopes.iter().any(|a| *a != 0.0), "the slopes never moved from 0");
    assert!(acc > 0.82, "test accuracy {acc}");
}
