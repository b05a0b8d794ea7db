// The page in headless Chromium: it loads, classifies a known test image, and its
// screenshot shows the label. No npm packages: Chromium's own --dump-dom and --screenshot,
// and a PNG reader below.
//
//   node anywhere/web/headless.mjs --site SITE_DIR --image 0 --expect 9 --screenshot page.png
//
// --expect is the class native `predict` gives the image (tests/anywhere.rs's reference).
// Exit status 1 if a check fails, 2 for bad usage, 3 if Chromium cannot be started.

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { inflateSync } from "node:zlib";
import { serve } from "./serve.mjs";
import { CLASS_NAMES } from "./mlp.js";

const { values: args } = parseArgs({
  options: {
    site: { type: "string" },
    image: { type: "string", default: "0" },
    expect: { type: "string" },
    screenshot: { type: "string" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "chromium" },
  },
});
for (const flag of ["site", "expect", "screenshot"]) {
  if (!args[flag]) {
    console.error(`error: --${flag} is required
usage: node headless.mjs --site DIR --image K --expect CLASS --screenshot FILE [--chromium PATH]`);
    process.exit(2);
  }
}
const expected = Number(args.expect);
const WIDTH = 900;
const HEIGHT = 600;

/** Runs Chromium headless on `url` with `extra` flags; resolves to its stdout. */
function chromium(url, extra) {
  const profile = mkdtempSync(join(tmpdir(), "mlp-chromium-"));
  const flags = [
    "--headless",
    // Root in CI: Chromium's sandbox refuses to run as root.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--hide-scrollbars",
    `--user-data-dir=${profile}`,
    `--window-size=${WIDTH},${HEIGHT}`,
    // Runs the page until its work is done (fetches, wasm, rendering) or 30 s of virtual
    // time have passed, then dumps or shoots.
    "--virtual-time-budget=30000",
    ...extra,
    url,
  ];
  return new Promise((ok, fail) => {
    execFile(args.chromium, flags, { timeout: 90_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (error) {
        const why = error.code === "ENOENT" ? `${args.chromium} not found` : error.message;
        fail(Object.assign(new Error(`${why}\n${stderr.trim().split("\n").slice(-15).join("\n")}`), { chromium: true }));
      } else {
        ok(stdout);
      }
    });
  });
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) to RGBA. */
function readPng(bytes) {
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!signature.every((b, i) => bytes[i] === b)) throw new Error("not a PNG");
  let width, height, channels;
  const idat = [];
  for (let at = 8; at < bytes.length; ) {
    const len = bytes.readUInt32BE(at);
    const type = bytes.toString("latin1", at + 4, at + 8);
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, color, , , interlace] = data.subarray(8);
      channels = { 2: 3, 6: 4 }[color];
      if (depth !== 8 || !channels || interlace !== 0) {
        throw new Error(`unsupported PNG: depth ${depth}, color type ${color}, interlace ${interlace}`);
      }
    } else if (type === "IDAT") {
      idat.push(data);
    }
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[y * stride + x - channels] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = v & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 4; k++) rgba[4 * i + k] = k < channels ? px[i * channels + k] : 255;
  }
  return { width, height, rgba };
}

/** The share of dark pixels (text ink on the white page) in a rectangle of the image. */
function inkShare(png, [left, top, w, h]) {
  let dark = 0;
  let all = 0;
  for (let y = top; y < Math.min(top + h, png.height); y++) {
    for (let x = left; x < Math.min(left + w, png.width); x++) {
      const i = 4 * (y * png.width + x);
      const gray = (png.rgba[i] + png.rgba[i + 1] + png.rgba[i + 2]) / 3;
      if (gray < 128) dark++;
      all++;
    }
  }
  return all === 0 ? 0 : dark / all;
}

const failures = [];
const expect = (ok, message) => ok || failures.push(message);

const server = await serve(args.site);
const url = `http://127.0.0.1:${server.address().port}/?image=${args.image}`;
try {
  // 1. The DOM after the page's work: loaded, classified, the expected label.
  const dom = await chromium(url, ["--dump-dom"]);
  const body = /<body[^>]*data-status="(\w+)"/.exec(dom);
  const status = /<p id="status"[^>]*>([^<]*)</.exec(dom)?.[1] ?? "(no status element)";
  expect(body?.[1] === "done", `the page did not finish: status ${body?.[1] ?? "unset"}: ${status}`);
  const out = /<output id="prediction"([^>]*)>([^<]*)<\/output>/.exec(dom);
  const attr = (name) => new RegExp(`data-${name}="([^"]*)"`).exec(out?.[1] ?? "")?.[1];
  const shown = out?.[2].replace(/&amp;/g, "&");
  console.log(`page status: ${status}`);
  console.log(`label shown for test image ${args.image}: ${shown ?? "(none)"} (class ${attr("class") ?? "?"})`);
  expect(Number(attr("class")) === expected, `class ${attr("class")}, expected ${expected} (native predict)`);
  expect(shown === CLASS_NAMES[expected], `label text "${shown}", expected "${CLASS_NAMES[expected]}"`);
  const rect = attr("rect")?.split(",").map(Number);
  expect(rect?.length === 4 && rect[2] > 0 && rect[3] > 0, `no usable label rectangle: ${attr("rect")}`);

  // 2. The drawing path: the same image read back from the canvas and downsampled (10x10
  // block averages of a 10x upscale give the pixels back) must get the same class.
  const viaCanvas = await chromium(`${url}&source=canvas`, ["--dump-dom"]);
  const canvasClass = /<output id="prediction"[^>]*data-class="(\d+)"/.exec(viaCanvas)?.[1];
  console.log(`label for the same image read back from the canvas: class ${canvasClass ?? "(none)"}`);
  expect(Number(canvasClass) === expected, `via the canvas: class ${canvasClass}, expected ${expected}`);

  // 3. The screenshot: the same layout (same window size), the label drawn where the DOM
  // says. Text is dark on white: some ink, not a solid block.
  await chromium(url, [`--screenshot=${resolve(args.screenshot)}`]);
  const png = readPng(readFileSync(args.screenshot));
  console.log(`screenshot: ${args.screenshot} (${png.width}x${png.height})`);
  expect(png.width === WIDTH && png.height === HEIGHT, `screenshot is ${png.width}x${png.height}, expected ${WIDTH}x${HEIGHT}`);
  if (rect) {
    const ink = inkShare(png, rect);
    const page = inkShare(png, [0, 0, png.width, png.height]);
    console.log(`ink in the label's box ${rect.join(",")}: ${(100 * ink).toFixed(1)}% (whole page ${(100 * page).toFixed(1)}%)`);
    expect(ink > 0.03 && ink < 0.7, `the label's box in the screenshot looks blank or solid: ${(100 * ink).toFixed(1)}% ink`);
  }
} catch (e) {
  server.close();
  console.error(`error: Chromium: ${e.message}`);
  process.exit(e.chromium ? 3 : 1);
}
server.close();
if (failures.length > 0) {
  console.error(`FAILED (${failures.length}):`);
  for (const f of failures) console.error(`  ${f}`);
  process.exit(1);
}
console.log("page check: ok");
