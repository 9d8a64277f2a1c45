import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 90_000,
    hookTimeout: 180_000,
    // Each file boots a registry, a dashboard and Chromium; two cores gain nothing from parallel files.
    fileParallelism: false,
  },
});
