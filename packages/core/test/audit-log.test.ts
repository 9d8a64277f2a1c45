/**
 * The audit log as a product: what each change and sign-in records (token name, address), who
 * reads which events through listAuditEvents and the export, the append-only trigger, and the
 * hash chain with verifyAuditChain naming the first broken link.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainAllAuditEvents, verifyAuditChain } from "../src/audit/audit-chain.ts";
import { listAuditEvents, openAuditExport } from "../src/audit/list-audit-events.ts";
import { RateLimiter } from "../src/auth/rate-limiter.ts";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, orgs } from "../src/db/schema/index.ts";
import { createOrg } from "../src/orgs/create-org.ts";
import { deleteOrg } from "../src/orgs/delete-org.ts";
import { addOrgMember } from "../src/orgs/org-members.ts";
import { authenticateSession } from "../src/sessions/authenticate-session.ts";
import { createPasswordSession } from "../src/sessions/create-session.ts";
import { endSession } from "../src/sessions/end-session.ts";
import {
  createTestDeps,
  systemContext,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { createUser, loginWithPassword } from "../src/users/login.ts";
import { logout } from "../src/users/logout.ts";
import { failure, publish } from "./helpers.ts";

describe.each(testDrivers())("audit log on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext; // admin of @acme, maintains @acme/widget
  let bob: ServiceContext; // maintainer in @acme, maintains only his own package
  let carol: ServiceContext; // nobody in particular
  let root: ServiceContext; // platform admin
  let aliceCi: ServiceContext;
  let acmeId: string;

  const rows = (action: string) =>
    deps.db.select().from(auditEvents).where(eq(auditEvents.action, action));
  const at = (ctx: ServiceContext, ip: string) => ({ ...ctx, ip, requestId: `req-${ip}` });
  const userId = (ctx: ServiceContext) => (ctx.actor as { userId: string }).userId;
  const all = async (ctx: ServiceContext, filters: Record<string, string> = {}, limit = 7) => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await listAuditEvents(deps, ctx, { ...filters, limit, cursor });
      seen.push(...page.events.map((e) => e.id));
      if (!page.nextCursor) return seen;
      cursor = page.nextCursor;
    }
  };

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    carol = await tokenContext(deps, { user: "carol", role: "maintainer" });
    root = await tokenContext(deps, { user: "root", role: "admin", isAdmin: true });
    aliceCi = await tokenContext(deps, { user: "alice", role: "ci-readonly", kind: "ci" });
    acmeId = (await createOrg({ ctx: alice, input: { name: "acme" } })).id;
    await addOrgMember({ ctx: alice, input: { org: "acme", user: "bob", role: "maintainer" } });
    await publish(at(alice, "203.0.113.7"), "@acme/widget", ["1.0.0", "1.1.0"]);
    await publish(at(bob, "198.51.100.2"), "bobs-tool", ["0.1.0"]);
    await publish(carol, "carols-thing", ["1.0.0"]);
  });
  afterAll(async () => deps.close());

  describe("what is recorded", () => {
    it("answers who published, with which token, from where, in the package's org", async () => {
      const [first] = await rows("package.publish");
      expect(first).toMatchObject({
        actorName: "alice",
        ip: "203.0.113.7",
        orgId: acmeId,
        requestId: "req-203.0.113.7",
        data: { name: "@acme/widget", version: "1.0.0", tokenName: "test maintainer" },
      });
      expect((first?.data as { tokenId?: string } | undefined)?.tokenId).toMatch(/^tok_/);
    });

    it("records password sign-in, sign-out, and failed sign-ins bounded per address and name", async () => {
      const sys = systemContext(deps);
      const dan = await createUser(sys, {
        name: "dan",
        password: "correct horse",
        email: null,
        isAdmin: false,
      });
      const login = await loginWithPassword({
        ctx: at(sys, "192.0.2.1"),
        input: { name: "dan", password: "correct horse" },
      });
      const [signIn] = (await rows("auth.sign_in")).filter((r) => r.targetId === dan.id);
      expect(signIn).toMatchObject({
        actorName: "dan",
        ip: "192.0.2.1",
        data: { method: "password", via: "npm", tokenName: "npm login" },
      });
      // A storm of wrong passwords from one address: 5 refused as wrong, then refused as limited.
      for (let i = 0; i < 15; i++) {
        const err = await failure(
          loginWithPassword({
            ctx: at(sys, "192.0.2.66"),
            input: { name: "dan", password: "nope" },
          }),
        );
        expect(["UNAUTHORIZED", "RATE_LIMITED"]).toContain(err.code);
      }
      await failure(
        loginWithPassword({ ctx: at(sys, "192.0.2.67"), input: { name: "ghost", password: "x" } }),
      );
      const failed = await rows("auth.sign_in_failed");
      const danFailed = failed.filter((r) => r.targetId === dan.id);
      expect(danFailed).toHaveLength(1); // one row per address and name per minute
      expect(danFailed[0]).toMatchObject({ actorType: "anonymous", ip: "192.0.2.66" });
      expect(danFailed[0]?.data).toMatchObject({ name: "dan", reason: "bad_credentials" });
      const ghost = failed.find((r) => (r.data as { name: string }).name === "ghost");
      expect(ghost).toMatchObject({ targetId: null, data: { reason: "bad_credentials" } });
      // A minute later the next failure writes a row that counts the minute before.
      const later = {
        ...at(sys, "192.0.2.66"),
        // The registry's clock and this process's counters, an hour on.
        deps: {
          ...deps,
          now: () => new Date(Date.now() + 61 * 60_000),
          rateLimiter: new RateLimiter(() => Date.now() + 61 * 60_000),
        },
      };
      await failure(loginWithPassword({ ctx: later, input: { name: "dan", password: "nope" } }));
      const next = (await rows("auth.sign_in_failed")).filter((r) => r.targetId === dan.id);
      expect(next).toHaveLength(2);
      expect(next.map((r) => r.data)).toContainEqual(
        expect.objectContaining({ previous: expect.objectContaining({ attempts: 15 }) }),
      );
      // npm logout and dashboard sign-in/out.
      const danCtx = { ...sys, actor: await deps.tokens.verify(login.token) };
      await logout({ ctx: danCtx, input: { token: login.token } });
      const session = await createPasswordSession({
        ctx: sys,
        input: { name: "dan", password: "correct horse", ip: "192.0.2.9" },
      });
      const sessionActor = await authenticateSession(deps, session.session);
      await endSession({ ctx: { ...sys, actor: sessionActor } });
      const outs = (await rows("auth.sign_out")).filter((r) => r.targetId === dan.id);
      expect(outs.map((r) => (r.data as { via: string }).via).sort()).toEqual([
        "dashboard",
        "npm logout",
      ]);
      const ins = (await rows("auth.sign_in")).filter((r) => r.targetId === dan.id);
      expect(ins.map((r) => (r.data as { via: string }).via).sort()).toEqual(["dashboard", "npm"]);
    });
  });

  describe("who reads what", () => {
    it("gives a platform admin everything, newest first, in keyset pages without gaps", async () => {
      const total = await deps.db.select({ n: sql<number>`count(*)::int` }).from(auditEvents);
      const ids = await all(root);
      expect(ids).toHaveLength(total[0]?.n ?? -1);
      expect(new Set(ids).size).toBe(ids.length);
      const page = await listAuditEvents(deps, root, { limit: 5 });
      const times = page.events.map((e) => e.createdAt.getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });

    it("gives a person their own actions and events on packages they maintain, nothing else", async () => {
      const seen = await listAuditEvents(deps, carol, { limit: 500 });
      expect(seen.events.length).toBeGreaterThan(0);
      for (const e of seen.events) {
        expect(
          e.actor.name === "carol" || (e.data as { name?: string }).name === "carols-thing",
        ).toBe(true);
      }
      const bobs = await listAuditEvents(deps, bob, { action: "package.", limit: 500 });
      const names = new Set(bobs.events.map((e) => (e.data as { name: string }).name));
      expect(names).toEqual(new Set(["bobs-tool"]));
    });

    it("gives an org admin the org's events, and anyone else a 404 for the org", async () => {
      const acme = await listAuditEvents(deps, alice, { org: "acme", limit: 500 });
      expect(acme.events.map((e) => e.action)).toEqual(
        expect.arrayContaining(["org.created", "package.publish"]),
      );
      expect(acme.events.every((e) => e.org?.slug === "acme")).toBe(true);
      for (const ctx of [bob, carol]) {
        expect((await failure(listAuditEvents(deps, ctx, { org: "acme" }))).code).toBe("NOT_FOUND");
      }
      expect((await failure(listAuditEvents(deps, alice, { org: "nope" }))).code).toBe("NOT_FOUND");
      expect((await listAuditEvents(deps, root, { org: "acme", limit: 500 })).events).toHaveLength(
        acme.events.length,
      );
    });

    it("filters by actor, action prefix, package and time", async () => {
      const byBob = await listAuditEvents(deps, root, { actor: "bob", limit: 500 });
      expect(byBob.events.every((e) => e.actor.name === "bob")).toBe(true);
      const pkg = await listAuditEvents(deps, alice, {
        package: "@acme/widget",
        action: "package.publish",
      });
      expect(pkg.events.map((e) => (e.data as { version: string }).version)).toEqual([
        "1.1.0",
        "1.0.0",
      ]);
      const orgOnly = await listAuditEvents(deps, root, { action: "org", limit: 500 });
      expect(orgOnly.events.every((e) => e.action.startsWith("org."))).toBe(true);
      expect(orgOnly.events.length).toBeGreaterThan(0);
      const future = await listAuditEvents(deps, root, { since: "2999-01-01" });
      expect(future.events).toEqual([]);
      const past = await listAuditEvents(deps, root, { until: "2000-01-01T00:00:00Z" });
      expect(past.events).toEqual([]);
      expect((await failure(listAuditEvents(deps, carol, { package: "@acme/widget" }))).code).toBe(
        "NOT_FOUND",
      );
    });

    it("refuses malformed filters and cursors, CI tokens and anonymous callers", async () => {
      const bad = [
        { limit: 0 },
        { limit: 501 },
        { limit: "ten" },
        { since: "yesterday" },
        { since: "2026-02-01", until: "2026-01-01" },
        { action: "package.%" },
        { actor: "a b" },
        { org: "NOT A SLUG!" },
        { package: "../etc" },
        { cursor: "!!!" },
        { cursor: Buffer.from('["x","y"]').toString("base64url") },
      ];
      for (const f of bad) {
        expect((await failure(listAuditEvents(deps, root, f))).code, JSON.stringify(f)).toBe(
          "VALIDATION",
        );
      }
      expect((await failure(listAuditEvents(deps, aliceCi, {}))).code).toBe("FORBIDDEN");
      const anon = { ...root, actor: { type: "anonymous" as const } };
      expect((await failure(listAuditEvents(deps, anon, {}))).code).toBe("UNAUTHORIZED");
    });

    it("exports every matching event chunk by chunk", async () => {
      const chunks: number[] = [];
      const ids: string[] = [];
      for await (const chunk of await openAuditExport(root, {}, { chunk: 4 })) {
        chunks.push(chunk.length);
        ids.push(...chunk.map((e) => e.id));
      }
      expect(ids).toEqual(await all(root));
      expect(Math.max(...chunks)).toBe(4);
    });
  });

  describe("append-only", () => {
    it("refuses UPDATE, DELETE and TRUNCATE in the database", async () => {
      for (const stmt of [
        sql`update audit_events set action = 'x'`,
        sql`update audit_events set ip = null where action = 'package.publish'`,
        sql`delete from audit_events`,
        sql`truncate audit_events`,
      ]) {
        const err = await deps.db.execute(stmt).then(
          () => null,
          (e: Error & { cause?: Error }) => e,
        );
        expect(String(err?.cause?.message ?? err?.message)).toMatch(/append-only/);
      }
    });

    it("still deletes an org, and its history keeps the org's id", async () => {
      const x = await createOrg({ ctx: carol, input: { name: "shortlived" } });
      const session: ServiceContext = {
        ...carol,
        actor: {
          type: "session",
          sessionId: "ses_t",
          userId: userId(carol),
          userName: "carol",
          userEmail: null,
          isAdmin: false,
        },
      };
      await deleteOrg({ ctx: session, input: { org: "shortlived" } });
      expect(await deps.db.select().from(orgs).where(eq(orgs.id, x.id))).toEqual([]);
      const history = await deps.db.select().from(auditEvents).where(eq(auditEvents.orgId, x.id));
      expect(history.map((r) => r.action)).toEqual(
        expect.arrayContaining(["org.created", "org.deleted"]),
      );
    });
  });

  describe("hash chain", () => {
    it("chains each org's events and the platform's, and verifies them", async () => {
      await chainAllAuditEvents(deps);
      const report = await verifyAuditChain(deps, root, {});
      expect(report.ok).toBe(true);
      expect(report.chains.map((c) => c.chain)).toEqual(
        expect.arrayContaining(["platform", "@acme"]),
      );
      const acme = await verifyAuditChain(deps, alice, { org: "acme" });
      expect(acme).toMatchObject({ ok: true, chains: [{ chain: "@acme", broken: null }] });
      expect(acme.chains[0]?.checked).toBeGreaterThanOrEqual(3);
      expect((await failure(verifyAuditChain(deps, bob, { org: "acme" }))).code).toBe("NOT_FOUND");
      expect((await failure(verifyAuditChain(deps, bob, {}))).code).toBe("FORBIDDEN");
      // Chaining twice changes nothing.
      expect(await chainAllAuditEvents(deps)).toBe(0);
    });

    it("names the first broken link after a row is edited or deleted behind the trigger", async () => {
      const [victim] = await deps.db
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.orgId, acmeId))
        .orderBy(auditEvents.chainSeq)
        .offset(1)
        .limit(1);
      if (!victim) throw new Error("no event to tamper with");
      await deps.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
      try {
        await deps.db.execute(sql`update audit_events set ip = '6.6.6.6' where id = ${victim.id}`);
        const report = await verifyAuditChain(deps, alice, { org: "acme" });
        expect(report.ok).toBe(false);
        expect(report.chains[0]?.broken).toMatchObject({
          eventId: victim.id,
          chainSeq: victim.chainSeq,
          problem: "hash",
          found: victim.hash,
        });
        // Put it back, then delete it: the link after the gap breaks.
        await deps.db.execute(
          sql`update audit_events set ip = ${victim.ip} where id = ${victim.id}`,
        );
        expect((await verifyAuditChain(deps, alice, { org: "acme" })).ok).toBe(true);
        await deps.db.execute(sql`delete from audit_events where id = ${victim.id}`);
        const gap = await verifyAuditChain(deps, alice, { org: "acme" });
        expect(gap.chains[0]?.broken).toMatchObject({
          problem: "sequence",
          expected: String(victim.chainSeq),
          found: String((victim.chainSeq ?? 0) + 1),
        });
      } finally {
        await deps.db.execute(
          sql`alter table audit_events enable trigger audit_events_append_only`,
        );
      }
    });

    it("chains events committed later after the ones already chained", async () => {
      await publish(alice, "@acme/widget", ["2.0.0"]);
      const report = await verifyAuditChain(deps, root, {});
      const platform = report.chains.find((c) => c.chain === "platform");
      expect(platform).toMatchObject({ ok: true, unchained: 0 });
    });
  });
});
