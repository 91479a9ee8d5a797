import { defineConfig } from "vitest/config";

/** The end-to-end journey: one file, its steps in order, against the real local app. */
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
