// Bundles the inbox's harness page (the control with React and Fluent UI bundled in, as the platform provides them).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

export async function buildInboxHarness() {
  await build({
    entryPoints: [`${here}main.ts`],
    outfile: `${here}dist/harness.js`,
    bundle: true,
    format: "iife",
    target: "es2020",
    sourcemap: true,
    define: { "process.env.NODE_ENV": '"development"' },
    logLevel: "warning",
    // The control's strings files, as the platform reads them (hostContext.ts).
    loader: { ".resx": "text" },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildInboxHarness();
  console.log(`built ${here}dist/harness.js`);
}
