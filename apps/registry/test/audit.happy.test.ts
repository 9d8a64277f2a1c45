/**
 * The audit API as its callers use it: a page of events with filters and a cursor to follow, the
 * NDJSON export streamed chunk by chunk, and the chain verification report.
 */
import { schema } from "@packr/core";
import { publishBody, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client } from "./http.ts";

let reg: TestRegistry;
let alice: string; // admin of @acme
let root: string; // platform admin

type Event = {
  id: string;
  action: string;
  actor: { name: string | null };
  data: Record<string, unknown>;
  ip: string | null;
  org: { slug: string | null } | null;
};
type Page = { events: Event[]; nextCursor: string | null };

beforeAll(async () => {
  reg = await createTestRegistry();
  const deps = reg.runtime.deps;
  alice = (await tokenContext(deps, { user: "alice", role: "maintainer" })).token;
  root = (await tokenContext(deps, { user: "root", role: "admin", isAdmin: true })).token;
  const a = client(reg.app, alice);
  expect((await a.post("/api/v1/admin/orgs", { name: "acme" })).status).toBe(201);
  for (const v of ["1.0.0", "1.1.0", "1.2.0"]) {
    const res = await a.put("/@acme%2fwidget", publishBody("@acme/widget", v), {
      "x-forwarded-for": "203.0.113.9",
    });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => reg.close());

describe("GET /api/v1/admin/audit", () => {
  it("answers who published, with which token and from where, newest first", async () => {
    const res = await client(reg.app, alice).get(
      "/api/v1/admin/audit?package=%40acme%2Fwidget&action=package.publish",
    );
    expect(res.status).toBe(200);
    const page = (await res.json()) as Page;
    expect(page.events.map((e) => e.data.version)).toEqual(["1.2.0", "1.1.0", "1.0.0"]);
    expect(page.events[0]).toMatchObject({
      actor: { name: "alice" },
      org: { slug: "acme" },
      data: { tokenName: "test maintainer" },
    });
    expect(page.nextCursor).toBeNull();
  });

  it("follows the cursor through every page without repeats", async () => {
    const r = client(reg.app, root);
    const seen: string[] = [];
    let url = "/api/v1/admin/audit?limit=2";
    for (let i = 0; i < 50; i++) {
      const page = (await (await r.get(url)).json()) as Page;
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events.map((e) => e.id));
      if (!page.nextCursor) break;
      url = `/api/v1/admin/audit?limit=2&cursor=${page.nextCursor}`;
    }
    const all = (await (await r.get("/api/v1/admin/audit?limit=500")).json()) as Page;
    expect(seen).toEqual(all.events.map((e) => e.id));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("filters an org by slug for its admin, and actions by prefix", async () => {
    const page = (await (
      await client(reg.app, alice).get("/api/v1/admin/audit?org=acme&action=org.")
    ).json()) as Page;
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events.every((e) => e.action.startsWith("org.") && e.org?.slug === "acme")).toBe(
      true,
    );
  });
});

describe("GET /api/v1/admin/audit/export", () => {
  it("streams every matching event as NDJSON, one database chunk at a time", async () => {
    // 2,500 extra events: the export reads them in pages of 1,000.
    const rows = Array.from({ length: 2500 }, (_, i) => ({
      id: `evt_bulk${String(i).padStart(5, "0")}`,
      actorType: "system",
      actorName: "bulk",
      action: "test.bulk",
      data: { i },
      createdAt: new Date(Date.UTC(2020, 0, 1, 0, 0, 0, i)),
    }));
    for (let i = 0; i < rows.length; i += 500) {
      await reg.runtime.deps.db.insert(schema.auditEvents).values(rows.slice(i, i + 500));
    }
    const res = await client(reg.app, root).get("/api/v1/admin/audit/export?action=test.bulk");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/x-ndjson/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      text += decoder.decode(value, { stream: true });
    }
    const lines = text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Event);
    expect(lines).toHaveLength(2500);
    expect(lines[0]?.data.i).toBe(2499); // newest first
    expect(lines[2499]?.data.i).toBe(0);
    expect(chunks).toBeGreaterThanOrEqual(3);
  });
});

describe("GET /api/v1/admin/audit/verify", () => {
  it("reports every chain intact for a platform admin, and the org's for its admin", async () => {
    const all = await client(reg.app, root).get("/api/v1/admin/audit/verify");
    expect(all.status).toBe(200);
    const report = (await all.json()) as {
      ok: boolean;
      chains: { chain: string; ok: boolean; unchained: number }[];
    };
    expect(report.ok).toBe(true);
    expect(report.chains.every((c) => c.unchained === 0)).toBe(true);
    const org = await client(reg.app, alice).get("/api/v1/admin/audit/verify?org=acme");
    expect(await org.json()).toMatchObject({ ok: true, chains: [{ chain: "@acme", ok: true }] });
  });
});
