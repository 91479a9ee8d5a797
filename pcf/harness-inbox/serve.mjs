// Serves the inbox's harness page from its own origin. `npm run harness:inbox`: builds it and serves
// http://localhost:8182; open http://localhost:8182/?api=http://127.0.0.1:7071/api with `make run` going
// (add http://localhost:8182 to ALLOWED_ORIGINS in local.settings.json).
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildInboxHarness } from "./build.mjs";

const HARNESS = path.dirname(fileURLToPath(import.meta.url));
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".map": "application/json" };

export async function serveInboxHarness(port = 0) {
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
    const file = path.join(HARNESS, pathname === "/" ? "index.html" : pathname);
    if (!file.startsWith(HARNESS + path.sep)) {
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildInboxHarness();
  const { origin } = await serveInboxHarness(Number(process.env.PORT ?? 8182));
  console.log(`inbox harness on ${origin}/?api=http://127.0.0.1:7071/api (Ctrl-C stops)`);
}
