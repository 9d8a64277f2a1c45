#!/usr/bin/env node
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createPackrClient } from "@packr/agent";
import { loadMcpConfig } from "./config.ts";
import { createPackrMcpServer } from "./server.ts";

/** Set by the bundler (tsdown.config.ts) from package.json; "dev" when run from the sources. */
declare const PACKR_MCP_VERSION: string;
const VERSION = typeof PACKR_MCP_VERSION === "string" ? PACKR_MCP_VERSION : "dev";

/** `packr-mcp`: the MCP server on stdio, for Claude Desktop, Claude Code, Cursor. Logs go to stderr. */
async function main(): Promise<void> {
  if (process.argv.includes("--version") || process.argv.includes("-v")) {
    console.log(VERSION);
    return;
  }
  const config = loadMcpConfig(process.env);
  const client = createPackrClient({
    registry: config.registry,
    token: config.token,
    timeoutMs: config.timeoutMs,
    userAgent: `packr-mcp/${VERSION}`,
  });
  const server = createPackrMcpServer(client, VERSION);
  await server.connect(new StdioServerTransport());
  console.error(`packr-mcp ${VERSION}: serving ${config.registry} on stdio`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
