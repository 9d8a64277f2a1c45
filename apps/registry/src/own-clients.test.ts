import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findClientTarballs } from "./own-clients.ts";

describe("findClientTarballs", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "packr-clients-"));
    const files = [
      "collected.tgz", // an image's flat directory
      "cli/.pack/packr-cli-0.1.0.tgz", // a built checkout's packages/
      "agent-sdk/.pack/packr-agent-0.1.0.tgz",
      "agent-sdk/stray.tgz", // not where builds pack: ignored
      "cli/.pack/notes.txt",
      "nested/deeper/.pack/x.tgz",
    ];
    for (const f of files) {
      await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await writeFile(path.join(dir, f), "x");
    }
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("finds *.tgz in the directory and in each package's .pack/, nothing else", async () => {
    const found = (await findClientTarballs(dir)).map((f) => path.relative(dir, f));
    expect(found).toEqual([
      "agent-sdk/.pack/packr-agent-0.1.0.tgz",
      "cli/.pack/packr-cli-0.1.0.tgz",
      "collected.tgz",
    ]);
  });

  it("treats a missing directory as none", async () => {
    expect(await findClientTarballs(path.join(dir, "missing"))).toEqual([]);
  });
});
