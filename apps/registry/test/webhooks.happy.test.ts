/**
 * The webhook management routes as a client uses them: create (secret once), list, get, update,
 * delete for a user's own hooks and an org's, over the admin API with tokens.
 */
import { schema } from "@packr/core";
import { tokenContext } from "@packr/core/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client } from "./http.ts";

let reg: TestRegistry;
let alice: string; // admin of @acme
let root: string; // platform admin

const BASE = "/api/v1/admin/webhooks";
const PUBLIC = "https://93.184.216.34/hooks/packr";

type Hook = {
  id: string;
  url: string;
  events: string[];
  scope: string | null;
  active: boolean;
  owner: { type: string; name?: string; slug?: string };
  failingSince: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
};

beforeAll(async () => {
  // Loopback receivers over http, as the delivery tests use them.
  reg = await createTestRegistry({
    PACKR_WEBHOOK_ALLOW_HTTP: "true",
    PACKR_WEBHOOK_ALLOW_PRIVATE: "true",
  });
  const deps = reg.runtime.deps;
  alice = (await tokenContext(deps, { user: "alice", role: "maintainer" })).token;
  root = (await tokenContext(deps, { user: "root", role: "admin", isAdmin: true })).token;
  const res = await client(reg.app, alice).post("/api/v1/admin/orgs", { name: "acme" });
  expect(res.status).toBe(201);
});
afterAll(async () => reg.close());

describe("a user's own hooks", () => {
  it("creates, lists, gets, updates and deletes a hook; the secret is answered only once", async () => {
    const a = client(reg.app, alice);
    const created = await a.post(BASE, {
      url: PUBLIC,
      events: ["package.published", "package.deprecated"],
      scope: "@acme/ui-*",
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { webhook: Hook; secret: string };
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(body.webhook).toMatchObject({
      url: PUBLIC,
      events: ["package.published", "package.deprecated"],
      scope: "@acme/ui-*",
      active: true,
      owner: { type: "user", name: "alice" },
      failingSince: null,
      disabledAt: null,
      disabledReason: null,
    });
    expect(new Date(body.webhook.createdAt).toISOString()).toBe(body.webhook.createdAt);
    const id = body.webhook.id;

    const list = await a.get(BASE);
    expect(list.status).toBe(200);
    const listText = await list.text();
    expect(JSON.parse(listText)).toEqual({ webhooks: [body.webhook] });
    expect(listText).not.toContain(body.secret);

    const one = await a.get(`${BASE}/${id}`);
    expect(one.status).toBe(200);
    const oneText = await one.text();
    expect(JSON.parse(oneText)).toEqual({ webhook: body.webhook });
    expect(oneText).not.toContain("whsec_");

    const patched = await reg.app.request(`${BASE}/${id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
      body: JSON.stringify({ active: false, scope: null, events: ["token.created"] }),
    });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { webhook: Hook }).webhook).toMatchObject({
      id,
      active: false,
      scope: null,
      events: ["token.created"],
    });

    const del = await a.delete(`${BASE}/${id}`);
    expect(del.status).toBe(204);
    expect(await del.text()).toBe("");
    expect((await a.get(`${BASE}/${id}`)).status).toBe(404);
    expect(await (await a.get(BASE)).json()).toEqual({ webhooks: [] });

    const actions = (
      await reg.runtime.deps.db
        .select({ action: schema.auditEvents.action })
        .from(schema.auditEvents)
        .where(eq(schema.auditEvents.targetId, id))
    ).map((r) => r.action);
    expect(actions.sort()).toEqual(["webhook.create", "webhook.delete", "webhook.update"]);
  });

  it("keeps a caller's secret and accepts a loopback http receiver when the registry allows it", async () => {
    const a = client(reg.app, alice);
    const res = await a.post(BASE, {
      url: "http://127.0.0.1:4000/receiver",
      events: ["package.published"],
      secret: "my-own-secret-of-24-chars",
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { webhook: Hook; secret: string };
    expect(body.secret).toBe("my-own-secret-of-24-chars");
    expect(body.webhook.url).toBe("http://127.0.0.1:4000/receiver");
    expect((await a.delete(`${BASE}/${body.webhook.id}`)).status).toBe(204);
  });
});

describe("an org's hooks", () => {
  it("are created with orgSlug, listed with ?org=, and managed by org admins and platform admins", async () => {
    const a = client(reg.app, alice);
    const res = await a.post(BASE, {
      url: PUBLIC,
      events: ["org.member.added", "org.member.removed"],
      orgSlug: "@acme",
    });
    expect(res.status).toBe(201);
    const { webhook } = (await res.json()) as { webhook: Hook };
    expect(webhook.owner).toEqual({ type: "org", slug: "acme" });

    expect(await (await a.get(`${BASE}?org=acme`)).json()).toEqual({ webhooks: [webhook] });
    expect(await (await a.get(BASE)).json()).toEqual({ webhooks: [] });

    const r = client(reg.app, root);
    expect(await (await r.get(`${BASE}?org=acme`)).json()).toEqual({ webhooks: [webhook] });
    expect((await r.get(`${BASE}/${webhook.id}`)).status).toBe(200);
    expect((await r.delete(`${BASE}/${webhook.id}`)).status).toBe(204);
    expect(await (await a.get(`${BASE}?org=acme`)).json()).toEqual({ webhooks: [] });
  });
});

describe("the OpenAPI document", () => {
  it("describes the webhook routes", async () => {
    const doc = (await (await reg.app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths[BASE] ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths[`${BASE}/{id}`] ?? {}).sort()).toEqual(["delete", "get", "patch"]);
  });
});
