/**
 * What the audit routes refuse: no credential, a revoked or forged token, CI tokens, another
 * org's events and packages (404, never revealing that the org exists), malformed filters and
 * cursors (400), and the platform-wide verify for anyone but a platform admin.
 */

import { publishBody, tokenContext } from "@packr/core/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

let reg: TestRegistry;
let alice: string; // admin of @acme
let bob: string; // maintainer in @acme, admin of @bobco
let carol: string; // no org
let aliceCi: string;

const ROUTES = [
  "/api/v1/admin/audit",
  "/api/v1/admin/audit/export",
  "/api/v1/admin/audit/verify?org=acme",
];

beforeAll(async () => {
  reg = await createTestRegistry();
  const deps = reg.runtime.deps;
  alice = (await tokenContext(deps, { user: "alice", role: "maintainer" })).token;
  bob = (await tokenContext(deps, { user: "bob", role: "maintainer" })).token;
  carol = (await tokenContext(deps, { user: "carol", role: "maintainer" })).token;
  aliceCi = (await tokenContext(deps, { user: "alice", role: "ci-readonly", kind: "ci" })).token;
  const a = client(reg.app, alice);
  expect((await a.post("/api/v1/admin/orgs", { name: "acme" })).status).toBe(201);
  expect(
    (await a.post("/api/v1/admin/orgs/acme/members", { user: "bob", role: "maintainer" })).status,
  ).toBe(201);
  expect((await client(reg.app, bob).post("/api/v1/admin/orgs", { name: "bobco" })).status).toBe(
    201,
  );
  expect((await a.put("/@acme%2fsecret", publishBody("@acme/secret", "1.0.0"))).status).toBe(201);
});
afterAll(async () => reg.close());

describe("who may read the audit log", () => {
  it("refuses every route without a credential or with a forged or revoked token", async () => {
    const revoked = (await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" }))
      .token;
    const { jti } = JSON.parse(Buffer.from(revoked.split(".")[1] ?? "", "base64url").toString());
    expect((await client(reg.app, revoked).delete(`/api/v1/admin/tokens/${jti}`)).status).toBe(204);
    for (const path of ROUTES) {
      await expectError(await client(reg.app).get(path), 401, "UNAUTHORIZED");
      await expectError(await client(reg.app, revoked).get(path), 401, "TOKEN_REVOKED");
      expect((await client(reg.app, "a.b.c").get(path)).status).toBe(401);
    }
  });

  it("refuses CI (read-only) tokens, even an org admin's", async () => {
    for (const path of ROUTES) {
      await expectError(await client(reg.app, aliceCi).get(path), 403, "FORBIDDEN");
    }
  });

  it("answers 404 for an org the caller does not administer, exactly as for a missing one", async () => {
    const asked = [
      [bob, "acme"], // a maintainer of it, not an admin
      [carol, "acme"], // a stranger
      [alice, "bobco"], // another org's admin
      [alice, "does-not-exist"],
    ] as const;
    const sentences = new Set<string>();
    for (const [token, org] of asked) {
      for (const path of [
        `/api/v1/admin/audit?org=${org}`,
        `/api/v1/admin/audit/export?org=${org}`,
        `/api/v1/admin/audit/verify?org=${org}`,
      ]) {
        const body = await expectError(await client(reg.app, token).get(path), 404, "NOT_FOUND");
        sentences.add(body.error.replace(org, "ORG"));
      }
    }
    // One sentence per route, whatever the reason: nothing tells a stranger the org exists.
    expect(sentences.size).toBeLessThanOrEqual(3);
    await expectError(
      await client(reg.app, carol).get("/api/v1/admin/audit?package=%40acme%2Fsecret"),
      404,
      "NOT_FOUND",
    );
    await expectError(
      await client(reg.app, alice).get("/api/v1/admin/audit/verify"),
      403,
      "FORBIDDEN",
    );
  });

  it("shows a stranger none of the org's events", async () => {
    const page = (await (
      await client(reg.app, carol).get("/api/v1/admin/audit?limit=500")
    ).json()) as {
      events: { actor: { name: string | null }; org: unknown }[];
    };
    expect(page.events.every((e) => e.actor.name === "carol" && e.org === null)).toBe(true);
  });

  it("refuses malformed filters and cursors with 400 VALIDATION", async () => {
    const bad = [
      "limit=0",
      "limit=501",
      "limit=-1",
      "limit=1e3",
      "since=not-a-date",
      "until=2026-13-45",
      "since=2026-02-01&until=2026-01-01",
      "action=package.%25",
      "action=%27%3B%20drop%20table",
      "actor=a%20b",
      "org=..%2F..",
      "package=%00",
      "cursor=%21%21",
      `cursor=${Buffer.from('["2026-01-01","evt_x"]x').toString("base64url")}`,
      `cursor=${"A".repeat(300)}`,
    ];
    for (const q of bad) {
      for (const path of ["/api/v1/admin/audit", "/api/v1/admin/audit/export"]) {
        if (path.endsWith("export") && (q.startsWith("limit") || q.startsWith("cursor"))) continue;
        const res = await client(reg.app, alice).get(`${path}?${q}`);
        expect(res.status, `${path}?${q}`).toBe(400);
        expect(((await res.json()) as { code: string }).code).toBe("VALIDATION");
      }
    }
  });

  it("has no route that changes or deletes an event, and the database refuses it", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const res = await reg.app.request("/api/v1/admin/audit", {
        method,
        headers: { authorization: `Bearer ${alice}` },
      });
      expect(res.status, method).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    await expect(reg.runtime.deps.db.execute(sql`delete from audit_events`)).rejects.toThrow();
  });
});
