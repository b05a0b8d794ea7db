// The page: loads the wasm module and its weights (served beside this file), classifies
// what is drawn on the canvas or one of the test images. `?image=K` classifies test image K
// on load (`&source=canvas`: as read back from the canvas), which is how the headless check
// drives it. When done, <body> carries
// data-status="done" (or "error") and the prediction element data-class and data-rect.

import { Classifier, CLASS_NAMES, readIdx, scalePixels } from "./mlp.js";

// Files laid beside the page by anywhere/web/prepare.mjs.
const FILES = {
  wasm: "mlp_wasm.wasm",
  weights: "model.safetensors",
  images: "test-images-idx3-ubyte",
  labels: "test-labels-idx1-ubyte",
};
const SIDE = 28;
const SCALE = 10;

const canvas = document.getElementById("canvas");
const ctx = canvas.getContext("2d", { willReadFrequently: true });
const status = document.getElementById("status");
const prediction = document.getElementById("prediction");
const truth = document.getElementById("truth");
const top = document.getElementById("top");

function clearCanvas() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}
clearCanvas();

async function fetchBytes(name) {
  const response = await fetch(name);
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Shows the prediction for one image: the class name and the three likeliest classes. */
function show(probabilities, label, trueLabel) {
  prediction.textContent = CLASS_NAMES[label];
  prediction.dataset.class = String(label);
  truth.textContent = trueLabel === undefined ? "" : `true class: ${CLASS_NAMES[trueLabel]}`;
  const ranked = Array.from(probabilities, (p, c) => [p, c]).sort((a, b) => b[0] - a[0]).slice(0, 3);
  top.replaceChildren(
    ...ranked.map(([p, c]) => {
      const row = document.createElement("tr");
      const name = document.createElement("td");
      name.textContent = CLASS_NAMES[c];
      const value = document.createElement("td");
      value.textContent = `${(100 * p).toFixed(1)}%`;
      const barCell = document.createElement("td");
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.style.width = `${Math.round(150 * p)}px`;
      barCell.append(bar);
      row.append(name, value, barCell);
      return row;
    }),
  );
  // Where the label is drawn, for the headless check to look at in its screenshot.
  const r = prediction.getBoundingClientRect();
  prediction.dataset.rect = [r.left, r.top, r.width, r.height].map(Math.round).join(",");
}

/** The canvas as the network's input: 28x28 block averages of the brightness, / 255. */
function canvasInput() {
  const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) {
      const i = 4 * (y * canvas.width + x);
      const gray = (rgba[i] + rgba[i + 1] + rgba[i + 2]) / 3;
      out[Math.floor(y / SCALE) * SIDE + Math.floor(x / SCALE)] += gray;
    }
  }
  return out.map((v) => v / (SCALE * SCALE * 255));
}

/** Draws a 28x28 image on the canvas, each pixel a 10x10 square. */
function drawImage(pixels) {
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const v = pixels[y * SIDE + x];
      ctx.fillStyle = `rgb(${v},${v},${v})`;
      ctx.fillRect(x * SCALE, y * SCALE, SCALE, SCALE);
    }
  }
}

function fail(e) {
  status.textContent = `error: ${e.message}`;
  status.className = "error";
  document.body.dataset.status = "error";
  console.error(e);
}

async function main() {
  const [wasm, weights, imagesFile, labelsFile] = await Promise.all(
    [FILES.wasm, FILES.weights, FILES.images, FILES.labels].map(fetchBytes),
  );
  const classifier = await Classifier.instantiate(wasm);
  classifier.loadWeights(weights);
  const images = readIdx(imagesFile, 2051);
  const labels = readIdx(labelsFile, 2049);
  status.textContent = `model loaded: ${(wasm.length / 1024).toFixed(0)} KB of wasm, ` +
    `${(weights.length / 1e6).toFixed(2)} MB of weights; ${images.count} test images`;

  // The image's own pixels by default (the Node check's input); with `viaCanvas`, what the
  // canvas holds once it is drawn, read back as a drawing is (`?source=canvas` checks that path).
  const classifyTestImage = (k, viaCanvas = false) => {
    const pixels = images.data.subarray(k * SIDE * SIDE, (k + 1) * SIDE * SIDE);
    drawImage(pixels);
    const input = viaCanvas ? canvasInput() : scalePixels(pixels);
    const { probabilities, labels: predicted } = classifier.classify(input);
    show(probabilities, predicted[0], labels.data[k]);
  };
  const classifyCanvas = () => {
    const { probabilities, labels: predicted } = classifier.classify(canvasInput());
    show(probabilities, predicted[0]);
  };

  // Drawing: a thick round white brush, classified on every stroke's end.
  let drawing = false;
  const at = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) * (canvas.width / r.width), (ev.clientY - r.top) * (canvas.height / r.height)];
  };
  canvas.addEventListener("pointerdown", (ev) => {
    drawing = true;
    canvas.setPointerCapture(ev.pointerId);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 22;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...at(ev));
    ctx.lineTo(...at(ev));
    ctx.stroke();
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!drawing) return;
    ctx.lineTo(...at(ev));
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    try {
      classifyCanvas();
    } catch (e) {
      fail(e);
    }
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  const random = document.getElementById("random");
  const clear = document.getElementById("clear");
  random.addEventListener("click", () => classifyTestImage(Math.floor(Math.random() * images.count)));
  clear.addEventListener("click", () => {
    clearCanvas();
    prediction.textContent = truth.textContent = "";
    top.replaceChildren();
  });
  random.disabled = clear.disabled = false;

  const params = new URLSearchParams(location.search);
  const param = params.get("image");
  if (param !== null) {
    const k = Number(param);
    if (!Number.isInteger(k) || k < 0 || k >= images.count) {
      throw new Error(`?image=${param}: expected an index in 0..${images.count - 1}`);
    }
    classifyTestImage(k, params.get("source") === "canvas");
  }
  document.body.dataset.status = "done";
}

main().catch(fail);
