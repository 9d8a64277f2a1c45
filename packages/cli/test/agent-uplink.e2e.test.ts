/**
 * packr-cli agent info for a package the registry proxies from its uplink (`npm install ms` works
 * through it, so the agent must know it too): the uplink is a second registry process on
 * loopback, never the internet. The first answer comes from the uplink's document with the
 * analysis pending; the registry's own job runner fills it in.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { loginToken, npmrc, stopRegistry } from "@packr/registry/e2e/clients";
import { type RegistryProcess, startRegistryProcess } from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, cli, fails, jsonError, ok } from "./cli-harness.ts";

let upstream: RegistryProcess;
let registry: RegistryProcess;
let box: CliSandbox;

type Info = {
  name: string;
  version: string;
  source: string;
  pending: string[];
  analysis: string;
  quality: { score: number } | null;
  distTags: Record<string, string>;
};

beforeAll(async () => {
  box = await CliSandbox.create("agent-uplink");
  upstream = await startRegistryProcess();
  const token = await loginToken(upstream.url, "admin", upstream.adminPassword);
  const home = await box.home();
  await writeFile(path.join(home, ".npmrc"), npmrc(upstream.url, token));
  const dir = await box.dir("tiny-ms", {
    "package.json": `${JSON.stringify({ name: "tiny-ms", version: "2.1.0", description: "Convert time strings to milliseconds", license: "MIT", main: "index.js", types: "index.d.ts", dependencies: { "left-pad": "^1.0.0" } }, null, 2)}\n`,
    "index.js": "module.exports = (s) => Number.parseInt(s, 10);\n",
    "index.d.ts": "export declare function ms(value: string): number;\n",
    "README.md": "# tiny-ms\n\nConvert time strings to milliseconds.\n",
  });
  ok(await cli(["publish"], { home, cwd: dir }));
  registry = await startRegistryProcess({ env: { PACKR_UPLINK_URL: upstream.url } });
});

afterAll(async () => {
  await stopRegistry(registry);
  await stopRegistry(upstream);
  await box?.cleanup();
});

describe("agent info: proxied packages", () => {
  it("answers from the uplink at once, says what is pending, and completes in the background", async () => {
    const home = await box.home();
    const args = ["agent", "info", "tiny-ms", "--registry", registry.url];
    const first = ok(await cli([...args, "--json"], { home })).json() as Info;
    expect(first).toMatchObject({
      name: "tiny-ms",
      version: "2.1.0",
      source: "uplink",
      distTags: { latest: "2.1.0" },
    });
    // The first question commits the analysis; the answer is built before it can run.
    expect(first).toMatchObject({
      analysis: "pending",
      pending: ["quality", "capabilities", "trust"],
      quality: null,
    });

    const deadline = Date.now() + 30_000;
    let done = first;
    while (done.analysis !== "complete" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      done = ok(await cli([...args, "--json"], { home })).json() as Info;
    }
    expect(done).toMatchObject({ analysis: "complete", pending: [] });
    expect(done.quality?.score).toBeGreaterThan(0);

    const human = ok(await cli(args, { home }));
    expect(human.stdout).toContain("tiny-ms@2.1.0  (proxied from the uplink)");
    expect(human.stdout).toContain("dist-tags    latest 2.1.0");
    expect(human.stdout).toMatch(/quality {6}\d+\/100/);
  });

  it("a name neither here nor on the uplink: not-found (4), saying so", async () => {
    const home = await box.home();
    const r = await cli(["agent", "info", "not-anywhere", "--registry", registry.url], { home });
    fails(r, 4, "not-anywhere", "nor on its uplink");
    const j = jsonError(
      await cli(["agent", "info", "not-anywhere", "--registry", registry.url, "--json"], { home }),
    );
    expect(j).toMatchObject({ code: "NOT_FOUND", status: 404, exitCode: 4 });
  });
});
