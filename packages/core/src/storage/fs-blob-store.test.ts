import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsBlobStore } from "./fs-blob-store.ts";

describe("FsBlobStore", () => {
  let root: string;
  let store: FsBlobStore;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "packr-fs-"));
    store = new FsBlobStore(root);
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it("survives many concurrent puts of the same key and leaves no temp files", async () => {
    const bytes = randomBytes(256 * 1024);
    await Promise.all(
      Array.from({ length: 20 }, () => store.put("tarballs/aa/bb/same.tgz", bytes)),
    );
    const back = await store.get("tarballs/aa/bb/same.tgz");
    expect(Buffer.from(await new Response(back).arrayBuffer()).equals(bytes)).toBe(true);
    expect(await readdir(path.join(root, "tarballs/aa/bb"))).toEqual(["same.tgz"]);
  });

  it("putFile moves a local file under the key without leaving temp files", async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const file = path.join(os.tmpdir(), `packr-putfile-${randomBytes(4).toString("hex")}`);
    await writeFile(file, bytes);
    await store.putFile("tarballs/cc/dd/file.tgz", file);
    const back = await store.get("tarballs/cc/dd/file.tgz");
    expect(Buffer.from(await new Response(back).arrayBuffer()).equals(bytes)).toBe(true);
    expect(await readdir(path.join(root, "tarballs/cc/dd"))).toEqual(["file.tgz"]);
    await rm(file, { force: true });
    await expect(store.putFile("../outside.tgz", file)).rejects.toThrow(/escapes/);
  });

  it("answers null for a missing key, and deletes idempotently", async () => {
    expect(await store.get("missing.tgz")).toBeNull();
    await store.delete("missing.tgz");
    expect(await store.exists("missing.tgz")).toBe(false);
  });

  it("lists the keys under a prefix with their write times, and nothing when there are none", async () => {
    const before = Date.now() - 1000;
    await store.put("tarballs/11/22/one.tgz", Buffer.from("1"));
    await store.put("tarballs/33/44/two.tgz", Buffer.from("2"));
    await store.put("other/three.tgz", Buffer.from("3"));
    const listed = [];
    for await (const blob of store.list("tarballs/")) listed.push(blob);
    expect(listed.map((b) => b.key).sort()).toEqual(
      expect.arrayContaining(["tarballs/11/22/one.tgz", "tarballs/33/44/two.tgz"]),
    );
    expect(listed.some((b) => b.key.startsWith("other/"))).toBe(false);
    for (const b of listed) expect(b.modifiedAt.getTime()).toBeGreaterThan(before);
    const none = [];
    for await (const blob of new FsBlobStore(path.join(root, "absent")).list("tarballs/"))
      none.push(blob);
    expect(none).toEqual([]);
  });

  it("refuses keys that escape its root", async () => {
    await expect(store.put("../outside.tgz", Buffer.from("x"))).rejects.toThrow(/escapes/);
  });
});
