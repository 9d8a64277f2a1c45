#!/usr/bin/env node
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createPackrClient } from "@packr/agent";
import { loadMcpConfig } from "./config.ts";
import { createPackrMcpServer } from "./server.ts";

/** `packr-mcp`: the MCP server on stdio, for Claude Desktop, Claude Code, Cursor. Logs go to stderr. */
async function main(): Promise<void> {
  const config = loadMcpConfig(process.env);
  const client = createPackrClient({
    registry: config.registry,
    token: config.token,
    timeoutMs: config.timeoutMs,
  });
  const server = createPackrMcpServer(client);
  await server.connect(new StdioServerTransport());
  console.error(`packr-mcp: serving ${config.registry} on stdio`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
