// The wasm module against the native portable path: it classifies the first Fashion-MNIST
// test images under Node and must give the native reference's probabilities to 1e-6
// (absolute) and its labels on every image. Only Node's `WebAssembly` API, no packages.
//
//   node anywhere/wasm/check.mjs --wasm mlp_wasm.wasm --weights model.safetensors \
//       --data "$MLP_DATA_DIR/fashion-mnist" --reference reference.json [--embedded]
//
// The reference comes from `cargo test --test anywhere -- --ignored` (tests/anywhere.rs).
// With --embedded the module's built-in weights are used and --weights is only for the
// error-path checks. Exit status 1 on any difference, 2 for bad usage.

import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Classifier, WasmError, readIdx, scalePixels, CLASS_NAMES } from "../web/mlp.js";

const TOLERANCE = 1e-6;

function usage(message) {
  console.error(`error: ${message}
usage: node check.mjs --wasm FILE --weights FILE --data DIR --reference FILE [--embedded]`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      wasm: { type: "string" },
      weights: { type: "string" },
      data: { type: "string" },
      reference: { type: "string" },
      embedded: { type: "boolean", default: false },
    },
  }).values;
} catch (e) {
  usage(e.message);
}
for (const flag of ["wasm", "weights", "data", "reference"]) {
  if (!args[flag]) usage(`--${flag} is required`);
}

/** Everything that went wrong; the check fails if any. */
const failures = [];
function expect(ok, message) {
  if (!ok) failures.push(message);
  return ok;
}

/** `f()` must throw a WasmError with `code`. */
function expectError(what, code, f) {
  try {
    f();
    failures.push(`${what}: succeeded; expected error code ${code}`);
  } catch (e) {
    if (!(e instanceof WasmError)) throw e;
    expect(e.code === code, `${what}: error code ${e.code} (${e.message}); expected ${code}`);
    expect(e.message.length > 20, `${what}: the message is too short to help: ${e.message}`);
    console.log(`  ${what}: ${e.message}`);
  }
}

const read = (path, what) => {
  try {
    return readFileSync(path);
  } catch (e) {
    console.error(`error: ${what}: ${e.message}`);
    process.exit(2);
  }
};
const wasmBytes = read(args.wasm, "--wasm");
const weights = read(args.weights, "--weights");
const reference = JSON.parse(read(args.reference, "--reference"));
const n = reference.count;
const gz = (name) => gunzipSync(read(join(args.data, name), "--data"));
const images = readIdx(gz("t10k-images-idx3-ubyte.gz"), 2051);
const labels = readIdx(gz("t10k-labels-idx1-ubyte.gz"), 2049);
if (images.count < n || images.dims[1] * images.dims[2] !== 784) {
  usage(`--data: expected at least ${n} images of 28x28, found ${images.dims.join("x")}`);
}
const truth = Array.from(labels.data.subarray(0, n));
// The reference read the same files through the Rust loader.
expect(
  truth.every((l, i) => l === reference.labels[i]),
  "the IDX labels differ from the reference's: not the same data?",
);

// The error paths, on a fresh instance: each call fails with its code and a message.
console.log("error paths:");
{
  const fresh = await Classifier.instantiate(wasmBytes);
  expectError("predict before loading", 3, () => fresh.classify(new Float32Array(784)));
  expectError("truncated weights", 1, () => fresh.loadWeights(weights.subarray(0, 1000)));
  const wrong = Buffer.from(weights);
  // The header's first tensor name, renamed: the loader must name what is missing.
  const at = wrong.indexOf("dense_0.weight");
  if (expect(at > 0, "the weights file has no dense_0.weight")) {
    wrong.write("dense_9", at);
    expectError("a renamed tensor", 1, () => fresh.loadWeights(wrong));
  }
  expectError("predict(0)", 4, () => {
    fresh.loadWeights(weights);
    fresh.exports.input_alloc(1);
    const code = fresh.exports.predict(0);
    if (code !== 0) throw new WasmError("predict", code, fresh.lastError());
  });
}

// A panic: room for more images than wasm32 can address. The call traps, the message stays
// readable, and every later call refuses (the trap left the state half-updated).
{
  const doomed = await Classifier.instantiate(wasmBytes);
  let trapped = false;
  try {
    doomed.exports.input_alloc(2_000_000);
  } catch (e) {
    trapped = e instanceof WebAssembly.RuntimeError;
  }
  expect(trapped, "input_alloc(2000000) did not trap");
  const message = doomed.lastError();
  expect(/panicked.*capacity overflow/s.test(message), `the panic's message is not kept: "${message}"`);
  console.log(`  a panic: ${message.replace(/\s+/g, " ")}`);
  expectError("a call after a panic", 5, () => doomed.loadWeights(weights));
}

// The check proper.
const classifier = await Classifier.instantiate(wasmBytes);
if (args.embedded) {
  classifier.loadEmbeddedWeights();
} else {
  classifier.loadWeights(weights);
}
const input = scalePixels(images.data.subarray(0, n * 784));
const start = performance.now();
const { probabilities, labels: predicted } = classifier.classify(input);
const ms = performance.now() - start;

let maxDiff = 0;
let maxAt = "";
let sameBits = 0;
let agree = 0;
let correct = 0;
for (let i = 0; i < n; i++) {
  const ref = reference.probabilities[i];
  for (let c = 0; c < 10; c++) {
    // The JSON holds each f32 as its shortest decimal: Math.fround gives the f32 back.
    const want = Math.fround(ref[c]);
    const got = probabilities[i * 10 + c];
    const diff = Math.abs(got - want);
    if (!(diff <= maxDiff)) {
      maxDiff = diff;
      maxAt = `image ${i}, class ${c}: wasm ${got}, native ${want}`;
    }
    if (Object.is(got, want)) sameBits++;
  }
  if (predicted[i] === reference.predicted[i]) {
    agree++;
  } else {
    failures.push(
      `image ${i}: wasm says ${CLASS_NAMES[predicted[i]]}, native predict says ${CLASS_NAMES[reference.predicted[i]]}`,
    );
  }
  if (predicted[i] === truth[i]) correct++;
}
expect(maxDiff <= TOLERANCE, `largest difference ${maxDiff} > ${TOLERANCE} (${maxAt})`);

console.log(`weights: ${args.embedded ? "embedded in the module" : `${weights.length} bytes loaded at run time`}`);
console.log(`classified ${n} images in ${ms.toFixed(1)} ms`);
console.log(`largest difference from the native portable path: ${maxDiff.toExponential(2)}${maxDiff > 0 ? ` (${maxAt})` : ""}`);
console.log(`probabilities with the same bits: ${sameBits}/${n * 10}`);
console.log(`labels agreeing with native predict: ${agree}/${n}`);
console.log(`accuracy against the true labels: ${correct}/${n} (native: ${reference.predicted.filter((p, i) => p === truth[i]).length}/${n})`);
if (failures.length > 0) {
  console.error(`FAILED (${failures.length}):`);
  for (const f of failures.slice(0, 20)) console.error(`  ${f}`);
  process.exit(1);
}
console.log("wasm check: ok");
