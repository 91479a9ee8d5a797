// Serves the harness page from its own origin (D365 is another origin than the API, too).
// `npm run harness`: builds it and serves http://localhost:8181, the origin `make run` allows by
// default (ALLOWED_ORIGINS in local.settings.sample.json); open
// http://localhost:8181/?phone=15551234567 with `make run` going.
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildHarness } from "./build.mjs";

const HARNESS = path.dirname(fileURLToPath(import.meta.url));
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".map": "application/json" };

/** Serves `folder` (its index.html at `/`) on localhost; port 0: any free port. Nothing outside it. */
export async function serveFolder(folder, port = 0) {
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
    const file = path.join(folder, pathname === "/" ? "index.html" : pathname);
    if (!file.startsWith(folder + path.sep)) {
      response.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => response.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise((resolve) => server.listen(port, "localhost", resolve));
  return {
    origin: `http://localhost:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function serveHarness(port = 0) {
  return serveFolder(HARNESS, port);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildHarness();
  const { origin } = await serveHarness(Number(process.env.PORT ?? 8181));
  console.log(`harness on ${origin}/?phone=15551234567&api=http://127.0.0.1:7071/api (Ctrl-C stops)`);
}
