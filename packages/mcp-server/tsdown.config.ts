import { readFileSync } from "node:fs";
import { defineConfig } from "tsdown";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

/**
 * `packr-mcp` as one self-contained ESM file: @packr/agent, the MCP SDK and zod are bundled, so
 * the bin runs with plain `node` from a built checkout (no workspace import is left to resolve to
 * TypeScript sources) and `npx @packr/mcp-server` from any Packr installs one package, even a
 * Packr with no uplink to npmjs.
 */
export default defineConfig({
  entry: { bin: "src/bin.ts" },
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
  define: { PACKR_MCP_VERSION: JSON.stringify(version) },
});
