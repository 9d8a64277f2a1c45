import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { S3Config } from "../config/config.ts";
import { type LocalS3, startLocalS3 } from "../testing/s3rver.ts";
import { S3BlobStore } from "./s3-blob-store.ts";

const BUCKET = "packr-test";

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe("S3BlobStore against s3rver", () => {
  let s3: LocalS3;
  let config: S3Config;
  let store: S3BlobStore;

  beforeAll(async () => {
    s3 = await startLocalS3(BUCKET);
    config = s3.config;
    store = new S3BlobStore(config);
  });

  afterAll(async () => {
    await s3?.close();
  });

  it("returns the exact bytes that were put", async () => {
    const bytes = randomBytes(300 * 1024);
    await store.put("tarballs/aa/bb/roundtrip.tgz", bytes);
    const stream = await store.get("tarballs/aa/bb/roundtrip.tgz");
    expect(stream).not.toBeNull();
    const back = await readAll(stream!);
    expect(back.equals(bytes)).toBe(true);
  });

  it("putFile streams a local file's exact bytes to the key", async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    const dir = await mkdtemp(path.join(os.tmpdir(), "packr-s3-putfile-"));
    const file = path.join(dir, "t.tgz");
    await writeFile(file, bytes);
    try {
      await store.putFile("tarballs/aa/bb/from-file.tgz", file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const back = await readAll((await store.get("tarballs/aa/bb/from-file.tgz"))!);
    expect(back.equals(bytes)).toBe(true);
  });

  it("overwrites an existing key", async () => {
    await store.put("overwrite.tgz", Buffer.from("first"));
    await store.put("overwrite.tgz", Buffer.from("second"));
    expect((await readAll((await store.get("overwrite.tgz"))!)).toString()).toBe("second");
  });

  it("reports existence", async () => {
    await store.put("exists.tgz", Buffer.from("x"));
    expect(await store.exists("exists.tgz")).toBe(true);
    expect(await store.exists("does-not-exist.tgz")).toBe(false);
  });

  it("returns null for a missing key", async () => {
    expect(await store.get("missing/nothing-here.tgz")).toBeNull();
  });

  it("deletes, and deleting a missing key is not an error", async () => {
    await store.put("doomed.tgz", Buffer.from("bye"));
    await store.delete("doomed.tgz");
    expect(await store.get("doomed.tgz")).toBeNull();
    expect(await store.exists("doomed.tgz")).toBe(false);
    await expect(store.delete("doomed.tgz")).resolves.toBeUndefined();
    await expect(store.delete("never-existed.tgz")).resolves.toBeUndefined();
  });

  it("lists the keys under a prefix with their write times", async () => {
    await store.put("list/aa/one.tgz", Buffer.from("1"));
    await store.put("list/bb/two.tgz", Buffer.from("2"));
    await store.put("unlisted/three.tgz", Buffer.from("3"));
    const listed = [];
    for await (const blob of store.list("list/")) listed.push(blob);
    expect(listed.map((b) => b.key).sort()).toEqual(["list/aa/one.tgz", "list/bb/two.tgz"]);
    for (const b of listed) expect(b.modifiedAt).toBeInstanceOf(Date);
  });

  it("check() passes for the bucket and fails for a missing one", async () => {
    await expect(store.check()).resolves.toBeUndefined();
    const missing = new S3BlobStore({ ...config, bucket: "no-such-bucket" });
    await expect(missing.check()).rejects.toThrow();
  });

  it("surfaces a missing bucket on get instead of reporting a missing object", async () => {
    const missing = new S3BlobStore({ ...config, bucket: "no-such-bucket" });
    await expect(missing.get("anything.tgz")).rejects.toThrow();
  });

  describe("downloadUrl", () => {
    const key = "tarballs/cc/dd/download.tgz";
    const bytes = randomBytes(200 * 1024);

    beforeAll(async () => {
      // Stored with another type so the response override is visible.
      await store.put(key, bytes, "application/x-test");
    });

    it("hands out a 5-minute presigned URL that plain fetch downloads", async () => {
      const url = await store.downloadUrl(key, "left-pad-1.3.0.tgz");
      expect(url).not.toBeNull();
      const parsed = new URL(url!);
      expect(parsed.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
      expect(parsed.searchParams.get("X-Amz-Expires")).toBe("300");
      expect(parsed.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);

      const res = await fetch(url!);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/octet-stream");
      expect(res.headers.get("content-disposition")).toBe(
        "attachment; filename=\"left-pad-1.3.0.tgz\"; filename*=UTF-8''left-pad-1.3.0.tgz",
      );
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    });

    it("encodes awkward filenames into a valid header", async () => {
      const url = await store.downloadUrl(key, 'weird "name" é.tgz');
      const res = await fetch(url!);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-disposition")).toBe(
        "attachment; filename=\"weird _name_ _.tgz\"; filename*=UTF-8''weird%20%22name%22%20%C3%A9.tgz",
      );
      await res.arrayBuffer();
    });

    // s3rver 3.7.1 never computes SigV4 signatures (it accepts any X-Amz-Signature) and serves
    // unauthenticated requests, so a forged signature cannot be refused here. It does enforce the
    // access key and the expiry window, so those are what tampering is checked against.
    it("refuses a URL whose signing date was moved back past expiry", async () => {
      const url = new URL((await store.downloadUrl(key, "x.tgz"))!);
      url.searchParams.set("X-Amz-Date", "20200101T000000Z");
      const res = await fetch(url);
      expect(res.ok).toBe(false);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain("Request has expired");
    });

    it("refuses a URL whose credential was swapped for an unknown key", async () => {
      const url = new URL((await store.downloadUrl(key, "x.tgz"))!);
      const credential = url.searchParams.get("X-Amz-Credential")!;
      url.searchParams.set("X-Amz-Credential", credential.replace(/^S3RVER\//, "FORGED/"));
      const res = await fetch(url);
      expect(res.ok).toBe(false);
      expect(await res.text()).toContain("InvalidAccessKeyId");
    });

    it("returns null when delivery is proxy", async () => {
      const proxied = new S3BlobStore({ ...config, delivery: "proxy" });
      expect(await proxied.downloadUrl(key, "x.tgz")).toBeNull();
    });
  });
});

describe("S3BlobStore against a store that accepts and never answers", () => {
  it("gives up after its idle timeout instead of holding the request forever", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as AddressInfo).port;
    const store = new S3BlobStore(
      {
        bucket: BUCKET,
        endpoint: `http://127.0.0.1:${port}`,
        region: "us-east-1",
        accessKeyId: "k",
        secretAccessKey: "s",
        forcePathStyle: true,
        delivery: "proxy",
      },
      { connectMs: 500, idleMs: 500 },
    );
    const started = Date.now();
    await expect(store.get("tarballs/aa/bb/x.tgz")).rejects.toThrow();
    await expect(store.put("tarballs/aa/bb/x.tgz", Buffer.from("x"))).rejects.toThrow();
    // Two requests with two attempts each, 500 ms idle limit: far below any default wait.
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });
});
