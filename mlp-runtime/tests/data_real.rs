//! The real Fashion-MNIST and MNIST files, found through `MLP_DATA_DIR`:
//! `MLP_DATA_DIR=../shared/data cargo test -p mlp-runtime --test data_real -- --ignored`

use std::path::{Path, PathBuf};

use mlp_runtime::data::{fashion_mnist, mnist};

/// `$MLP_DATA_DIR/<name>`. A relative path is taken from the workspace root, where
/// one types the command, not from the crate folder that cargo runs tests in.
fn data_dir(name: &str) -> PathBuf {
    let dir =
        std::env::var_os("MLP_DATA_DIR").expect("set MLP_DATA_DIR to the folder holding fashion-mnist/");
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir).join(name)
}

#[test]
#[ignore = "needs the real datasets: MLP_DATA_DIR=../shared/data"]
fn fashion_mnist_has_6000_train_and_1000_test_images_per_class() {
    let (train, test) = fashion_mnist::load_from(data_dir("fashion-mnist")).unwrap();
    assert_eq!((train.len(), test.len(), train.width(), test.width()), (60_000, 10_000, 784, 784));
    assert_eq!(train.class_counts(), [6000; 10]);
    assert_eq!(test.class_counts(), [1000; 10]);
    assert_eq!(fashion_mnist::CLASS_NAMES[9], "Ankle boot");
    let (lo, hi) = train.features().iter().fold((f32::MAX, f32::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    assert_eq!((lo, hi), (0.0, 1.0), "pixels are scaled to [0, 1]");
}

#[test]
#[ignore = "needs the real datasets: MLP_DATA_DIR=../shared/data"]
fn mnist_labels_match_the_published_ones() {
    let source = mnist::source();
    let search = mlp_runtime::data::Search { dirs: vec![data_dir("mnist")], ..Default::default() };
    let (train, test) = source.load_raw(&search).unwrap();
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    assert_eq!(&train.classes().unwrap()[..10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(&test.classes().unwrap()[..10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    assert_eq!(train.class_counts(), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    assert!(train.features().contains(&255.0), "load_raw keeps 0..=255");
}
