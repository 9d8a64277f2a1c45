import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BootedRegistry, bootRegistry } from "../../agent-sdk/test/boot-registry.ts";

const DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// The built bin (turbo builds it before this suite), run with plain node from the checkout: what
// an MCP client configured with `node /path/to/dist/bin.js` starts.
const BIN = path.join(DIR, "dist", "bin.js");

async function connect(env: Record<string, string>): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    cwd: DIR,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "packr-mcp-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

type ToolResult = {
  isError?: boolean;
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
};
const text = (r: ToolResult) => r.content.map((c) => c.text).join("\n");

describe("packr-mcp over stdio, driven by the MCP SDK's client", () => {
  let reg: BootedRegistry;
  let withToken: Client;
  let anonymous: Client;

  beforeAll(async () => {
    reg = await bootRegistry();
    withToken = await connect({ PACKR_REGISTRY: reg.url, PACKR_TOKEN: reg.token });
    anonymous = await connect({ PACKR_REGISTRY: reg.url });
  });
  afterAll(async () => {
    await withToken?.close();
    await anonymous?.close();
    await reg?.stop();
  });

  it("lists one tool per endpoint, each with a description and an input schema", async () => {
    const { tools } = await withToken.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "packr_compare",
      "packr_dependencies",
      "packr_docs",
      "packr_downloads",
      "packr_latest_for_node",
      "packr_package_info",
      "packr_previous_version",
      "packr_recommendations",
      "packr_search",
    ]);
    for (const t of tools) {
      expect(t.description?.length, t.name).toBeGreaterThan(30);
      expect(t.inputSchema.type).toBe("object");
    }
    // The bundled bin names its own version (from package.json) in the MCP handshake.
    const { version } = JSON.parse(readFileSync(path.join(DIR, "package.json"), "utf8"));
    expect(withToken.getServerVersion()).toEqual({ name: "packr", version });
    const info = tools.find((t) => t.name === "packr_package_info");
    expect(info?.inputSchema.required).toEqual(["name"]);
  });

  it("calls each tool: concise text plus structured content", async () => {
    const call = async (name: string, args: Record<string, unknown>) =>
      (await withToken.callTool({ name, arguments: args })) as ToolResult;
    const info = await call("packr_package_info", { name: "auth-kit" });
    expect(info.isError).toBeFalsy();
    expect(text(info)).toMatch(/^auth-kit@1\.1\.0 — JWT authentication\nquality \d+\/100/);
    expect(info.structuredContent).toMatchObject({ name: "auth-kit", version: "1.1.0" });
    const search = await call("packr_search", { query: "authentication" });
    expect(text(search)).toContain("auth-kit@1.1.0");
    expect(text(search)).toContain("@acme/private-auth");
    const compare = await call("packr_compare", { names: ["auth-kit", "date-kit"] });
    expect(text(compare)).toContain("Recommended: auth-kit");
    const deps = await call("packr_dependencies", { name: "auth-kit" });
    expect(text(deps)).toContain("auth-kit@1.1.0 -> date-kit@2.0.0");
    const recs = await call("packr_recommendations", { name: "auth-kit" });
    expect(text(recs)).toContain("date-kit (1)");
    const docs = await call("packr_docs", { name: "auth-kit" });
    expect(text(docs)).toContain("export declare function sign(p: object): string;");
    expect(text(docs)).toContain("Sign a token.");
    const latest = await call("packr_latest_for_node", { name: "auth-kit", node: "20" });
    expect(text(latest)).toBe('auth-kit@1.0.0: engines.node ">=18" accepts 20.0.0');
    const previous = await call("packr_previous_version", { name: "auth-kit", version: "1.1.0" });
    expect(text(previous)).toContain("Before auth-kit@1.1.0: 1.0.0");
    const downloads = await call("packr_downloads", {
      name: "@acme/private-auth",
      period: "last-month",
    });
    expect(text(downloads)).toMatch(/^@acme\/private-auth: 0 downloads from/);
  });

  it("turns registry errors into tool errors with the Packr code, and keeps serving", async () => {
    const hidden = (await anonymous.callTool({
      name: "packr_package_info",
      arguments: { name: "@acme/private-auth" },
    })) as ToolResult;
    expect(hidden.isError).toBe(true);
    expect(text(hidden)).toMatch(/^Packr error UNAUTHORIZED \(HTTP 401\): /);
    const missing = (await anonymous.callTool({
      name: "packr_docs",
      arguments: { name: "no-such-pkg" },
    })) as ToolResult;
    expect(text(missing)).toMatch(/^Packr error NOT_FOUND \(HTTP 404\)/);
    const hostile = (await anonymous.callTool({
      name: "packr_package_info",
      arguments: { name: "../../etc/passwd" },
    })) as ToolResult;
    expect(hostile.isError).toBe(true);
    expect(text(hostile)).toContain("INVALID_PACKAGE_NAME");
    const none = (await anonymous.callTool({
      name: "packr_latest_for_node",
      arguments: { name: "auth-kit", node: "12" },
    })) as ToolResult;
    expect(text(none)).toContain("NOT_FOUND");
    // Still alive after the errors.
    const ok = (await anonymous.callTool({
      name: "packr_package_info",
      arguments: { name: "date-kit" },
    })) as ToolResult;
    expect(ok.isError).toBeFalsy();
  });

  it("reports an unreachable registry as a tool error", async () => {
    const dead = await connect({ PACKR_REGISTRY: "http://127.0.0.1:9", PACKR_TIMEOUT_MS: "500" });
    try {
      const r = (await dead.callTool({
        name: "packr_search",
        arguments: { query: "auth" },
      })) as ToolResult;
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/^Packr registry unreachable \(NETWORK\)/);
    } finally {
      await dead.close();
    }
  });
});
