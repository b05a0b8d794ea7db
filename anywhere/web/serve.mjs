// A static file server for the page, on 127.0.0.1 only (wasm cannot be fetched from file://).
//
//   node anywhere/web/serve.mjs SITE_DIR [PORT]     # then open the printed URL
//
// SITE_DIR is a folder made by prepare.mjs. Also imported by headless.mjs.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  // What WebAssembly.instantiateStreaming insists on; plain fetch does not care.
  ".wasm": "application/wasm",
};

/** Serves `dir` on 127.0.0.1:`port` (0: any free port); resolves to the listening server. */
export function serve(dir, port = 0) {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
    } catch {
      res.writeHead(400).end("bad request");
      return;
    }
    const file = normalize(join(root, path.endsWith("/") ? path + "index.html" : path));
    // Nothing outside the folder, whatever `..` the request holds.
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end("forbidden");
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ok(server));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [dir, port] = process.argv.slice(2);
  if (!dir) {
    console.error("usage: node serve.mjs SITE_DIR [PORT]");
    process.exit(2);
  }
  const server = await serve(dir, Number(port ?? 8000));
  console.log(`serving ${resolve(dir)} at http://127.0.0.1:${server.address().port}/`);
}
