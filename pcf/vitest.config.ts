import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/unit/**/*.test.{ts,tsx}"],
    environment: "node",
    // The agent's clock in the tests: times read the same on every machine.
    env: { TZ: "UTC" },
  },
});
