/**
 * Packr serves its own clients: a fresh registry publishes packr-cli, @packr/agent (with
 * @packr/agent-schemas) and @packr/mcp-server from the tarballs `pnpm build` packed, and the real
 * npm installs them from it into an empty directory, where each runs with plain node: the cli's
 * --version, the MCP server over stdio driven by the MCP SDK's own client, the SDK imported by a
 * script. The registry's uplink is a second Packr on loopback that serves zod (the one outside
 * dependency, as npmjs would) and decoys named packr-cli and @packr/agent, which must never be
 * asked for.
 */
import { cp, readdir, readFile, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { makeTarball, publishBody } from "@packr/core/testing";
import * as tar from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RegistryProcess,
  type ServedRegistry,
  serveTestRegistry,
  startRegistryProcess,
} from "../test/harness.ts";
import {
  Clients,
  clientEnv,
  describeRun,
  escapeName,
  expectSuccess,
  getJson,
  makeProject,
  run,
  stopRegistry,
  writeFiles,
} from "./clients.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PACKAGES = path.join(ROOT, "packages");
const versionOf = async (dir: string) =>
  (
    JSON.parse(await readFile(path.join(PACKAGES, dir, "package.json"), "utf8")) as {
      version: string;
    }
  ).version;

/** The lines the registry logged about its own clients at one start. */
function ownClientsLog(output: string): { published: string[]; present: string[] }[] {
  return output
    .split("\n")
    .filter((l) => l.includes("serving Packr's own clients"))
    .map((l) => JSON.parse(l) as { published: string[]; present: string[] });
}

describe("Packr serves its own clients", () => {
  let clients: Clients;
  let uplink: ServedRegistry;
  let reg: RegistryProcess | undefined;
  let bare: RegistryProcess | undefined;
  let cliVersion: string;
  let mcpVersion: string;
  let agentVersion: string;

  beforeAll(async () => {
    clients = await Clients.create("own-clients");
    cliVersion = await versionOf("cli");
    mcpVersion = await versionOf("mcp-server");
    agentVersion = await versionOf("agent-sdk");
    for (const dir of ["cli", "mcp-server", "agent-sdk", "agent-schemas"]) {
      const packed = await readdir(path.join(PACKAGES, dir, ".pack")).catch(() => []);
      if (!packed.some((f) => f.endsWith(".tgz")))
        throw new Error(
          `packages/${dir} is not packed: run \`pnpm build\` (turbo does before this suite)`,
        );
    }

    uplink = await serveTestRegistry();
    const token = await uplink.registry.login("admin", "admin-password-1");
    const put = async (name: string, body: Record<string, unknown>) => {
      const res = await fetch(`${uplink.url}/${escapeName(name)}`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      expect(res.status, `${name} on the uplink: ${await res.clone().text()}`).toBe(201);
    };
    // zod as npm packs it (a gzipped tar under `package/`), from the copy this workspace installed.
    const zodDir = await realpath(path.join(PACKAGES, "agent-schemas", "node_modules", "zod"));
    const packDir = await clients.dir("zod-pack");
    await cp(zodDir, path.join(packDir, "package"), { recursive: true, dereference: true });
    await tar.create(
      { gzip: true, portable: true, cwd: packDir, file: path.join(packDir, "zod.tgz") },
      ["package"],
    );
    const filename = "zod.tgz";
    const zodManifest = JSON.parse(await readFile(path.join(zodDir, "package.json"), "utf8"));
    await put(
      "zod",
      publishBody("zod", zodManifest.version, {
        bytes: await readFile(path.join(packDir, filename)),
        manifest: zodManifest,
      }),
    );
    // Decoys: what a dependency-confusion attacker would publish upstream.
    for (const name of ["packr-cli", "@packr/agent"]) {
      const manifest = { name, version: "99.0.0", bin: { "packr-cli": "cli.js" } };
      const bytes = await makeTarball(manifest, { "cli.js": "console.log('DECOY')\n" });
      await put(name, publishBody(name, "99.0.0", { bytes, manifest, access: "public" }));
    }
  });

  afterAll(async () => {
    await stopRegistry(bare);
    await stopRegistry(reg);
    await uplink?.close();
    await clients.cleanup();
  });

  it("without built clients: one clear log line, and the names are never asked of the uplink", async () => {
    bare = await startRegistryProcess({ env: { PACKR_UPLINK_URL: uplink.url } });
    expect(bare.output()).toContain(
      "Packr's own clients (packr-cli, @packr/agent, @packr/mcp-server) are not served",
    );
    uplink.requests.length = 0;
    for (const name of ["packr-cli", "@packr/agent", "@packr/mcp-server", "@packr/anything"]) {
      // Not found (or, for a scoped name nobody may see, "log in"): never the uplink's decoy.
      const res = await getJson(bare.url, `/${escapeName(name)}`);
      expect([401, 404], `${name}: ${res.status} ${res.text}`).toContain(res.status);
      expect(res.text).not.toContain("99.0.0");
    }
    // The uplink works (zod comes through); it was simply never asked about Packr's names.
    expect((await getJson(bare.url, "/zod")).status).toBe(200);
    const asked = uplink.requests.map((r) => decodeURIComponent(r.path));
    expect(asked.some((p) => p.includes("zod"))).toBe(true);
    expect(asked.filter((p) => /packr/i.test(p))).toEqual([]);
    await stopRegistry(bare);
    await rm(bare.dataDir, { recursive: true, force: true });
    bare = undefined;
  });

  it("publishes its own clients at start, public even where scoped packages default to restricted", async () => {
    reg = await startRegistryProcess({
      env: {
        PACKR_CLIENTS_DIR: PACKAGES,
        PACKR_UPLINK_URL: uplink.url,
        PACKR_SCOPED_DEFAULT_ACCESS: "restricted",
      },
    });
    const [first] = ownClientsLog(reg.output());
    expect(first?.published.sort(), reg.output()).toEqual(
      [
        `@packr/agent-schemas@${agentVersion}`,
        `@packr/agent@${agentVersion}`,
        `@packr/mcp-server@${mcpVersion}`,
        `packr-cli@${cliVersion}`,
      ].sort(),
    );
    for (const [name, version] of [
      ["packr-cli", cliVersion],
      ["@packr/agent", agentVersion],
      ["@packr/mcp-server", mcpVersion],
    ] as const) {
      const doc = await getJson(reg.url, `/${escapeName(name)}`); // anonymous
      expect(doc.status, name).toBe(200);
      const json = doc.json as { "dist-tags": Record<string, string>; versions: object };
      // This registry's own version, never the uplink's 99.0.0.
      expect(json["dist-tags"]).toEqual({ latest: version });
      expect(Object.keys(json.versions)).toEqual([version]);
    }
  });

  it("installs each with the real npm into an empty directory, and each runs", async () => {
    if (!reg) throw new Error("registry not started");
    const url = reg.url;
    // Its own HOME and npm cache: nothing comes from this machine's.
    const box = await clients.sandbox();
    const project = await makeProject(clients, "uses-packr", {
      manifest: { name: "uses-packr", version: "1.0.0", private: true, type: "module" },
    });
    expectSuccess(
      await clients.npm(
        ["install", "--registry", `${url}/`, "packr-cli", "@packr/mcp-server", "@packr/agent"],
        { cwd: project, sandbox: box, timeoutMs: 180_000 },
      ),
    );

    // packr-cli: one bundled file, nothing else installed for it.
    const version = await run(
      path.join(project, "node_modules", ".bin", "packr-cli"),
      ["--version"],
      {
        cwd: project,
        env: clientEnv(box.home),
      },
    );
    expect(version.stdout.trim(), describeRun(version)).toBe(cliVersion);

    // packr-mcp over stdio, driven by the MCP SDK's client, against this registry.
    const transport = new StdioClientTransport({
      command: path.join(project, "node_modules", ".bin", "packr-mcp"),
      env: { PATH: process.env.PATH ?? "", HOME: box.home, PACKR_REGISTRY: url },
      cwd: project,
      stderr: "pipe",
    });
    const mcp = new Client({ name: "own-clients-test", version: "1.0.0" });
    await mcp.connect(transport);
    try {
      expect(mcp.getServerVersion()).toEqual({ name: "packr", version: mcpVersion });
      const { tools } = await mcp.listTools();
      expect(tools.map((t) => t.name)).toContain("packr_package_info");
      const info = (await mcp.callTool({
        name: "packr_package_info",
        arguments: { name: "@packr/mcp-server" },
      })) as { isError?: boolean; content: { text: string }[] };
      expect(info.isError, JSON.stringify(info)).toBeFalsy();
      expect(info.content[0]?.text).toContain(`@packr/mcp-server@${mcpVersion}`);
    } finally {
      await mcp.close();
    }

    // @packr/agent imported by a plain node script (its schemas need zod, from the uplink).
    await writeFiles(project, {
      "check.mjs": [
        'import { createPackrClient } from "@packr/agent";',
        'import { AgentPackage } from "@packr/agent/schemas";',
        "const client = createPackrClient({ registry: process.argv[2] });",
        'const pkg = await client.getPackage("packr-cli");',
        "console.log(JSON.stringify({ name: pkg.name, version: pkg.version, valid: AgentPackage.safeParse(pkg).success }));",
      ].join("\n"),
    });
    const script = await run(process.execPath, ["check.mjs", url], {
      cwd: project,
      env: clientEnv(box.home),
    });
    expectSuccess(script);
    expect(JSON.parse(script.stdout.trim()), describeRun(script)).toEqual({
      name: "packr-cli",
      version: cliVersion,
      valid: true,
    });
  });

  it("a restart publishes nothing twice and does not fail", async () => {
    if (!reg) throw new Error("registry not started");
    const { dataDir, port } = reg;
    await reg.stop();
    reg = await startRegistryProcess({
      dataDir,
      port,
      env: { PACKR_CLIENTS_DIR: PACKAGES, PACKR_UPLINK_URL: uplink.url },
    });
    const [again] = ownClientsLog(reg.output());
    expect(again?.published, reg.output()).toEqual([]);
    expect(again?.present).toHaveLength(4);
    const doc = await getJson(reg.url, "/packr-cli");
    expect(Object.keys((doc.json as { versions: object }).versions)).toEqual([cliVersion]);
  });
});
