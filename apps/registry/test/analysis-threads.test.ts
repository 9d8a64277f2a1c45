import { type AnalysisInput, deriveAnalysis, deriveDocsInput } from "@packr/core";
import { makeTarball } from "@packr/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type AnalysisThreads, createAnalysisThreads } from "../src/analysis-threads.ts";

const manifest = {
  name: "@acme/jwt-kit",
  version: "1.2.0",
  description: "Sign and verify JSON Web Tokens",
  keywords: ["jwt", "auth"],
  types: "index.d.ts",
  dependencies: { jose: "^6.0.0" },
  scripts: { test: "vitest run" },
};

async function input(): Promise<AnalysisInput> {
  const tarball = await makeTarball(manifest, {
    "README.md": "# jwt-kit\n\n## Usage\n\nSign tokens.\n",
    "index.d.ts": "/** Sign a token. */\nexport declare function sign(payload: object): string;\n",
    "index.js": "export function sign() { return ''; }\n",
    "test/sign.test.js": "test('x', () => {});\n",
  });
  return { manifest, readme: null, tarballSize: tarball.byteLength, releaseCount: 1, tarball };
}

let threads: AnalysisThreads | undefined;
afterEach(async () => {
  await threads?.close();
  threads = undefined;
});

describe("analysis on worker threads", () => {
  it("starts no thread until there is work, then derives exactly what the inline analysis does", async () => {
    threads = createAnalysisThreads({ threads: 1 });
    expect(threads.size()).toBe(0);
    const job = await input();
    const [onThread, inline] = await Promise.all([threads.analyze(job), deriveAnalysis(job)]);
    expect(threads.size()).toBe(1);
    expect(onThread).toEqual(inline);
    expect(onThread.typed.entries.map((e) => e.name)).toEqual(["sign"]);
    expect(onThread.signals.hasTests).toBe(true);
    expect(onThread.dependencyNames).toEqual(["jose"]);
  });

  it("reads docs.generate's input (README, typed docs, .d.ts text) on the threads, as inline", async () => {
    threads = createAnalysisThreads({ threads: 1 });
    const job = await input();
    const [onThread, inline] = await Promise.all([threads.readDocs(job), deriveDocsInput(job)]);
    expect(threads.size()).toBe(1);
    expect(onThread).toEqual(inline);
    expect(onThread.readme).toContain("# jwt-kit");
    expect(onThread.typed.entries.map((e) => e.name)).toEqual(["sign"]);
    expect(onThread.dtsText).toContain("// index.d.ts\n/** Sign a token. */");
  });

  it("rejects a task whose analysis throws, and keeps serving the next", async () => {
    threads = createAnalysisThreads({ threads: 1 });
    const job = await input();
    await expect(
      threads.analyze({ ...job, manifest: null as unknown as Record<string, unknown> }),
    ).rejects.toThrow();
    expect((await threads.analyze(job)).capabilities.length).toBeGreaterThan(0);
  });

  it("ends a task that runs past its time limit with its thread, and starts a fresh thread for the next", async () => {
    const limits = { threads: 1, timeoutMs: 60_000 };
    threads = createAnalysisThreads(limits);
    const job = await input();
    expect((await threads.analyze(job)).typed.entries).toHaveLength(1);
    expect(threads.size()).toBe(1);
    limits.timeoutMs = 1;
    await expect(threads.analyze(job)).rejects.toThrow(/abort/i);
    limits.timeoutMs = 60_000;
    expect((await threads.analyze(job)).typed.entries).toHaveLength(1);
    expect(threads.size()).toBe(1);
  });
});
