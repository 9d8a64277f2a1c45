import { randomBytes } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { sha512Hex, tarballKey } from "@packr/core";
import { makeTarballSync, publishBody, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

const MB = 1024 * 1024;
const CHUNK = 64 * 1024;

/**
 * A request body that produces `total` bytes only as the server pulls them, counting what it
 * pulled: what a route read before answering, measured at the source.
 */
function countedBody(
  total: number,
  fill = 0x20,
): { stream: ReadableStream<Uint8Array>; pulled(): number } {
  let pulled = 0;
  const chunk = new Uint8Array(CHUNK).fill(fill);
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled >= total) return controller.close();
        const next = chunk.subarray(0, Math.min(CHUNK, total - pulled));
        pulled += next.byteLength;
        controller.enqueue(next);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

/** A PUT whose body is `body`, with Content-Length `declared` or chunked when it is undefined. */
function streamedPut(
  reg: TestRegistry,
  path: string,
  body: ReadableStream<Uint8Array>,
  opts: { token?: string; declared?: number; headers?: Record<string, string> } = {},
): Response | Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.declared !== undefined) headers["content-length"] = String(opts.declared);
  return reg.app.request(path, {
    method: "PUT",
    headers,
    body,
    duplex: "half",
  } as RequestInit);
}

/** A publish body as a stream of small chunks, so it arrives chunked, as a proxy may send it. */
function chunkedJson(value: unknown): ReadableStream<Uint8Array> {
  const bytes = Buffer.from(JSON.stringify(value));
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(new Uint8Array(bytes.subarray(offset, offset + 16 * 1024)));
      offset += 16 * 1024;
    },
  });
}

describe("body caps: who is refused before the body is read", () => {
  let reg: TestRegistry;
  let admin: string;
  let reader: string;
  let stranger: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    admin = await reg.login("admin", ADMIN_PASSWORD);
    const res = await client(reg.app, admin).put("/owned", publishBody("owned", "1.0.0"));
    expect(res.status).toBe(201);
    reader = (await tokenContext(reg.runtime.deps, { user: "reader", role: "ci-readonly" })).token;
    stranger = (await tokenContext(reg.runtime.deps, { user: "stranger", role: "maintainer" }))
      .token;
  });
  afterAll(async () => reg.close());

  it("answers an anonymous 200 MB publish 401 without reading its body", async () => {
    for (const declared of [200 * MB, undefined]) {
      const body = countedBody(200 * MB);
      const res = await streamedPut(reg, "/big-anon", body.stream, { declared });
      await expectError(res, 401, "UNAUTHORIZED");
      expect(body.pulled()).toBeLessThan(MB);
    }
  });

  it("answers a wrong token's 200 MB publish 401 without reading its body", async () => {
    const body = countedBody(200 * MB);
    const res = await streamedPut(reg, "/big-anon", body.stream, {
      token: "not-a-token",
      declared: 200 * MB,
    });
    expect(res.status).toBe(401);
    expect(body.pulled()).toBeLessThan(MB);
  });

  it("answers a read-only token's 200 MB publish 403 without reading its body", async () => {
    for (const declared of [200 * MB, undefined]) {
      const body = countedBody(200 * MB);
      const res = await streamedPut(reg, "/big-ro", body.stream, { token: reader, declared });
      const err = await expectError(res, 403, "FORBIDDEN");
      expect(err.error).toMatch(/ci-readonly/);
      // Chunked, it may read as much as a star could be (64 KB), and then stops.
      expect(body.pulled()).toBeLessThan(MB);
    }
  });

  it("answers a non-maintainer's 200 MB publish, deprecate or unpublish 403 without reading it", async () => {
    for (const [path, declared] of [
      ["/owned", 200 * MB],
      ["/owned", undefined],
      ["/owned/-rev/1-abc", 200 * MB],
      ["/owned/-rev/1-abc", undefined],
    ] as const) {
      const body = countedBody(200 * MB);
      const res = await streamedPut(reg, path, body.stream, { token: stranger, declared });
      const err = await expectError(res, 403, "FORBIDDEN");
      expect(err.error).toMatch(/not a maintainer of owned/);
      expect(body.pulled()).toBeLessThan(MB);
    }
  });

  it("answers an anonymous unpublish PUT 401 and one of a missing package 404, unread", async () => {
    const anon = countedBody(200 * MB);
    await expectError(
      await streamedPut(reg, "/owned/-rev/1-abc", anon.stream, { declared: 200 * MB }),
      401,
      "UNAUTHORIZED",
    );
    const missing = countedBody(200 * MB);
    await expectError(
      await streamedPut(reg, "/nope/-rev/1-abc", missing.stream, {
        token: stranger,
        declared: 200 * MB,
      }),
      404,
      "NOT_FOUND",
    );
    expect(anon.pulled() + missing.pulled()).toBeLessThan(MB);
  });

  it("still lets a read-only token star, and any body it sends stays small", async () => {
    const res = await client(reg.app, reader).put("/owned", {
      _id: "owned",
      _rev: "1-x",
      users: { reader: true },
    });
    expect(res.status).toBe(200);
  });

  it("refuses npm's legacy login with a huge body 413, declared or chunked, unread", async () => {
    for (const declared of [200 * MB, undefined]) {
      const body = countedBody(200 * MB);
      const res = await streamedPut(reg, "/-/user/org.couchdb.user:admin", body.stream, {
        declared,
      });
      await expectError(res, 413, "PAYLOAD_TOO_LARGE");
      expect(body.pulled()).toBeLessThan(MB);
    }
    // A login of normal size still works (npm's retry with Basic after the 409).
    const basic = Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64");
    const ok = await client(reg.app).put(
      "/-/user/org.couchdb.user:admin",
      {
        _id: "org.couchdb.user:admin",
        name: "admin",
        password: ADMIN_PASSWORD,
        type: "user",
        roles: [],
      },
      { authorization: `Basic ${basic}` },
    );
    expect(ok.status).toBe(201);
  });

  it("refuses a dist-tag PUT with a huge body 413, even from the maintainer", async () => {
    for (const declared of [200 * MB, undefined]) {
      const body = countedBody(200 * MB);
      const res = await streamedPut(reg, "/-/package/owned/dist-tags/next", body.stream, {
        token: admin,
        declared,
      });
      await expectError(res, 413, "PAYLOAD_TOO_LARGE");
      expect(body.pulled()).toBeLessThan(MB);
    }
  });

  it("accepts a maintainer's publish sent chunked", async () => {
    const bytes = makeTarballSync(
      { name: "owned", version: "1.1.0" },
      { "pad.bin": randomBytes(300 * 1024) },
    );
    const res = await streamedPut(
      reg,
      "/owned",
      chunkedJson(publishBody("owned", "1.1.0", { bytes })),
      { token: admin },
    );
    expect(res.status).toBe(201);
    const tgz = await client(reg.app, admin).get("/owned/-/owned-1.1.0.tgz");
    expect(Buffer.from(await tgz.arrayBuffer()).equals(bytes)).toBe(true);
  });
});

describe("body caps: PACKR_MAX_BODY_SIZE for those allowed to publish", () => {
  let reg: TestRegistry;
  let admin: string;

  beforeAll(async () => {
    reg = await createTestRegistry({ PACKR_MAX_BODY_SIZE: String(MB) });
    admin = await reg.login("admin", ADMIN_PASSWORD);
  });
  afterAll(async () => reg.close());

  it("answers an oversized Content-Length 413 at once, without reading", async () => {
    const body = countedBody(200 * MB);
    const started = performance.now();
    const res = await streamedPut(reg, "/too-big", body.stream, {
      token: admin,
      declared: 200 * MB,
    });
    const err = await expectError(res, 413, "PAYLOAD_TOO_LARGE");
    expect(err.error).toMatch(/PACKR_MAX_BODY_SIZE/);
    expect(body.pulled()).toBe(0);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("cuts a chunked body off at the limit with a 413", async () => {
    const body = countedBody(50 * MB);
    const res = await streamedPut(reg, "/too-big", body.stream, { token: admin });
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
    expect(body.pulled()).toBeLessThanOrEqual(MB + CHUNK);
  });

  it("still takes a publish under the limit", async () => {
    const res = await client(reg.app, admin).put(
      "/fits",
      publishBody("fits", "1.0.0", {
        bytes: makeTarballSync(
          { name: "fits", version: "1.0.0" },
          { "pad.bin": randomBytes(200 * 1024) },
        ),
      }),
    );
    expect(res.status).toBe(201);
  });

  it("over real HTTP, answers a chunked oversize publish 413 and stops taking bytes", async () => {
    const server = serve({ fetch: reg.app.fetch, port: 0, hostname: "127.0.0.1" });
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      const req = http.request({
        host: "127.0.0.1",
        port,
        method: "PUT",
        path: "/too-big",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      });
      const answered = new Promise<http.IncomingMessage>((resolve, reject) => {
        req.on("response", resolve);
        req.on("error", reject);
      });
      let sent = 0;
      let status = 0;
      answered.then(
        (res) => {
          status = res.statusCode ?? 0;
          res.resume();
        },
        () => {},
      );
      const chunk = Buffer.alloc(CHUNK, 0x20);
      // Write up to 100 MB, stopping at the answer (or when the server closes the socket).
      while (sent < 100 * MB && status === 0 && !req.destroyed) {
        if (!req.write(chunk)) await Promise.race([once(req, "drain"), answered]);
        sent += CHUNK;
      }
      const res = await answered;
      expect(res.statusCode).toBe(413);
      expect(sent).toBeLessThan(100 * MB);
      req.destroy();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("publish refusals leave no blob behind", () => {
  let reg: TestRegistry;
  let admin: string;
  let stranger: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    admin = await reg.login("admin", ADMIN_PASSWORD);
    expect((await client(reg.app, admin).put("/kept", publishBody("kept", "1.0.0"))).status).toBe(
      201,
    );
    stranger = (await tokenContext(reg.runtime.deps, { user: "stranger", role: "maintainer" }))
      .token;
  });
  afterAll(async () => reg.close());

  const keyOf = (bytes: Buffer) => tarballKey(sha512Hex(bytes));

  it("403: a non-maintainer's publish writes nothing", async () => {
    const bytes = makeTarballSync({ name: "kept", version: "2.0.0", description: "a stranger's" });
    const res = await client(reg.app, stranger).put(
      "/kept",
      publishBody("kept", "2.0.0", { bytes }),
    );
    await expectError(res, 403, "FORBIDDEN");
    expect(await reg.runtime.deps.blobStore.exists(keyOf(bytes))).toBe(false);
  });

  it("409: other bytes for a published version write nothing", async () => {
    const bytes = makeTarballSync({ name: "kept", version: "1.0.0", description: "other bytes" });
    const res = await client(reg.app, admin).put("/kept", publishBody("kept", "1.0.0", { bytes }));
    await expectError(res, 409, "VERSION_EXISTS");
    expect(await reg.runtime.deps.blobStore.exists(keyOf(bytes))).toBe(false);
  });

  it("409: a version number that was unpublished writes nothing", async () => {
    expect((await client(reg.app, admin).put("/kept", publishBody("kept", "1.1.0"))).status).toBe(
      201,
    );
    const doc = (await (await client(reg.app, admin).get("/kept")).json()) as { _rev: string };
    const versions = { "1.0.0": {} };
    const un = await client(reg.app, admin).put(`/kept/-rev/${doc._rev}`, {
      _id: "kept",
      _rev: doc._rev,
      name: "kept",
      versions,
      "dist-tags": { latest: "1.0.0" },
    });
    expect(un.status).toBe(200);
    const bytes = makeTarballSync({ name: "kept", version: "1.1.0", description: "again" });
    const res = await client(reg.app, admin).put("/kept", publishBody("kept", "1.1.0", { bytes }));
    await expectError(res, 409, "VERSION_EXISTS");
    expect(await reg.runtime.deps.blobStore.exists(keyOf(bytes))).toBe(false);
  });

  it("an idempotent retry of a published version still succeeds", async () => {
    const res = await client(reg.app, admin).put("/kept", publishBody("kept", "1.0.0"));
    expect(res.status).toBe(200);
  });
});
