#!/usr/bin/env bash
# The browser half of "run it anywhere" (issue 16), from a clean clone:
#
#   anywhere/check.sh DATA_DIR WORK_DIR
#
# DATA_DIR holds fashion-mnist/ (as MLP_DATA_DIR does); WORK_DIR receives everything made
# here. Steps: lint the module's source, train the main job's batch-norm model one epoch
# (its weights), build the wasm module (weights loaded at run time) and a variant with the
# weights embedded, write the native portable path's reference outputs, check the module
# against them under Node, report sizes, lay out the web page and check it in headless
# Chromium. Each part prints its wall time ("anywhere: <part> took N s").
#
# Fails (non-zero) on any check that fails. Skips, saying why, only what the machine cannot
# do: the wasm build without the wasm32v1-none target (exit 0, nothing checked), and the
# browser check when Chromium cannot be installed.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: anywhere/check.sh DATA_DIR WORK_DIR" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
repo=$(pwd)
data=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
export CARGO_TERM_COLOR=never
# The root crate's builds go where the rest of CI put them (so the main job and the test
# binary are reused); the wasm package into a folder of its own below it, absolute, since
# it builds from its own directory.
target=${CARGO_TARGET_DIR:-$repo/target}
mkdir -p "$target"
target=$(cd "$target" && pwd)
wasm_target="$target/anywhere"
wasm_triple=wasm32v1-none

part_start=$SECONDS
took() {
    echo "anywhere: $1 took $((SECONDS - part_start)) s"
    part_start=$SECONDS
}

if [ ! -f "$data/fashion-mnist/t10k-images-idx3-ubyte.gz" ]; then
    echo "anywhere: no Fashion-MNIST under $data/fashion-mnist" >&2
    exit 2
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' 2>/dev/null; then
    echo "anywhere: Node 18 or later is needed for the wasm and page checks (found: $(node --version 2>&1 || true))" >&2
    exit 1
fi
if ! rustup target list --installed 2>/dev/null | grep -qx "$wasm_triple"; then
    echo "anywhere: checks skipped: the $wasm_triple target is not installed (rustup target add $wasm_triple)"
    exit 0
fi

# 0. The module's source: rustfmt and clippy, for both wasm targets it builds for.
(cd anywhere/wasm && cargo fmt --check &&
    for t in "$wasm_triple" wasm32-unknown-unknown; do
        if rustup target list --installed | grep -qx "$t"; then
            CARGO_TARGET_DIR="$wasm_target" cargo clippy --release --target "$t" -- -D warnings
        fi
    done)
took "rustfmt and clippy (anywhere/wasm)"

# 1. The weights: the main job, one epoch (reusing its binary if CI built it already).
weights="$work/model.safetensors"
cargo build --example fashion_mnist
MLP_DATA_DIR="$data" "$target/debug/examples/fashion_mnist" --model batchnorm --epochs 1 --quiet --save "$weights" |
    sed 's/^/main job: /'
took "training the weights (main job, 1 epoch)"

# 2. The module, weights at run time; then the variant with them embedded.
# From the package's folder, so cargo reads its .cargo/config.toml (simd128).
wasm_build() {
    (cd anywhere/wasm && CARGO_TARGET_DIR="$wasm_target" cargo build --release --target "$wasm_triple" "$@")
}
wasm_out="$wasm_target/$wasm_triple/release/mlp_wasm.wasm"
wasm_build
cp "$wasm_out" "$work/mlp_wasm.wasm"
took "building the wasm module"
MLP_WASM_WEIGHTS="$weights" wasm_build --features embed
cp "$wasm_out" "$work/mlp_wasm_embedded.wasm"
took "building the wasm module with embedded weights"

# 3. The native reference: the same weights and images on the portable path.
MLP_DATA_DIR="$data" MLP_WASM_WEIGHTS="$weights" MLP_WASM_REFERENCE="$work/reference.json" \
    cargo test --test anywhere -- --ignored --exact write_wasm_reference
took "native reference (cargo test --test anywhere)"

# 4. The module under Node, against the reference; both variants.
node anywhere/wasm/check.mjs --wasm "$work/mlp_wasm.wasm" --weights "$weights" \
    --data "$data/fashion-mnist" --reference "$work/reference.json"
node anywhere/wasm/check.mjs --wasm "$work/mlp_wasm_embedded.wasm" --weights "$weights" \
    --data "$data/fashion-mnist" --reference "$work/reference.json" --embedded
took "wasm check under Node"

# 5. Sizes, with binaryen's wasm-opt -Oz where it installs (npm, pinned).
size_of() { printf '%s bytes (%s gzipped)' "$(wc -c <"$1")" "$(gzip -9 -c "$1" | wc -c)"; }
echo "size: weights file: $(size_of "$weights")"
echo "size: wasm module, weights loaded at run time: $(size_of "$work/mlp_wasm.wasm")"
echo "size: wasm module with the weights embedded: $(size_of "$work/mlp_wasm_embedded.wasm")"
binaryen_version=132.0.0
wasm_opt="$work/binaryen/node_modules/.bin/wasm-opt"
if [ -x "$wasm_opt" ] || timeout 120 npm install --prefix "$work/binaryen" --no-save --no-audit --no-fund \
    --loglevel=error "binaryen@$binaryen_version" >/dev/null; then
    # Only the features the module has (wasm32v1-none's plus simd128): wasm-opt must not
    # add others (bulk memory, sign extension) that older engines lack.
    "$wasm_opt" -Oz --mvp-features --enable-mutable-globals --enable-simd \
        "$work/mlp_wasm.wasm" -o "$work/mlp_wasm.opt.wasm"
    echo "size: wasm module after wasm-opt -Oz: $(size_of "$work/mlp_wasm.opt.wasm")"
    # The optimized module must still pass: wasm-opt rewrites code, it must not change results.
    node anywhere/wasm/check.mjs --wasm "$work/mlp_wasm.opt.wasm" --weights "$weights" \
        --data "$data/fashion-mnist" --reference "$work/reference.json"
else
    echo "size: wasm-opt skipped: binaryen@$binaryen_version did not install from npm"
fi
took "sizes"

# 6. The page in headless Chromium: Debian's package, installed if missing.
site="$work/site"
rm -rf "$site"
node anywhere/web/prepare.mjs --out "$site" --wasm "$work/mlp_wasm.wasm" --weights "$weights" \
    --data "$data/fashion-mnist"
chromium_ok=true
if ! command -v chromium >/dev/null; then
    echo "installing Debian's chromium"
    if ! { timeout 300 apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq -o DPkg::Lock::Timeout=120 chromium \
            >"$work/chromium-install.log" 2>&1; }; then
        echo "anywhere: page check skipped: chromium did not install; the end of apt-get's log:"
        tail -n 15 "$work/chromium-install.log" 2>/dev/null || true
        chromium_ok=false
    fi
fi
took "laying out the page and installing Chromium"
if $chromium_ok; then
    # The label the page must show: native predict's class of test image 0.
    expected=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).predicted[0])' \
        "$work/reference.json")
    page=0
    node anywhere/web/headless.mjs --site "$site" --image 0 --expect "$expected" --screenshot "$work/page.png" ||
        page=$?
    if [ "$page" = 3 ]; then
        echo "anywhere: page check skipped: Chromium is installed but does not start (see above)"
    elif [ "$page" != 0 ]; then
        exit "$page"
    fi
    took "page check in headless Chromium"
fi
echo "anywhere: ok (outputs in $work)"
