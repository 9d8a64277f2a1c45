/**
 * The org and team admin API end to end over HTTP, in the JSON shapes packr-cli and the dashboard
 * read, and the public list of an org's packages; every change leaves its audit row and its
 * outbox event.
 */

import { schema } from "@packr/core";
import { publishBody, tokenContext } from "@packr/core/testing";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client } from "./http.ts";

let reg: TestRegistry;
let alice: string; // creates @acme
let bob: string;
let internal: Record<string, string>;

const json = async (res: Response, status: number) => {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read deep in assertions
  return JSON.parse(body) as any;
};
const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);

beforeAll(async () => {
  // The session test signs a new person up through a provider.
  reg = await createTestRegistry({ PACKR_SIGNUP: "open" });
  alice = (await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" })).token;
  bob = (await tokenContext(reg.runtime.deps, { user: "bob", role: "maintainer" })).token;
  await tokenContext(reg.runtime.deps, { user: "carol", role: "maintainer" });
  internal = { authorization: `Bearer ${reg.runtime.secrets.internalApi}` };
});
afterAll(async () => reg.close());

/** The actions of the audit log and the types of the outbox events, oldest first. */
async function trail(): Promise<{ audits: string[]; events: string[] }> {
  const db = reg.runtime.deps.db;
  const audits = await db
    .select({ action: schema.auditEvents.action })
    .from(schema.auditEvents)
    .where(
      sql`${schema.auditEvents.action} like 'org.%' or ${schema.auditEvents.action} like 'team.%' or ${schema.auditEvents.action} like 'package.access.%'`,
    )
    .orderBy(schema.auditEvents.createdAt, schema.auditEvents.id);
  const events = await db
    .select({ payload: schema.outbox.payload })
    .from(schema.outbox)
    .where(eq(schema.outbox.topic, "event.deliver"))
    .orderBy(schema.outbox.id);
  return {
    audits: audits.map((a) => a.action),
    // The same kinds as the audit actions above (package and token verbs emit their own events).
    events: events
      .map((e) => String((e.payload as { type: string }).type))
      .filter((t) => /^(org|team)\.|^package\.access\./.test(t)),
  };
}

describe("org admin API", () => {
  it("creates an org and lists it for its admin", async () => {
    const created = await json(
      await client(reg.app, alice).post("/api/v1/admin/orgs", {
        name: "acme",
        displayName: "Acme Inc.",
      }),
      201,
    );
    expect(created).toEqual({
      org: {
        id: expect.stringMatching(/^org_/),
        name: "acme",
        displayName: "Acme Inc.",
        createdAt: ISO,
        role: "admin",
      },
    });
    for (const path of ["/api/v1/admin/orgs", "/api/v1/admin/users/me/orgs"]) {
      expect(await json(await client(reg.app, alice).get(path), 200)).toEqual({
        orgs: [created.org],
      });
      expect(await json(await client(reg.app, bob).get(path), 200)).toEqual({ orgs: [] });
    }
    // A platform admin sees every org, with a null role where not a member.
    const root = await reg.login("admin", "admin-password-1");
    expect(await json(await client(reg.app, root).get("/api/v1/admin/orgs"), 200)).toEqual({
      orgs: [{ ...created.org, role: null }],
    });
    expect(await json(await client(reg.app, root).get("/api/v1/admin/users/me/orgs"), 200)).toEqual(
      { orgs: [] },
    );
  });

  it("shows, renames and counts the org", async () => {
    const a = client(reg.app, alice);
    expect(await json(await a.get("/api/v1/admin/orgs/acme"), 200)).toEqual({
      org: {
        id: expect.stringMatching(/^org_/),
        name: "acme",
        displayName: "Acme Inc.",
        createdAt: ISO,
        role: "admin",
        memberCount: 1,
        teamCount: 0,
        packageCount: 0,
      },
    });
    const patched = await json(
      await reg.app.request("/api/v1/admin/orgs/acme", {
        method: "PATCH",
        headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
        body: JSON.stringify({ displayName: "ACME Corp" }),
      }),
      200,
    );
    expect(patched.org).toMatchObject({ name: "acme", displayName: "ACME Corp", role: "admin" });
  });

  it("manages members and their roles", async () => {
    const a = client(reg.app, alice);
    expect(
      await json(
        await a.post("/api/v1/admin/orgs/acme/members", { user: "bob", role: "reader" }),
        201,
      ),
    ).toEqual({ member: { user: "bob", role: "reader", addedAt: ISO } });
    await json(
      await a.post("/api/v1/admin/orgs/acme/members", { user: "carol", role: "maintainer" }),
      201,
    );
    const patched = await json(
      await reg.app.request("/api/v1/admin/orgs/acme/members/bob", {
        method: "PATCH",
        headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
        body: JSON.stringify({ role: "maintainer" }),
      }),
      200,
    );
    expect(patched).toEqual({ member: { user: "bob", role: "maintainer", addedAt: ISO } });
    expect(
      await json(await client(reg.app, bob).get("/api/v1/admin/orgs/acme/members"), 200),
    ).toEqual({
      members: [
        { user: "alice", role: "admin", addedAt: ISO },
        { user: "bob", role: "maintainer", addedAt: ISO },
        { user: "carol", role: "maintainer", addedAt: ISO },
      ],
    });
    expect(await json(await a.delete("/api/v1/admin/orgs/acme/members/carol"), 200)).toEqual({
      ok: true,
    });
    expect((await json(await a.get("/api/v1/admin/orgs/acme"), 200)).org.memberCount).toBe(2);
  });

  it("manages teams, their members and their package grants", async () => {
    const a = client(reg.app, alice);
    const pub = await a.put("/@acme%2fui", publishBody("@acme/ui", "1.0.0"));
    expect(pub.status).toBe(201);
    expect(
      await json(
        await a.post("/api/v1/admin/orgs/acme/teams", { name: "frontend", description: "UI" }),
        201,
      ),
    ).toEqual({
      team: {
        name: "frontend",
        description: "UI",
        memberCount: 0,
        packageCount: 0,
        createdAt: ISO,
      },
    });
    await json(await a.post("/api/v1/admin/orgs/acme/teams", { name: "ops" }), 201);
    expect(
      await json(
        await a.post("/api/v1/admin/orgs/acme/teams/frontend/members", { user: "bob" }),
        201,
      ),
    ).toEqual({ member: { user: "bob", addedAt: ISO } });
    expect(
      await json(
        await a.put("/api/v1/admin/orgs/acme/teams/frontend/packages/%40acme%2Fui", {
          permission: "read-write",
        }),
        200,
      ),
    ).toEqual({ package: { name: "@acme/ui", permission: "read-write" } });

    const b = client(reg.app, bob);
    expect(await json(await b.get("/api/v1/admin/orgs/acme/teams"), 200)).toEqual({
      teams: [
        { name: "frontend", description: "UI", memberCount: 1, packageCount: 1, createdAt: ISO },
        { name: "ops", description: null, memberCount: 0, packageCount: 0, createdAt: ISO },
      ],
    });
    expect(await json(await b.get("/api/v1/admin/orgs/acme/teams/frontend/members"), 200)).toEqual({
      members: [{ user: "bob", addedAt: ISO }],
    });
    expect(await json(await b.get("/api/v1/admin/orgs/acme/teams/frontend/packages"), 200)).toEqual(
      {
        packages: [{ name: "@acme/ui", permission: "read-write" }],
      },
    );

    expect(
      await json(
        await a.delete("/api/v1/admin/orgs/acme/teams/frontend/packages/%40acme%2Fui"),
        200,
      ),
    ).toEqual({ ok: true });
    expect(
      await json(await a.delete("/api/v1/admin/orgs/acme/teams/frontend/members/bob"), 200),
    ).toEqual({ ok: true });
    expect(await json(await a.delete("/api/v1/admin/orgs/acme/teams/ops"), 200)).toEqual({
      ok: true,
    });
    expect((await json(await b.get("/api/v1/admin/orgs/acme/teams"), 200)).teams).toEqual([
      { name: "frontend", description: "UI", memberCount: 0, packageCount: 0, createdAt: ISO },
    ]);
  });

  it("lists an org's packages: public ones for anyone, restricted ones for members", async () => {
    const a = client(reg.app, alice);
    expect(
      (await a.put("/@acme%2fkit", publishBody("@acme/kit", "2.0.0", { access: "public" }))).status,
    ).toBe(201);
    const anon = await json(await client(reg.app).get("/api/v1/orgs/acme/packages"), 200);
    expect(anon).toEqual({
      org: { name: "acme", displayName: "ACME Corp" },
      packages: [
        {
          name: "@acme/kit",
          description: "@acme/kit for tests",
          access: "public",
          latest: "2.0.0",
          modifiedAt: ISO,
        },
      ],
    });
    const carol = (await tokenContext(reg.runtime.deps, { user: "carol", role: "maintainer" }))
      .token;
    expect(
      (await json(await client(reg.app, carol).get("/api/v1/orgs/acme/packages"), 200)).packages,
    ).toHaveLength(1);
    const member = await json(await client(reg.app, bob).get("/api/v1/orgs/@acme/packages"), 200);
    expect(
      member.packages.map((p: { name: string; access: string }) => [p.name, p.access]),
    ).toEqual([
      ["@acme/kit", "public"],
      ["@acme/ui", "restricted"],
    ]);
  });

  it("accepts a dashboard session (internal secret + X-Packr-Session)", async () => {
    const res = await client(reg.app).post(
      "/api/v1/admin/sessions",
      { provider: "github", subject: "gh-77", email: null, emailVerified: false, name: "dana" },
      internal,
    );
    const { session, user } = await json(res, 201);
    const headers = { ...internal, "x-packr-session": session };
    const created = await json(
      await client(reg.app).post("/api/v1/admin/orgs", { name: `team-${user.name}` }, headers),
      201,
    );
    expect(created.org.role).toBe("admin");
    expect(
      (await json(await client(reg.app).get("/api/v1/admin/users/me/orgs", headers), 200)).orgs,
    ).toEqual([created.org]);
    expect(
      await json(
        await client(reg.app).delete(`/api/v1/admin/orgs/${created.org.name}`, headers),
        200,
      ),
    ).toEqual({ ok: true });
  });

  it("deletes an org once it owns no packages, and recorded every change", async () => {
    const a = client(reg.app, alice);
    await json(await a.post("/api/v1/admin/orgs", { name: "shortlived" }), 201);
    expect(await json(await a.delete("/api/v1/admin/orgs/shortlived"), 200)).toEqual({ ok: true });
    expect(
      (await json(await a.get("/api/v1/admin/orgs"), 200)).orgs.map(
        (o: { name: string }) => o.name,
      ),
    ).toEqual(["acme"]);
    const { audits, events } = await trail();
    const expected = [
      "org.created", // acme
      "org.updated",
      "org.member.added",
      "org.member.added",
      "org.member.role_changed",
      "org.member.removed",
      "team.created",
      "team.created",
      "team.member.added",
      "package.access.granted",
      "package.access.revoked",
      "team.member.removed",
      "team.deleted",
      "org.created", // the session's org
      "org.deleted",
      "org.created", // shortlived
      "org.deleted",
    ];
    expect(audits).toEqual(expected);
    expect(events).toEqual(expected);
  });
});

describe("OpenAPI", () => {
  it("describes every org route", async () => {
    const doc = await json(await client(reg.app).get("/openapi.json"), 200);
    const paths = Object.keys(doc.paths);
    for (const p of [
      "/api/v1/admin/orgs",
      "/api/v1/admin/users/me/orgs",
      "/api/v1/admin/orgs/{slug}",
      "/api/v1/admin/orgs/{slug}/members",
      "/api/v1/admin/orgs/{slug}/members/{user}",
      "/api/v1/admin/orgs/{slug}/teams",
      "/api/v1/admin/orgs/{slug}/teams/{team}",
      "/api/v1/admin/orgs/{slug}/teams/{team}/members",
      "/api/v1/admin/orgs/{slug}/teams/{team}/members/{user}",
      "/api/v1/admin/orgs/{slug}/teams/{team}/packages",
      "/api/v1/admin/orgs/{slug}/teams/{team}/packages/{package}",
      "/api/v1/orgs/{slug}/packages",
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(Object.keys(doc.paths["/api/v1/admin/orgs/{slug}"])).toEqual(
      expect.arrayContaining(["get", "patch", "delete"]),
    );
    expect(doc.components.schemas.OrgDetail).toBeDefined();
  });
});
