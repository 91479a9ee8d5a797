// Serves the inbox's harness page from its own origin. `npm run harness:inbox`: builds it and serves
// http://localhost:8182; open http://localhost:8182/?api=http://127.0.0.1:7071/api with `make run` going
// (add http://localhost:8182 to ALLOWED_ORIGINS in local.settings.json).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serveFolder } from "../harness/serve.mjs";
import { buildInboxHarness } from "./build.mjs";

const HARNESS = path.dirname(fileURLToPath(import.meta.url));

export function serveInboxHarness(port = 0) {
  return serveFolder(HARNESS, port);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildInboxHarness();
  const { origin } = await serveInboxHarness(Number(process.env.PORT ?? 8182));
  console.log(`inbox harness on ${origin}/?api=http://127.0.0.1:7071/api (Ctrl-C stops)`);
}
