// The page in headless Chromium: it loads, classifies a known test image, and its
// screenshot shows the label. No npm packages: Chromium is driven through the DevTools
// protocol on a pipe (--remote-debugging-pipe: JSON messages ending in a NUL byte on file
// descriptors 3 and 4, so no WebSocket client is needed), and a PNG reader is below.
//
//   node anywhere/web/headless.mjs --site SITE_DIR --image 0 --expect 9 --screenshot page.png
//
// --expect is the class native `predict` gives the image (tests/anywhere.rs's reference).
// Exit status 1 if a check fails, 2 for bad usage, 3 if Chromium cannot be started at all.
//
// Why not `chromium --dump-dom --virtual-time-budget=...`: virtual time does not wait for
// asynchronous wasm compilation, so about one run in twelve dumped the page still loading.
// Here the script waits for the page to say it is done (body[data-status]), then reads it.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
/** How long the page may take to load the model and classify, in ms. */
const PAGE_TIMEOUT = 30_000;

/** Chromium headless with the DevTools protocol on a pipe. */
class Browser {
  static async launch(executable) {
    const profile = mkdtempSync(join(tmpdir(), "mlp-chromium-"));
    const flags = [
      "--headless",
      // Root in CI: Chromium's sandbox refuses to run as root.
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--hide-scrollbars",
      "--remote-debugging-pipe",
      `--user-data-dir=${profile}`,
      `--window-size=${WIDTH},${HEIGHT}`,
      "about:blank",
    ];
    const proc = spawn(executable, flags, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
    const browser = new Browser(proc, profile);
    let timer;
    try {
      await Promise.race([
        browser.send("Browser.getVersion"),
        browser.exited.then(() => {
          throw new Error(`${executable} exited at start: ${browser.stderr.trim().split("\n").slice(-10).join("\n")}`);
        }),
        new Promise((_, fail) => {
          timer = setTimeout(() => fail(new Error(`${executable} did not answer in 30 s`)), 30_000);
        }),
      ]);
    } catch (e) {
      browser.proc.kill("SIGKILL");
      rmSync(profile, { recursive: true, force: true });
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return browser;
  }

  constructor(proc, profile) {
    this.proc = proc;
    this.profile = profile;
    this.nextId = 1;
    this.pending = new Map();
    this.stderr = "";
    let buffer = "";
    proc.stderr.on("data", (d) => (this.stderr = (this.stderr + d).slice(-20_000)));
    proc.stdio[4].on("data", (chunk) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\0")) >= 0) {
        const message = JSON.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        const waiter = this.pending.get(message.id);
        if (waiter) {
          this.pending.delete(message.id);
          if (message.error) waiter.fail(new Error(`${waiter.method}: ${message.error.message}`));
          else waiter.ok(message.result);
        }
      }
    });
    // A Chromium that never started (not found) or went away (the pipe breaks): every
    // command waiting, and every later one, fails with why.
    this.exited = new Promise((ok) => {
      proc.once("exit", ok);
      proc.once("error", ok);
    });
    const broken = (e) => {
      this.broken ??= e;
      for (const w of this.pending.values()) w.fail(e);
      this.pending.clear();
    };
    proc.once("error", broken);
    proc.stdio[3].on("error", broken);
    proc.stdio[4].on("error", broken);
  }

  /** Sends a DevTools command (to a page when `sessionId` is given); resolves to its result. */
  send(method, params = {}, sessionId = undefined) {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    this.proc.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + "\0");
    return new Promise((ok, fail) => this.pending.set(id, { ok, fail, method }));
  }

  /** A page of `WIDTH` x `HEIGHT` CSS pixels at scale 1. */
  async page() {
    const { targetInfos } = await this.send("Target.getTargets");
    const target = targetInfos.find((t) => t.type === "page");
    const { sessionId } = await this.send("Target.attachToTarget", { targetId: target.targetId, flatten: true });
    const call = (method, params) => this.send(method, params, sessionId);
    await call("Emulation.setDeviceMetricsOverride", { width: WIDTH, height: HEIGHT, deviceScaleFactor: 1, mobile: false });
    return call;
  }

  async close() {
    this.send("Browser.close").catch(() => {});
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5_000);
    await this.exited;
    clearTimeout(timer);
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/**
 * Opens `url` and waits until the page says it is done or failed (body[data-status]);
 * resolves to what it shows: status, status text, class, label text, label rectangle.
 */
async function visit(call, url) {
  await call("Page.navigate", { url });
  const read = async () => {
    const { result } = await call("Runtime.evaluate", {
      returnByValue: true,
      expression: `(() => {
        const out = document.getElementById("prediction");
        return {
          href: location.href,
          status: document.body?.dataset.status ?? null,
          text: document.getElementById("status")?.textContent ?? "",
          cls: out?.dataset.class ?? null,
          label: out?.textContent ?? "",
          rect: out?.dataset.rect ?? null,
        };
      })()`,
    });
    return result.value;
  };
  const deadline = Date.now() + PAGE_TIMEOUT;
  for (;;) {
    const state = await read();
    // The new document's state, not the one navigated away from.
    const settled = state?.status === "done" || state?.status === "error";
    if (state?.href === url && settled) return state;
    if (Date.now() > deadline) {
      return { ...state, status: `still loading after ${PAGE_TIMEOUT / 1000} s` };
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
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

let browser;
try {
  browser = await Browser.launch(args.chromium);
} catch (e) {
  console.error(`error: Chromium cannot be started: ${e.message}`);
  process.exit(3);
}
const server = await serve(args.site);
const url = `http://127.0.0.1:${server.address().port}/?image=${args.image}`;
try {
  const call = await browser.page();

  // 1. The page's work: loaded, classified, the expected label.
  const shown = await visit(call, url);
  console.log(`page status: ${shown.status}: ${shown.text}`);
  console.log(`label shown for test image ${args.image}: ${shown.label || "(none)"} (class ${shown.cls ?? "?"})`);
  expect(shown.status === "done", `the page did not finish: ${shown.status}: ${shown.text}`);
  expect(Number(shown.cls) === expected, `class ${shown.cls}, expected ${expected} (native predict)`);
  expect(shown.label === CLASS_NAMES[expected], `label text "${shown.label}", expected "${CLASS_NAMES[expected]}"`);
  const rect = shown.rect?.split(",").map(Number);
  expect(rect?.length === 4 && rect[2] > 0 && rect[3] > 0, `no usable label rectangle: ${shown.rect}`);

  // 2. The screenshot of that page: the label drawn where the DOM says. Text is dark on
  // white: some ink, not a blank or solid box.
  const { data } = await call("Page.captureScreenshot", { format: "png" });
  const bytes = Buffer.from(data, "base64");
  writeFileSync(args.screenshot, bytes);
  const png = readPng(bytes);
  console.log(`screenshot: ${args.screenshot} (${png.width}x${png.height})`);
  expect(png.width === WIDTH && png.height === HEIGHT, `screenshot is ${png.width}x${png.height}, expected ${WIDTH}x${HEIGHT}`);
  if (rect) {
    const ink = inkShare(png, rect);
    const page = inkShare(png, [0, 0, png.width, png.height]);
    console.log(`ink in the label's box ${rect.join(",")}: ${(100 * ink).toFixed(1)}% (whole page ${(100 * page).toFixed(1)}%)`);
    expect(ink > 0.03 && ink < 0.7, `the label's box in the screenshot looks blank or solid: ${(100 * ink).toFixed(1)}% ink`);
  }

  // 3. The drawing path: the same image read back from the canvas and downsampled (10x10
  // block averages of a 10x upscale give the pixels back) must get the same class.
  const viaCanvas = await visit(call, `${url}&source=canvas`);
  console.log(`label for the same image read back from the canvas: ${viaCanvas.label || "(none)"} (class ${viaCanvas.cls ?? "?"})`);
  expect(viaCanvas.status === "done", `via the canvas, the page did not finish: ${viaCanvas.status}: ${viaCanvas.text}`);
  expect(Number(viaCanvas.cls) === expected, `via the canvas: class ${viaCanvas.cls}, expected ${expected}`);
} catch (e) {
  failures.push(`Chromium: ${e.message}`);
} finally {
  server.close();
  await browser.close();
}
if (failures.length > 0) {
  console.error(`FAILED (${failures.length}):`);
  for (const f of failures) console.error(`  ${f}`);
  process.exit(1);
}
console.log("page check: ok");
