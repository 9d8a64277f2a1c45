/**
 * packr-cli agent …: each query against a registry holding packages published by packr-cli, with
 * --json parsed and the human form checked, and the failures' exit codes.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { loginToken, npmrc, stopRegistry } from "@packr/registry/e2e/clients";
import { type RegistryProcess, startRegistryProcess } from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, cli, fails, jsonError, ok } from "./cli-harness.ts";

let registry: RegistryProcess;
let box: CliSandbox;
let home: string;

async function publish(manifest: Record<string, unknown>, files: Record<string, string> = {}) {
  const dir = await box.dir(String(manifest.name).replace(/[@/]/g, "_"), {
    "package.json": `${JSON.stringify({ license: "MIT", main: "index.js", ...manifest }, null, 2)}\n`,
    "index.js": "module.exports = {};\n",
    "README.md": `# ${manifest.name}\n\n${manifest.description ?? ""}\n`,
    ...files,
  });
  ok(await cli(["publish"], { home, cwd: dir }));
}

beforeAll(async () => {
  box = await CliSandbox.create("agent");
  registry = await startRegistryProcess();
  const token = await loginToken(registry.url, "admin", registry.adminPassword);
  home = await box.home();
  await writeFile(path.join(home, ".npmrc"), npmrc(registry.url, token));
  await publish({ name: "@acme/util", version: "1.0.0", description: "Small string utilities" });
  await publish(
    {
      name: "@acme/dates",
      version: "1.0.0",
      description: "Format and parse dates and times",
      keywords: ["date", "time", "format"],
      engines: { node: ">=18" },
      types: "index.d.ts",
      dependencies: { "@acme/util": "^1.0.0" },
    },
    {
      "index.d.ts":
        "/** Format a date as ISO. */\nexport declare function formatDate(d: Date): string;\n",
    },
  );
  await publish({
    name: "@acme/dates-lite",
    version: "0.3.0",
    description: "Format dates, smaller",
    keywords: ["date", "format"],
    engines: { node: ">=22" },
  });
});

afterAll(async () => {
  await stopRegistry(registry);
  await box?.cleanup();
});

/** Analysis runs in jobs after publish; ask until the answer satisfies `ready`. */
async function eventually(args: string[], ready: (json: unknown) => boolean): Promise<unknown> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const json = ok(await cli([...args, "--json"], { home })).json();
    if (ready(json) || Date.now() > deadline) return json;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe("agent", () => {
  it("info: the package's facts, as JSON and as text", async () => {
    const p = (await cli(["agent", "info", "@acme/dates", "--json"], { home })).json() as Record<
      string,
      unknown
    >;
    expect(p).toMatchObject({
      name: "@acme/dates",
      version: "1.0.0",
      description: "Format and parse dates and times",
      dependencies: { "@acme/util": "^1.0.0" },
      engines: { node: ">=18" },
      versionCount: 1,
    });
    const human = ok(await cli(["agent", "info", "@acme/dates"], { home }));
    expect(human.stdout).toContain("@acme/dates@1.0.0");
    expect(human.stdout).toContain("dependencies 1 (0 peer)");
  });

  it("search: ranked results with reasons", async () => {
    const r = (await eventually(["agent", "search", "format", "dates"], (j) =>
      (j as { results: { name: string }[] }).results.some((x) => x.name === "@acme/dates"),
    )) as { query: string; results: { name: string; reasons: string[] }[] };
    expect(r.query).toBe("format dates");
    const names = r.results.map((x) => x.name);
    expect(names).toContain("@acme/dates");
    expect(names).not.toContain("@acme/util");
    const human = ok(await cli(["agent", "search", "format", "dates", "--limit", "5"], { home }));
    expect(human.stdout).toMatch(/^NAME\s+VERSION\s+QUALITY\s+WHY/);
    expect(human.stdout).toContain("@acme/dates");
  });

  it("compare: side by side with a recommendation", async () => {
    const r = ok(
      await cli(["agent", "compare", "@acme/dates", "@acme/dates-lite", "--json"], { home }),
    ).json() as {
      packages: { name: string }[];
      recommended: { name: string; reason: string };
    };
    expect(r.packages.map((p) => p.name)).toEqual(["@acme/dates", "@acme/dates-lite"]);
    expect(["@acme/dates", "@acme/dates-lite"]).toContain(r.recommended.name);
    expect(r.recommended.reason.length).toBeGreaterThan(0);
    const human = ok(await cli(["agent", "compare", "@acme/dates", "@acme/dates-lite"], { home }));
    expect(human.stdout).toContain(`Recommended: ${r.recommended.name}`);
    fails(await cli(["agent", "compare", "@acme/dates"], { home }), 2, "at least two packages");
  });

  it("deps: the graph resolved against the registry", async () => {
    const g = ok(
      await cli(["agent", "deps", "@acme/dates", "--depth", "2", "--json"], { home }),
    ).json() as {
      root: string;
      nodes: { name: string; version: string | null; inRegistry: boolean; depth: number }[];
    };
    expect(g.nodes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: "@acme/util",
          version: "1.0.0",
          inRegistry: true,
          depth: 1,
        }),
      ]),
    );
    const human = ok(await cli(["agent", "deps", "@acme/dates"], { home }));
    expect(human.stdout).toContain("  @acme/util@1.0.0");
    fails(await cli(["agent", "deps", "@acme/dates", "--depth", "9"], { home }), 2, "from 1 to 5");
  });

  it("recommendations, docs and latest", async () => {
    const rec = ok(
      await cli(["agent", "recommendations", "@acme/util", "--json"], { home }),
    ).json() as {
      name: string;
      dependents: number;
      recommendations: unknown[];
    };
    expect(rec).toMatchObject({ name: "@acme/util" });
    expect(typeof rec.dependents).toBe("number");

    const docs = (await eventually(
      ["agent", "docs", "@acme/dates"],
      (j) => (j as { status: string }).status === "ready",
    )) as {
      name: string;
      version: string;
      kind: string;
    };
    expect(docs).toMatchObject({ name: "@acme/dates", version: "1.0.0" });
    expect(["ai", "typed", "none"]).toContain(docs.kind);
    ok(await cli(["agent", "docs", "@acme/dates"], { home }));

    const latest = ok(
      await cli(["agent", "latest", "@acme/dates", "--node", "20.11.1", "--json"], { home }),
    ).json();
    expect(latest).toMatchObject({
      name: "@acme/dates",
      version: "1.0.0",
      node: "20.11.1",
      enginesNode: ">=18",
    });
    const none = await cli(["agent", "latest", "@acme/dates-lite", "--node", "18.0.0", "--json"], {
      home,
    });
    expect(none.code).not.toBe(0);
    expect(jsonError(none).error.length).toBeGreaterThan(0);
  });

  it("failures: unknown package is not-found (4), a restricted one without a token is auth (3), no registry is network (5)", async () => {
    const missing = await cli(["agent", "info", "@acme/nope", "--json"], { home });
    expect(jsonError(missing)).toMatchObject({ status: 404, exitCode: 4 });
    const anon = await box.home();
    const denied = await cli(
      ["agent", "info", "@acme/dates", "--registry", registry.url, "--json"],
      { home: anon },
    );
    expect(jsonError(denied)).toMatchObject({ exitCode: 3 });
    const dead = await cli(["agent", "info", "x", "--registry", "http://127.0.0.1:1", "--json"], {
      home: anon,
    });
    expect(jsonError(dead)).toMatchObject({ code: "NETWORK", exitCode: 5 });
  });
});
