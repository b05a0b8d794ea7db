// The mlp-wasm module's exports (anywhere/wasm/src/lib.rs) behind a small class, for the
// page and for Node alike: only the standard `WebAssembly` API, no generated glue.

/** Fashion-MNIST's classes, by index. */
export const CLASS_NAMES = [
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
];

/** The module's error codes (lib.rs), by number. */
export const ERROR_CODES = {
  1: "BAD_WEIGHTS",
  2: "NO_WEIGHTS_BUFFER",
  3: "NOT_LOADED",
  4: "BAD_COUNT",
  5: "TRAPPED",
};

const EXPORTS = [
  "memory", "weights_alloc", "weights_load", "input_alloc", "predict",
  "output_ptr", "labels_ptr", "error_ptr", "error_len", "input_width", "classes",
];

/** A failed call: `code` is the module's error code, `message` its text. */
export class WasmError extends Error {
  constructor(call, code, message) {
    super(`${call}: ${message} (${ERROR_CODES[code] ?? "code " + code})`);
    this.name = "WasmError";
    this.code = code;
  }
}

export class Classifier {
  /** `bytes`: the .wasm file (ArrayBuffer or typed array). */
  static async instantiate(bytes) {
    let module;
    try {
      module = await WebAssembly.compile(bytes);
    } catch (e) {
      // The one feature beyond WebAssembly 1.0 the module uses (anywhere/wasm/.cargo/config.toml).
      const simd = WebAssembly.validate(new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
      ]));
      throw new Error(simd ? `the wasm module does not compile: ${e.message}`
        : "this WebAssembly engine lacks SIMD (simd128), which the module is built with");
    }
    // The module is built to need nothing from its host; an import means a build that
    // pulled in something else (wasm-bindgen, WASI, a std shim).
    const imports = WebAssembly.Module.imports(module);
    if (imports.length > 0) {
      const names = imports.map((i) => `${i.module}.${i.name}`).join(", ");
      throw new Error(`the wasm module imports ${names}; mlp-wasm should import nothing`);
    }
    const instance = await WebAssembly.instantiate(module, {});
    return new Classifier(instance);
  }

  constructor(instance) {
    const e = instance.exports;
    const missing = EXPORTS.filter((name) => !(name in e));
    if (missing.length > 0) {
      throw new Error(`the wasm module lacks the exports ${missing.join(", ")}`);
    }
    this.exports = e;
    this.width = e.input_width();
    this.classes = e.classes();
  }

  /** The module's last error message. */
  lastError() {
    const e = this.exports;
    const bytes = new Uint8Array(e.memory.buffer, e.error_ptr(), e.error_len());
    return new TextDecoder().decode(bytes);
  }

  /** Throws a WasmError for a non-zero code from `call`. */
  #check(call, code) {
    if (code !== 0) {
      throw new WasmError(call, code, this.lastError());
    }
  }

  /**
   * Calls the export `name`; a trap (a panic in the module) becomes a WasmError with the
   * panic's message and code 5 (TRAPPED), which every later call returns too.
   */
  #call(name, ...args) {
    try {
      return this.exports[name](...args);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        throw new WasmError(name, 5, `${this.lastError() || "trapped"} (${e.message})`);
      }
      throw e;
    }
  }

  /** Loads a safetensors file's bytes (the main job's `--save`). */
  loadWeights(bytes) {
    const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const e = this.exports;
    const ptr = this.#call("weights_alloc", data.length);
    if (ptr === 0) this.#check("weights_alloc", 5);
    // A view made after the call: growing the memory detaches older ones.
    new Uint8Array(e.memory.buffer, ptr, data.length).set(data);
    this.#check("weights_load", this.#call("weights_load"));
  }

  /** Loads the weights built into the module (its `embed` feature). */
  loadEmbeddedWeights() {
    if (!("weights_load_embedded" in this.exports)) {
      throw new Error("this wasm module was built without the embed feature");
    }
    this.#check("weights_load_embedded", this.#call("weights_load_embedded"));
  }

  /**
   * Classifies `images`: n * 784 floats (pixels / 255, row-major). Returns
   * `{ probabilities: Float32Array(n * 10), labels: Uint32Array(n) }`, copies of the
   * module's buffers.
   */
  classify(images) {
    const n = images.length / this.width;
    if (!Number.isInteger(n) || n === 0) {
      throw new Error(`classify: expected a positive multiple of ${this.width} floats, found ${images.length}`);
    }
    const e = this.exports;
    const ptr = this.#call("input_alloc", n);
    if (ptr === 0) this.#check("input_alloc", 5);
    new Float32Array(e.memory.buffer, ptr, images.length).set(images);
    this.#check("predict", this.#call("predict", n));
    const probabilities = new Float32Array(e.memory.buffer, e.output_ptr(), n * this.classes).slice();
    const labels = new Uint32Array(e.memory.buffer, e.labels_ptr(), n).slice();
    return { probabilities, labels };
  }
}

/**
 * Reads an uncompressed IDX file (big-endian u32 magic, count, dims, then u8 data):
 * `{ count, dims, data }`, checked against the expected magic (2051 images, 2049 labels).
 */
export function readIdx(bytes, magic) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 8 || view.getUint32(0) !== magic) {
    throw new Error(`not an IDX file with magic ${magic}`);
  }
  const ndims = magic & 0xff;
  const header = 4 + 4 * ndims;
  const dims = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, d) => a * d, 1);
  if (b.length !== header + size) {
    throw new Error(`IDX dims ${dims.join("x")} need ${header + size} bytes, found ${b.length}`);
  }
  return { count: dims[0], dims, data: b.subarray(header) };
}

/** Writes an IDX file of u8 data: the inverse of `readIdx`. */
export function writeIdx(magic, dims, data) {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, header);
  return out;
}

/** Pixels 0..255 to the network's input, as the Rust loader scales them (f32 p / 255). */
export function scalePixels(pixels) {
  const out = new Float32Array(pixels.length);
  // Float32Array rounds each double quotient to f32: the same value as Rust's f32 division
  // (double rounding is exact for a quotient of small integers).
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}
