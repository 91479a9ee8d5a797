/** Bundles harness/main.ts into harness/dist/harness.js. */
export function buildHarness(): Promise<void>;
