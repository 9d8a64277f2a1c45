/**
 * A webhook's delivery routes through the admin API, with a real receiver on 127.0.0.1 and the
 * registry's own relay running the jobs: a test ping (queued, then delivered and verifiable with
 * both signatures), the deliveries list (newest first, keyset pages), one attempt in full, and a
 * redelivery with the same delivery id. Also: a publish through npm's route reaches the hook.
 */
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { newId, schema } from "@packr/core";
import { publishBody, tokenContext } from "@packr/core/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

type Got = { headers: http.IncomingHttpHeaders; body: string };

let reg: TestRegistry;
let alice: string;
let server: http.Server;
const got: Got[] = [];
let replies: number[] = [];
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
let hookId: string;
const HOOKS = "/api/v1/admin/webhooks";

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(replies.shift() ?? 200);
      res.end("thanks");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  reg = await createTestRegistry({
    PACKR_WEBHOOK_ALLOW_HTTP: "true",
    PACKR_WEBHOOK_ALLOW_PRIVATE: "true",
    // One retry, an hour on: it stays pending for the whole suite.
    PACKR_WEBHOOK_RETRY_SCHEDULE: "1h",
  });
  const deps = reg.runtime.deps;
  const ctx = await tokenContext(deps, { user: "alice", role: "maintainer" });
  alice = ctx.token;
  const [user] = await deps.db
    .select({ id: schema.users.id })
    .from(schema.users)
    .where(eq(schema.users.name, "alice"));
  hookId = newId("whk");
  await deps.db.insert(schema.webhooks).values({
    id: hookId,
    userId: user?.id ?? "",
    url: `http://127.0.0.1:${port}/hook`,
    secret,
    events: ["package.published"],
  });
});
afterAll(async () => {
  await reg.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const verify = (g: Got) => {
  expect(g.headers["x-packr-signature"]).toBe(
    `sha256=${createHmac("sha256", secret).update(g.body).digest("hex")}`,
  );
  // Standard Webhooks by hand (the core suite uses the standardwebhooks package): HMAC-SHA256 of
  // "<webhook-id>.<webhook-timestamp>.<body>" keyed with the base64 after whsec_.
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const signed = `${g.headers["webhook-id"]}.${g.headers["webhook-timestamp"]}.${g.body}`;
  expect(g.headers["webhook-signature"]).toBe(
    `v1,${createHmac("sha256", key).update(signed).digest("base64")}`,
  );
  expect(Math.abs(Date.now() / 1000 - Number(g.headers["webhook-timestamp"]))).toBeLessThan(300);
};

describe("webhook delivery routes", () => {
  it("queues a ping (202), then the relay delivers it signed", async () => {
    const a = client(reg.app, alice);
    const res = await a.post(`${HOOKS}/${hookId}/test`, undefined);
    expect(res.status).toBe(202);
    const { deliveryId } = (await res.json()) as { deliveryId: string };
    expect(got).toHaveLength(0);
    await reg.runJobs();
    expect(got).toHaveLength(1);
    verify(got[0] as Got);
    expect(got[0]?.headers["x-packr-delivery"]).toBe(deliveryId);
    expect(JSON.parse(got[0]?.body ?? "{}")).toMatchObject({
      type: "ping",
      registry: "http://registry.test",
      hook: { id: hookId },
    });
  });

  it("delivers a publish made through npm's route", async () => {
    const a = client(reg.app, alice);
    replies = [500];
    expect((await a.put("/hooked-pkg", publishBody("hooked-pkg", "1.0.0"))).status).toBe(201);
    await reg.runJobs();
    const last = got.at(-1) as Got;
    verify(last);
    expect(JSON.parse(last.body)).toMatchObject({
      type: "package.published",
      package: {
        name: "hooked-pkg",
        version: "1.0.0",
        tarball: "http://registry.test/hooked-pkg/-/hooked-pkg-1.0.0.tgz",
      },
    });
  });

  it("lists attempts newest first in keyset pages, shows one in full, and redelivers", async () => {
    const a = client(reg.app, alice);
    type Page = { deliveries: Array<Record<string, unknown>>; nextCursor: string | null };
    const list = await a.get(`${HOOKS}/${hookId}/deliveries?limit=2`);
    expect(list.status).toBe(200);
    const page1 = (await list.json()) as Page;
    // The publish's failed attempt and its retry, due an hour later (the schedule), newest first.
    expect(page1.deliveries).toMatchObject([
      { event: "package.published", attempt: 2, status: "pending", responseStatus: null },
      { event: "package.published", attempt: 1, status: "failed", responseStatus: 500 },
    ]);
    const [retry, failed] = page1.deliveries;
    expect(failed?.nextAttemptAt).toBe(retry?.nextAttemptAt);
    expect(
      Date.parse(String(retry?.nextAttemptAt)) - Date.parse(String(failed?.attemptedAt)),
    ).toBeGreaterThanOrEqual(3_600_000);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (await (
      await a.get(`${HOOKS}/${hookId}/deliveries?limit=2&cursor=${page1.nextCursor}`)
    ).json()) as Page;
    expect(page2.deliveries.map((d) => [d.event, d.status])).toEqual([["ping", "succeeded"]]);
    expect(page2.nextCursor).toBeNull();

    const rowId = String(failed?.id);
    const one = await a.get(`${HOOKS}/${hookId}/deliveries/${rowId}`);
    expect(one.status).toBe(200);
    const { delivery } = (await one.json()) as { delivery: Record<string, unknown> };
    expect(delivery).toMatchObject({
      id: rowId,
      responseBody: "thanks",
      payload: { type: "package.published" },
      requestHeaders: { "x-packr-event": "package.published" },
    });
    expect(JSON.stringify(delivery)).not.toContain(secret);

    // A delivery with an attempt still pending is not redelivered on top of it.
    const pending = String(delivery.deliveryId);
    await expectError(
      await a.post(`${HOOKS}/${hookId}/deliveries/${pending}/redeliver`, undefined),
      409,
      "CONFLICT",
    );
    const pingId = String(page2.deliveries[0]?.deliveryId);
    const re = await a.post(`${HOOKS}/${hookId}/deliveries/${pingId}/redeliver`, undefined);
    expect(re.status).toBe(202);
    expect(await re.json()).toEqual({ deliveryId: pingId, attempt: 2 });
    const before = got.length;
    await reg.runJobs();
    expect(got).toHaveLength(before + 1);
    expect(got.at(-1)?.headers["x-packr-delivery"]).toBe(pingId);
    verify(got.at(-1) as Got);
    const latest = (await (await a.get(`${HOOKS}/${hookId}/deliveries?limit=1`)).json()) as Page;
    expect(latest.deliveries[0]).toMatchObject({
      deliveryId: pingId,
      attempt: 2,
      status: "succeeded",
    });
  });
});
