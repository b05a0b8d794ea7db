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
