import { defineConfig } from "vitest/config";

/** The browser tests (the chat journey, then the inbox), one file at a time (each starts the isolated app on the same ports), steps in order, against the real local app. */
export default defineConfig({
  test: {
    include: ["tests/e2e/**/*.e2e.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 45_000,
    hookTimeout: 180_000,
    reporters: ["default", "json"],
    outputFile: { json: "test-output/e2e-results.json" },
  },
});
