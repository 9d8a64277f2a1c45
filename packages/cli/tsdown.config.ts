import { readFileSync } from "node:fs";
import { defineConfig } from "tsdown";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

/**
 * One self-contained ESM file: every runtime library is bundled, so `npm install -g packr-cli`
 * from a Packr registry needs no other package (a private registry may have no uplink to npmjs).
 */
export default defineConfig({
  entry: { cli: "src/cli.ts" },
  format: "esm",
  platform: "node",
  target: "node20",
  outDir: "dist",
  clean: true,
  dts: false,
  sourcemap: false,
  fixedExtension: false,
  // Everything is a devDependency, and tsdown bundles those: the package has no dependencies.
  deps: { onlyBundle: false },
  define: { PACKR_CLI_VERSION: JSON.stringify(version) },
});
