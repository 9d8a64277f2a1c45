/**
 * Webhook delivery end to end: verbs commit events, the relay fans them out and delivers them to
 * real HTTP receivers on 127.0.0.1. Both signatures verified for every event type; retries on the
 * schedule; one success row; redirects, timeouts and long answers; ping and redeliver; disabled,
 * deleted and disabling hooks; access at fan-out and again at each attempt; token events only to
 * their owner, without secrets; the SSRF guard again at delivery; idempotent re-runs.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps, ServiceContext } from "../src/context.ts";
import { auditEvents, outbox, users, webhookDeliveries, webhooks } from "../src/db/schema/index.ts";
import { createJobHandlers } from "../src/jobs/handlers.ts";
import { DELIVER_EVENT, DELIVER_WEBHOOK } from "../src/jobs/topics.ts";
import { addOrgMember, removeOrgMember } from "../src/orgs/org-members.ts";
import { changeOwners } from "../src/packages/change-owners.ts";
import { deprecateVersions } from "../src/packages/deprecate-versions.ts";
import { removeDistTag } from "../src/packages/remove-dist-tag.ts";
import { setDistTag } from "../src/packages/set-dist-tag.ts";
import { unpublishVersions } from "../src/packages/unpublish-versions.ts";
import { createTestDeps, type TestDeps, testDrivers, tokenContext } from "../src/testing/index.ts";
import { setOrgRole } from "../src/testing/orgs.ts";
import { createToken } from "../src/tokens/create-token.ts";
import { revokeToken } from "../src/tokens/revoke-token.ts";
import { getDelivery, listDeliveries } from "../src/webhooks/deliveries.ts";
import { pingWebhook } from "../src/webhooks/ping.ts";
import { redeliver } from "../src/webhooks/redeliver.ts";
import { sendWebhookRequest } from "../src/webhooks/send-request.ts";
import { failure, publish, readDoc } from "./helpers.ts";
import {
  deliveryRelay,
  fanOutPending,
  insertHook,
  type Receiver,
  setHookActive,
  silence,
  startReceiver,
  status,
  verifyBoth,
} from "./webhook-receiver.ts";

const ALL_PACKAGE_AND_TOKEN = [
  "package.published",
  "package.unpublished",
  "package.deprecated",
  "package.dist-tag.changed",
  "package.owner.changed",
  "token.created",
  "token.revoked",
];
const ORG_EVENTS = ["org.member.added", "org.member.removed", "org.member.role_changed"];

const attempts = (deps: Deps, hookId: string) =>
  deps.db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.webhookId, hookId))
    .orderBy(asc(webhookDeliveries.deliveryId), asc(webhookDeliveries.attempt));

const userIdOf = async (deps: Deps, name: string) => {
  const [u] = await deps.db.select({ id: users.id }).from(users).where(eq(users.name, name));
  if (!u) throw new Error(`no user ${name}`);
  return u.id;
};

/** Wait for nothing: a receiver's requests are all in once the relay has drained. */
const drain = (deps: Deps) => deliveryRelay(deps).drain();

describe.each(testDrivers())("webhook delivery on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext & { token: string };
  let bob: ServiceContext & { token: string };
  let carol: ServiceContext & { token: string };
  const receivers: Receiver[] = [];
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer", kind: "login" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer", kind: "login" });
    carol = await tokenContext(deps, { user: "carol", role: "maintainer", kind: "login" });
    // Events committed before any hook existed are consumed with nobody to receive them.
    await drain(deps);
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await deps.close();
  });

  it("delivers every package and token event, each verifiable with both signatures", async () => {
    const rx = await receiver();
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const hook = await insertHook(deps, {
      url: rx.url,
      events: ALL_PACKAGE_AND_TOKEN,
      userId: await userIdOf(deps, "alice"),
      secret,
    });
    // A caller-chosen secret that is not in whsec_ form: receivers pass whsec_ + base64(secret).
    const plain = "a plain secret of enough length";
    const rx2 = await receiver();
    await insertHook(deps, {
      url: rx2.url,
      events: ["package.published"],
      userId: await userIdOf(deps, "alice"),
      secret: plain,
    });

    await publish(alice, "hooked", ["1.0.0", "1.1.0"]);
    await setDistTag({ ctx: alice, input: { name: "hooked", tag: "beta", body: "1.0.0" } });
    await removeDistTag({ ctx: alice, input: { name: "hooked", tag: "beta" } });
    await deprecateVersions({
      ctx: alice,
      input: { name: "hooked", body: { versions: { "1.0.0": { deprecated: "use 1.1" } } } },
    });
    const rev = (await readDoc(alice, "hooked"))._rev as string;
    await changeOwners({
      ctx: alice,
      input: { name: "hooked", rev, body: { maintainers: [{ name: "alice" }, { name: "bob" }] } },
    });
    const rev2 = (await readDoc(alice, "hooked"))._rev as string;
    const doc = await readDoc(alice, "hooked");
    const { "1.0.0": _gone, ...kept } = doc.versions;
    await unpublishVersions({
      ctx: alice,
      input: { name: "hooked", rev: rev2, body: { ...doc, versions: kept } },
    });
    const created = await createToken({
      ctx: alice,
      input: { name: "deploy bot", role: "ci-publish" },
    });
    await revokeToken({ ctx: alice, input: { id: created.id } });
    await drain(deps);

    const types = rx.received.map((r) => r.json.type);
    expect(types).toEqual([
      "package.published",
      "package.published",
      "package.dist-tag.changed",
      "package.dist-tag.changed",
      "package.deprecated",
      "package.owner.changed",
      "package.unpublished",
      "token.created",
      "token.revoked",
    ]);
    for (const r of rx.received) {
      verifyBoth(r, secret);
      expect(r.headers["x-packr-event"]).toBe(r.json.type);
      expect(r.headers["x-packr-delivery"]).toBe(r.headers["webhook-id"]);
      expect(r.headers["user-agent"]).toBe("Packr-Hookshot/1");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.json).toMatchObject({
        id: expect.stringMatching(/^evt_/),
        registry: "http://registry.test",
        actor: { type: "token", name: "alice", token: "test maintainer" },
      });
      // Never a secret, never a JWT, in any body.
      expect(r.body).not.toContain(created.token);
      expect(r.body).not.toContain(alice.token);
      expect(r.body).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    }
    // A forged body fails both checks.
    const first = rx.received[0];
    if (!first) throw new Error("nothing received");
    expect(() =>
      verifyBoth({ ...first, body: first.body.replace("1.0.0", "6.6.6") }, secret),
    ).toThrow();

    expect(rx.received[1]?.json.package).toEqual({
      name: "hooked",
      version: "1.1.0",
      distTags: expect.objectContaining({ latest: expect.any(String) }),
      tarball: "http://registry.test/hooked/-/hooked-1.1.0.tgz",
    });
    expect(rx.received[2]?.json.data).toMatchObject({
      action: "set",
      tag: "beta",
      version: "1.0.0",
    });
    expect(rx.received[3]?.json.data).toMatchObject({
      action: "removed",
      tag: "beta",
      previous: "1.0.0",
    });
    expect(rx.received[5]?.json.data).toEqual({ added: ["bob"], removed: [] });
    expect(rx.received[6]?.json.data).toMatchObject({ versions: ["1.0.0"] });
    expect(rx.received[7]?.json.target).toEqual({
      type: "token",
      id: created.id,
      name: "deploy bot",
      kind: "ci",
      role: "ci-publish",
      scopes: [],
      expiresAt: created.expiresAt.toISOString(),
    });
    expect(rx.received[8]?.json.target).toMatchObject({ type: "token", id: created.id });

    // The plain-secret hook verifies with whsec_ + base64(secret).
    expect(rx2.received).toHaveLength(2);
    for (const r of rx2.received) verifyBoth(r, plain);

    const rows = await attempts(deps, hook.id);
    expect(rows).toHaveLength(9);
    expect(rows.every((r) => r.status === "succeeded" && r.attempt === 1)).toBe(true);
    expect(rows[0]?.requestHeaders).toMatchObject({ "x-packr-signature": expect.any(String) });
    expect(JSON.stringify(rows.map((r) => r.requestHeaders))).not.toContain(secret);
  });

  it("retries on the schedule: 500, 500, then 200 is one success on attempt 3", async () => {
    const rx = await receiver([status(500, "boom"), status(500, "boom again")]);
    const hook = await insertHook(deps, {
      url: rx.url,
      events: ["package.published"],
      userId: await userIdOf(deps, "alice"),
      scope: "retried",
    });
    const schedule = [1_000, 2_000, 3_000];
    const slow = { ...deps, webhooks: { ...deps.webhooks, retryScheduleMs: schedule } };
    await publish(alice, "retried", ["1.0.0"]);
    await drain(slow);

    expect(rx.received).toHaveLength(3);
    const ids = new Set(rx.received.map((r) => r.headers["x-packr-delivery"]));
    expect(ids.size).toBe(1);
    const rows = await attempts(deps, hook.id);
    expect(rows.map((r) => [r.attempt, r.status, r.responseStatus])).toEqual([
      [1, "failed", 500],
      [2, "failed", 500],
      [3, "succeeded", 200],
    ]);
    expect(rows.filter((r) => r.status === "succeeded")).toHaveLength(1);
    expect(rows[0]?.responseBody).toBe("boom");
    // Each retry was due its schedule entry after the failed attempt (the failed row says when).
    for (const [i, row] of rows.slice(0, 2).entries()) {
      const next = rows[i + 1];
      const wait = (row.nextAttemptAt?.getTime() ?? 0) - (row.attemptedAt?.getTime() ?? 0);
      expect(wait).toBeGreaterThanOrEqual(schedule[i] ?? 0);
      expect(wait).toBeLessThan((schedule[i] ?? 0) + 1_000);
      const [job] = await deps.db
        .select()
        .from(outbox)
        .where(eq(outbox.topic, DELIVER_WEBHOOK))
        .then((jobs) =>
          jobs.filter(
            (j) => j.payload.attempt === next?.attempt && j.payload.deliveryId === row.deliveryId,
          ),
        );
      expect(job?.availableAt.getTime()).toBe(row.nextAttemptAt?.getTime());
    }
    const [h] = await deps.db.select().from(webhooks).where(eq(webhooks.id, hook.id));
    expect(h?.failingSince).toBeNull();
  });

  it("gives up after the last retry: permanently_failed, and the hook is marked failing", async () => {
    const rx = await receiver(Array.from({ length: 10 }, () => status(503)));
    const hook = await insertHook(deps, {
      url: rx.url,
      events: ["package.published"],
      userId: await userIdOf(deps, "alice"),
      scope: "doomed",
    });
    await publish(alice, "doomed", ["1.0.0"]);
    await drain(deps);
    const rows = await attempts(deps, hook.id);
    const n = deps.webhooks.retryScheduleMs.length + 1;
    expect(rx.received).toHaveLength(n);
    expect(rows.map((r) => r.status)).toEqual([
      ...Array.from({ length: n - 1 }, () => "failed"),
      "permanently_failed",
    ]);
    expect(rows.at(-1)?.nextAttemptAt).toBeNull();
    const [h] = await deps.db.select().from(webhooks).where(eq(webhooks.id, hook.id));
    expect(h?.failingSince).toBeInstanceOf(Date);
    expect(h?.active).toBe(true);
  });

  it("does not follow a redirect to loopback; a 3xx is a failed attempt", async () => {
    const target = await receiver();
    const rx = await receiver([status(302, "", { location: target.url })]);
    const hook = await insertHook(deps, {
      url: rx.url,
      events: ["package.published"],
      userId: await userIdOf(deps, "alice"),
      scope: "redirected",
    });
    const once = { ...deps, webhooks: { ...deps.webhooks, retryScheduleMs: [] } };
    await publish(alice, "redirected", ["1.0.0"]);
    await drain(once);
    expect(target.received).toHaveLength(0);
    const [row] = await attempts(deps, hook.id);
    expect(row).toMatchObject({ status: "permanently_failed", responseStatus: 302 });
    expect(row?.error).toMatch(/redirect.*not followed/);
  });

  it("times out a receiver that never answers, and stops reading a long answer at 4 KiB", async () => {
    const quiet = await receiver([silence]);
    const chatty = await receiver([
      (_req, res) => {
        // 64 KiB and the response never ends: the client must stop reading on its own.
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("x".repeat(64 * 1024));
      },
    ]);
    const uid = await userIdOf(deps, "alice");
    const h1 = await insertHook(deps, {
      url: quiet.url,
      events: ["package.published"],
      userId: uid,
      scope: "capped",
    });
    const h2 = await insertHook(deps, {
      url: chatty.url,
      events: ["package.published"],
      userId: uid,
      scope: "capped",
    });
    const short = { ...deps, webhooks: { ...deps.webhooks, timeoutMs: 300, retryScheduleMs: [] } };
    await publish(alice, "capped", ["1.0.0"]);
    await drain(short);
    const [timedOut] = await attempts(deps, h1.id);
    expect(timedOut).toMatchObject({ status: "permanently_failed", responseStatus: null });
    expect(timedOut?.error).toMatch(/did not answer within 300 ms/);
    const [long] = await attempts(deps, h2.id);
    expect(long).toMatchObject({ status: "succeeded", responseStatus: 200 });
    expect(long?.responseBody?.length).toBe(4096);
  });

  it("connects to the checked address without resolving the name again", async () => {
    const rx = await receiver();
    // The name does not resolve anywhere: the request can only have gone to the pinned address.
    const url = new URL(`http://hooks.does-not-resolve.invalid:${rx.port}/pinned`);
    const r = await sendWebhookRequest(
      { url, addresses: [{ address: "127.0.0.1", family: 4 }] },
      { "content-type": "application/json" },
      "{}",
      2_000,
    );
    expect(r).toMatchObject({ status: 200, error: null });
    expect(rx.received[0]?.headers.host).toBe(`hooks.does-not-resolve.invalid:${rx.port}`);
    expect(rx.received[0]?.path).toBe("/pinned");
  });

  it("sends the host name as SNI over https while connecting to the pinned address; a TLS error fails", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "packr-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=hooks.does-not-resolve.invalid",
      ],
      { stdio: "ignore" },
    );
    const seen: string[] = [];
    const server = https.createServer(
      {
        key: await readFile(path.join(dir, "key.pem")),
        cert: await readFile(path.join(dir, "cert.pem")),
        SNICallback: (name, cb) => {
          seen.push(name);
          cb(null, undefined);
        },
      },
      (_req, res) => res.end("ok"),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const r = await sendWebhookRequest(
        {
          url: new URL(`https://hooks.does-not-resolve.invalid:${port}/`),
          addresses: [{ address: "127.0.0.1", family: 4 }],
        },
        { "content-type": "application/json" },
        "{}",
        2_000,
      );
      // Self-signed: refused by the certificate check, which is a failed attempt, not a crash.
      expect(r.status).toBeNull();
      expect(r.error).toMatch(/certificate/i);
      expect(seen).toEqual(["hooks.does-not-resolve.invalid"]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("pings a hook and redelivers a delivery with the same id as a new attempt", async () => {
    const rx = await receiver([status(500)]);
    const secret = "a ping secret, long enough";
    const hook = await insertHook(deps, {
      url: rx.url,
      events: ["package.published"],
      userId: await userIdOf(deps, "alice"),
      secret,
    });
    const once = { ...deps, webhooks: { ...deps.webhooks, retryScheduleMs: [] } };
    const { deliveryId } = await pingWebhook(deps, alice, hook.id);
    expect(rx.received).toHaveLength(0); // queued, never sent in the call
    await drain(once);
    expect(rx.received).toHaveLength(1);
    verifyBoth(rx.received[0] as never, secret);
    expect(rx.received[0]?.json).toMatchObject({ type: "ping", hook: { id: hook.id } });
    expect(rx.received[0]?.headers["x-packr-delivery"]).toBe(deliveryId);

    const again = await redeliver(deps, alice, hook.id, deliveryId);
    expect(again).toEqual({ deliveryId, attempt: 2 });
    // An attempt still pending cannot be redelivered on top of.
    expect((await failure(redeliver(deps, alice, hook.id, deliveryId))).code).toBe("CONFLICT");
    await drain(once);
    expect(rx.received).toHaveLength(2);
    expect(rx.received[1]?.headers["x-packr-delivery"]).toBe(deliveryId);
    expect(rx.received[1]?.body).toBe(rx.received[0]?.body);
    verifyBoth(rx.received[1] as never, secret);
    const rows = await attempts(deps, hook.id);
    expect(rows.map((r) => [r.attempt, r.status])).toEqual([
      [1, "permanently_failed"],
      [2, "succeeded"],
    ]);
    const [audit] = await deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "webhook.redeliver"), eq(auditEvents.targetId, hook.id)));
    expect(audit?.data).toMatchObject({ deliveryId, attempt: 2 });

    // Listing and reading: newest first, keyset pages, full detail of one attempt.
    const page1 = await listDeliveries(deps, alice, hook.id, { limit: 1 });
    expect(page1.deliveries.map((d) => d.attempt)).toEqual([2]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = await listDeliveries(deps, alice, hook.id, {
      limit: 1,
      cursor: page1.nextCursor ?? "",
    });
    expect(page2.deliveries.map((d) => d.attempt)).toEqual([1]);
    expect(page2.nextCursor).toBeNull();
    const detail = await getDelivery(deps, alice, hook.id, page1.deliveries[0]?.id ?? "");
    expect(detail.requestHeaders?.["webhook-id"]).toBe(deliveryId);
    expect(detail.payload).toMatchObject({ type: "ping" });
    expect(detail.responseBody).toBe("ok");
    // Someone else's hook does not exist for them; a forged cursor is refused.
    expect((await failure(listDeliveries(deps, bob, hook.id))).code).toBe("NOT_FOUND");
    expect((await failure(getDelivery(deps, bob, hook.id, detail.id))).code).toBe("NOT_FOUND");
    expect((await failure(redeliver(deps, bob, hook.id, deliveryId))).code).toBe("NOT_FOUND");
    expect((await failure(pingWebhook(deps, bob, hook.id))).code).toBe("NOT_FOUND");
    expect(
      (await failure(listDeliveries(deps, alice, hook.id, { cursor: "not!a cursor" }))).code,
    ).toBe("VALIDATION");
    expect(
      (
        await failure(
          listDeliveries(deps, alice, hook.id, {
            cursor: Buffer.from("[1]").toString("base64url"),
          }),
        )
      ).code,
    ).toBe("VALIDATION");
  });

  it("sends nothing to disabled or deleted hooks, including deliveries queued before", async () => {
    const rx = await receiver();
    const uid = await userIdOf(deps, "alice");
    const off = await insertHook(deps, {
      url: rx.url,
      events: ["package.published"],
      userId: uid,
      scope: "quiet",
      active: false,
    });
    await publish(alice, "quiet", ["1.0.0"]);
    await drain(deps);
    expect(await attempts(deps, off.id)).toHaveLength(0);

    // Queued while active, disabled before the attempt: closed unsent.
    await setHookActive(deps, off.id, true);
    await publish(alice, "quiet", ["1.0.1"]);
    await fanOutPending(deps); // queued, not sent
    await setHookActive(deps, off.id, false);
    await drain(deps);
    const [closed] = await attempts(deps, off.id);
    expect(closed).toMatchObject({ status: "permanently_failed", responseStatus: null });
    expect(closed?.error).toMatch(/disabled/);

    // Queued, then the hook deleted: its rows go with it and its job finds nothing to send.
    const gone = await insertHook(deps, {
      url: rx.url,
      events: ["package.published"],
      userId: uid,
      scope: "quiet",
    });
    await publish(alice, "quiet", ["1.0.2"]);
    await fanOutPending(deps);
    expect(await attempts(deps, gone.id)).toHaveLength(1);
    await deps.db.delete(webhooks).where(eq(webhooks.id, gone.id));
    await drain(deps);
    expect(rx.received).toHaveLength(0);
  });

  it("disables a hook whose deliveries failed for disableAfterMs, with an audit row", async () => {
    const rx = await receiver([status(500), status(500)]);
    const hook = await insertHook(deps, {
      url: rx.url,
      events: ["package.published"],
      userId: await userIdOf(deps, "alice"),
      scope: "flaky",
    });
    await publish(alice, "flaky", ["1.0.0"]);
    await drain({ ...deps, webhooks: { ...deps.webhooks, disableAfterMs: 0 } });
    expect(rx.received).toHaveLength(1);
    const [h] = await deps.db.select().from(webhooks).where(eq(webhooks.id, hook.id));
    expect(h).toMatchObject({ active: false, disabledAt: expect.any(Date) });
    expect(h?.disabledReason).toMatch(/failed/);
    const rows = await attempts(deps, hook.id);
    expect(rows.map((r) => r.status)).toEqual(["permanently_failed"]);
    const [audit] = await deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "webhook.disable"), eq(auditEvents.targetId, hook.id)));
    expect(audit?.actorType).toBe("system");
  });

  it("checks the URL again at delivery: a private address refused names the refusal", async () => {
    const rx = await receiver();
    const hook = await insertHook(deps, {
      url: rx.url,
      events: ["package.published"],
      userId: await userIdOf(deps, "alice"),
      scope: "guarded",
    });
    await publish(alice, "guarded", ["1.0.0"]);
    await drain({
      ...deps,
      webhooks: { ...deps.webhooks, allowPrivate: false, retryScheduleMs: [] },
    });
    expect(rx.received).toHaveLength(0);
    const [row] = await attempts(deps, hook.id);
    expect(row?.status).toBe("permanently_failed");
    expect(row?.error).toMatch(/127\.0\.0\.1.*private, loopback/);
  });

  it("sends token events only to the token owner's own hooks", async () => {
    const mine = await receiver();
    const theirs = await receiver();
    const orgRx = await receiver();
    const { orgId } = await setOrgRole(deps, { org: "tokorg", user: "alice", role: "admin" });
    await insertHook(deps, {
      url: mine.url,
      events: ["token.created"],
      userId: await userIdOf(deps, "carol"),
    });
    await insertHook(deps, {
      url: theirs.url,
      events: ["token.created"],
      userId: await userIdOf(deps, "bob"),
    });
    await insertHook(deps, { url: orgRx.url, events: ["token.created"], orgId });
    const t = await createToken({ ctx: carol, input: { name: "carol ci", role: "ci-readonly" } });
    await drain(deps);
    expect(mine.received.map((r) => r.json.type)).toEqual(["token.created"]);
    expect(mine.received[0]?.body).not.toContain(t.token);
    expect(theirs.received).toHaveLength(0);
    expect(orgRx.received).toHaveLength(0);
  });

  it("stops a removed member's hooks receiving the org's package and org events", async () => {
    const { orgId } = await setOrgRole(deps, { org: "acme", user: "alice", role: "admin" });
    await addOrgMember({ ctx: alice, input: { org: "acme", user: "bob", role: "reader" } });
    await tokenContext(deps, { user: "dave", role: "maintainer" });
    await drain(deps); // bob's member.added goes out before the hooks below exist
    const bobRx = await receiver();
    const carolRx = await receiver();
    const orgRx = await receiver();
    const events = ["package.published", ...ORG_EVENTS];
    await insertHook(deps, { url: bobRx.url, events, userId: await userIdOf(deps, "bob") });
    await insertHook(deps, { url: carolRx.url, events, userId: await userIdOf(deps, "carol") });
    const orgHook = await insertHook(deps, { url: orgRx.url, events, orgId, scope: "@acme" });

    await publish(alice, "@acme/lib", ["1.0.0"]); // restricted (the scoped default)
    await addOrgMember({ ctx: alice, input: { org: "acme", user: "dave", role: "reader" } });
    await drain(deps);
    expect(bobRx.received.map((r) => r.json.type)).toEqual([
      "package.published",
      "org.member.added",
    ]);
    expect(bobRx.received[1]?.json).toMatchObject({
      org: { slug: "acme" },
      target: { type: "user", name: "dave" },
    });
    // carol is no member: neither the restricted package nor the org's events reach her.
    expect(carolRx.received).toHaveLength(0);
    expect(orgRx.received.map((r) => r.json.type)).toEqual([
      "package.published",
      "org.member.added",
    ]);

    // Queued while bob was a member, attempted after his removal: not sent.
    await publish(alice, "@acme/lib", ["1.0.1"]);
    await fanOutPending(deps); // bob's delivery is queued
    await removeOrgMember({ ctx: alice, input: { org: "acme", user: "bob" } });
    await publish(alice, "@acme/lib", ["1.0.2"]);
    await drain(deps);
    expect(bobRx.received.map((r) => r.json.type)).toEqual([
      "package.published",
      "org.member.added",
    ]);
    const bobHookRows = await deps.db
      .select()
      .from(webhookDeliveries)
      .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
      .where(eq(webhooks.userId, await userIdOf(deps, "bob")));
    const unsent = bobHookRows.find((r) => r.webhook_deliveries.status === "permanently_failed");
    expect(unsent?.webhook_deliveries.error).toMatch(/may no longer receive/);
    // The org's own hook kept receiving, including the removal.
    expect(orgRx.received.map((r) => r.json.type)).toEqual([
      "package.published",
      "org.member.added",
      "package.published",
      "org.member.removed",
      "package.published",
    ]);
    expect(orgHook.scope).toBe("@acme");
  });

  it("fans out and delivers once when jobs run twice", async () => {
    const rx = await receiver();
    const hook = await insertHook(deps, {
      url: rx.url,
      events: ["package.published"],
      userId: await userIdOf(deps, "alice"),
      scope: "twice",
    });
    await publish(alice, "twice", ["1.0.0"]);
    const [eventJob] = await deps.db
      .select()
      .from(outbox)
      .where(eq(outbox.topic, DELIVER_EVENT))
      .then((jobs) => jobs.filter((j) => j.payload.packageName === "twice"));
    if (!eventJob) throw new Error("no event job");
    const handlers = createJobHandlers(deps, { docGen: undefined });
    const job = { id: eventJob.id, topic: DELIVER_EVENT, payload: eventJob.payload, attempt: 1 };
    await handlers[DELIVER_EVENT]?.(job);
    await handlers[DELIVER_EVENT]?.(job);
    const rows = await attempts(deps, hook.id);
    expect(rows).toHaveLength(1);
    const deliver = {
      id: 0,
      topic: DELIVER_WEBHOOK,
      payload: { deliveryId: rows[0]?.deliveryId, attempt: 1 },
      attempt: 1,
    };
    await handlers[DELIVER_WEBHOOK]?.(deliver);
    await handlers[DELIVER_WEBHOOK]?.(deliver);
    expect(rx.received).toHaveLength(1);
    await drain(deps);
    expect(rx.received).toHaveLength(1);
    expect(await attempts(deps, hook.id)).toHaveLength(1);
  });
});
