import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The fault suites start and kill worker processes and stop Redis: one file at a time.
    fileParallelism: false,
    passWithNoTests: true,
  },
});
