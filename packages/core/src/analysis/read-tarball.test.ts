import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { makeTarballSync } from "../testing/tarball.ts";
import { readTarball } from "./read-tarball.ts";

const manifest = { name: "x", version: "1.0.0" };
// Incompressible-ish content larger than one inflate slice, so output arrives in many steps.
const big = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));

describe("readTarball (inflated in JavaScript)", () => {
  it("lists a gzip'd tarball across many inflate slices and keeps the texts it wants", async () => {
    const tgz = makeTarballSync(manifest, { "README.md": "# hi", "lib/blob.bin": big });
    const contents = await readTarball(tgz);
    expect(contents.files.map((f) => f.path).sort()).toEqual([
      "README.md",
      "lib/blob.bin",
      "package.json",
    ]);
    expect(contents.files.find((f) => f.path === "lib/blob.bin")?.size).toBe(big.length);
    expect(JSON.parse(contents.texts.get("package.json") ?? "{}")).toEqual(manifest);
    expect(contents.texts.get("README.md")).toBe("# hi");
  });

  it("reads a bare (uncompressed) tar the same way", async () => {
    const tar = gunzipSync(makeTarballSync(manifest, { "index.d.ts": "export {};" }));
    const contents = await readTarball(tar);
    expect(contents.texts.get("index.d.ts")).toBe("export {};");
  });

  it("rejects a gzip stream cut short instead of hanging", async () => {
    const tgz = makeTarballSync(manifest, { "lib/blob.bin": big });
    await expect(readTarball(tgz.subarray(0, tgz.length / 2))).rejects.toThrow();
  });
});
