// Lays out the page's folder: the page's files, the wasm module, the weights and the first
// test images (a few KB, made here rather than committed).
//
//   node anywhere/web/prepare.mjs --out SITE_DIR --wasm mlp_wasm.wasm \
//       --weights model.safetensors --data "$MLP_DATA_DIR/fashion-mnist" [--count 100]

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readIdx, writeIdx } from "./mlp.js";

const { values: args } = parseArgs({
  options: {
    out: { type: "string" },
    wasm: { type: "string" },
    weights: { type: "string" },
    data: { type: "string" },
    count: { type: "string", default: "100" },
  },
});
for (const flag of ["out", "wasm", "weights", "data"]) {
  if (!args[flag]) {
    console.error(`error: --${flag} is required
usage: node prepare.mjs --out SITE_DIR --wasm FILE --weights FILE --data DIR [--count N]`);
    process.exit(2);
  }
}
const count = Number(args.count);
if (!Number.isInteger(count) || count < 1) {
  console.error(`error: --count must be a positive integer, found ${args.count}`);
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(args.out, { recursive: true });
for (const file of ["index.html", "app.js", "mlp.js"]) {
  copyFileSync(join(here, file), join(args.out, file));
}
// The names app.js fetches.
copyFileSync(args.wasm, join(args.out, "mlp_wasm.wasm"));
copyFileSync(args.weights, join(args.out, "model.safetensors"));
const gz = (name) => gunzipSync(readFileSync(join(args.data, name)));
const images = readIdx(gz("t10k-images-idx3-ubyte.gz"), 2051);
const labels = readIdx(gz("t10k-labels-idx1-ubyte.gz"), 2049);
const [, rows, cols] = images.dims;
if (count > images.count) {
  console.error(`error: --count ${count}: the test set has ${images.count} images`);
  process.exit(2);
}
writeFileSync(
  join(args.out, "test-images-idx3-ubyte"),
  writeIdx(2051, [count, rows, cols], images.data.subarray(0, count * rows * cols)),
);
writeFileSync(join(args.out, "test-labels-idx1-ubyte"), writeIdx(2049, [count], labels.data.subarray(0, count)));
console.log(`page laid out in ${args.out} with the first ${count} test images`);
