#!/usr/bin/env python3
"""The Keras half of the accuracy table in README.md and examples/keras_parity.rs.

Trains the main job's three Fashion-MNIST models (examples/fashion_mnist/models.rs) in
Keras 3 exactly as `cargo run --release --example keras_parity` trains ours: the whole
60,000-image training set (no validation split), pixels / 255, batch size 32, Keras'
default initializers and hyper-parameters, and prints test accuracy after the same
epochs, per seed and as the mean of the seeds, as a Markdown table.

    python3 -m venv ~/.cache/mlp/keras-venv
    ~/.cache/mlp/keras-venv/bin/pip install tensorflow-cpu==2.21.0
    ~/.cache/mlp/keras-venv/bin/python scripts/keras_parity.py            # ~200 epochs, hours
    ~/.cache/mlp/keras-venv/bin/python scripts/keras_parity.py plain      # one model
    ~/.cache/mlp/keras-venv/bin/python scripts/keras_parity.py --quick    # smoke test

Never run in CI (TensorFlow is a large download and the run takes hours on 2 cores).

Data: the IDX files under $MLP_DATA_DIR/fashion-mnist (this repository's data layout,
offline), else keras.datasets.fashion_mnist.load_data() (downloads).

Options: model names (plain, batchnorm, dropout; default all), --seeds 1,2,3,
--quick (seed 1, the first mark only, 6,000 training images: checks the script runs,
its numbers mean nothing).
"""

import argparse
import gzip
import os
import struct
import sys

import numpy as np

# Test accuracy is recorded after these epochs (as examples/keras_parity.rs does).
MARKS = {"plain": [1, 5, 10, 30], "batchnorm": [3, 20], "dropout": [10]}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion_mnist():
    root = os.environ.get("MLP_DATA_DIR")
    if root:
        folder = os.path.join(root, "fashion-mnist")
        stems = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
        found = []
        for stem in stems:
            for name in (stem + ".gz", stem):
                if os.path.exists(os.path.join(folder, name)):
                    found.append(os.path.join(folder, name))
                    break
        if len(found) == 4:
            log(f"data: {folder}")
            x, y, xt, yt = (read_idx(p) for p in found)
            return (x, y), (xt, yt)
        log(f"data: {folder} lacks some of {stems}; downloading with Keras")
    import keras
    return keras.datasets.fashion_mnist.load_data()


def build(name):
    import keras
    from keras import layers

    if name == "plain":
        model = keras.Sequential([
            keras.Input((28, 28)), layers.Flatten(),
            layers.Dense(300, activation="relu"), layers.Dense(100, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
        optimizer = keras.optimizers.SGD(0.01)
    elif name == "batchnorm":
        model = keras.Sequential([
            keras.Input((28, 28)), layers.Flatten(),
            layers.BatchNormalization(), layers.Dense(300, activation="relu"),
            layers.BatchNormalization(), layers.Dense(100, activation="relu"),
            layers.BatchNormalization(), layers.Dense(10, activation="softmax"),
        ])
        optimizer = keras.optimizers.SGD(0.01)
    elif name == "dropout":
        model = keras.Sequential([
            keras.Input((28, 28)), layers.Flatten(),
            layers.Dropout(0.2), layers.Dense(300, activation="elu"),
            layers.Dense(100, activation="elu"), layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ])
        optimizer = keras.optimizers.Adam(1e-3)
    else:
        raise SystemExit(f"keras_parity: unknown model {name} (expected plain, batchnorm or dropout)")
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def accuracies(name, seed, marks, train, test):
    import keras

    keras.utils.set_random_seed(seed)
    model = build(name)
    out, done = [], 0
    for mark in marks:
        # One run of `mark` epochs, evaluated at each mark (fit continues where it stopped).
        model.fit(*train, batch_size=32, epochs=mark, initial_epoch=done, verbose=0)
        done = mark
        out.append(model.evaluate(*test, batch_size=1000, verbose=0)[1])
        log(f"{name} seed {seed} epoch {mark}: {out[-1]:.4f}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=list(MARKS))
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    seeds = [1] if a.quick else [int(s) for s in a.seeds.split(",")]
    (x, y), (xt, yt) = load_fashion_mnist()
    x, xt = x.astype("float32") / 255.0, xt.astype("float32") / 255.0
    if a.quick:
        x, y = x[:6000], y[:6000]
    import keras

    print(f"Keras {keras.__version__}, seeds {', '.join(map(str, seeds))}, batch size 32"
          + (" (--quick: numbers mean nothing)" if a.quick else ""))
    print()
    print("| model | epochs | Keras (mean of seeds) | each seed |")
    print("|---|---|---|---|")
    for name in a.models:
        marks = MARKS.get(name, [1])[:1] if a.quick else MARKS.get(name, [])
        if not marks:
            raise SystemExit(f"keras_parity: unknown model {name} (expected {', '.join(MARKS)})")
        runs = [accuracies(name, s, marks, (x, y), (xt, yt)) for s in seeds]
        for i, mark in enumerate(marks):
            each = [r[i] for r in runs]
            print(f"| {name} | {mark} | {100 * np.mean(each):.1f} | "
                  f"{' / '.join(f'{100 * v:.1f}' for v in each)} |", flush=True)


if __name__ == "__main__":
    main()
