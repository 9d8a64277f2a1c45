import { createOrg, schema } from "@packr/core";
import { publishBody, tokenContext } from "@packr/core/testing";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client } from "./http.ts";

/** npm sends its revokes and removals as DELETEs with a JSON body. */
export const deleteWithBody = (reg: TestRegistry, path: string, token: string, body: unknown) =>
  reg.app.request(path, {
    method: "DELETE",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("npm org, team and access grant endpoints: the requests npm 11 sends, the answers it reads", () => {
  let reg: TestRegistry;
  let alice: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    const deps = reg.runtime.deps;
    const aliceCtx = await tokenContext(deps, { user: "alice", role: "maintainer" });
    alice = aliceCtx.token;
    for (const user of ["bob", "carol", "dave"])
      await tokenContext(deps, { user, role: "maintainer" });
    await createOrg({ ctx: aliceCtx, input: { name: "acme" } });
    const api = client(reg.app, alice);
    for (const name of ["@acme/widget", "@acme/gadget"]) {
      const res = await api.put(`/${name.replace("/", "%2f")}`, publishBody(name, "1.0.0"));
      expect(res.status, await res.text()).toBe(201);
    }
  });
  afterAll(async () => reg.close());

  const json = async (res: Response, status = 200) => {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    return JSON.parse(text) as unknown;
  };

  it("npm org set / ls / rm: PUT, GET and DELETE /-/org/<org>/user", async () => {
    const api = client(reg.app, alice);
    expect(await json(await api.get("/-/org/acme/user"))).toEqual({ alice: "admin" });
    // npm's roles onto Packr's; developer is npm's default; Packr's own names pass too.
    for (const [role, packr] of [
      [undefined, "maintainer"],
      ["owner", "admin"],
      ["admin", "admin"],
      ["developer", "maintainer"],
      ["reader", "reader"],
      ["maintainer", "maintainer"],
    ] as const) {
      const body = role ? { user: "bob", role } : { user: "bob" };
      expect(await json(await api.put("/-/org/acme/user", body))).toEqual({
        org: { name: "acme", size: 2 },
        user: "bob",
        role: packr,
      });
    }
    expect(
      await json(await api.put("/-/org/@acme/user", { user: "carol", role: "reader" })),
    ).toEqual({ org: { name: "acme", size: 3 }, user: "carol", role: "reader" });
    expect(await json(await api.get("/-/org/acme/user"))).toEqual({
      alice: "admin",
      bob: "maintainer",
      carol: "reader",
    });
    expect((await deleteWithBody(reg, "/-/org/acme/user", alice, { user: "carol" })).status).toBe(
      200,
    );
    expect(await json(await api.get("/-/org/acme/user"))).toEqual({
      alice: "admin",
      bob: "maintainer",
    });
    const audit = await reg.runtime.deps.db
      .select({ action: schema.auditEvents.action })
      .from(schema.auditEvents);
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(["org.member.added", "org.member.role_changed", "org.member.removed"]),
    );
  });

  it("npm team create / ls / destroy and team add / ls / rm", async () => {
    const api = client(reg.app, alice);
    // npm sends its `description` setting, a boolean unless someone set it to text.
    expect(
      await json(await api.put("/-/org/acme/team", { name: "frontend", description: true }), 201),
    ).toMatchObject({ name: "acme:frontend", description: null });
    expect(
      await json(await api.put("/-/org/acme/team", { name: "backend", description: "APIs" }), 201),
    ).toMatchObject({ name: "acme:backend", description: "APIs" });
    expect(await json(await api.get("/-/org/acme/team?format=cli"))).toEqual([
      "acme:backend",
      "acme:frontend",
    ]);
    expect(
      await json(await api.put("/-/team/acme/frontend/user", { user: "bob" }), 201),
    ).toMatchObject({ user: "bob" });
    expect(await json(await api.get("/-/team/acme/frontend/user?format=cli"))).toEqual(["bob"]);
    expect(
      (await deleteWithBody(reg, "/-/team/acme/frontend/user", alice, { user: "bob" })).status,
    ).toBe(200);
    expect(await json(await api.get("/-/team/acme/frontend/user"))).toEqual([]);
    expect((await api.delete("/-/team/acme/backend")).status).toBe(200);
    expect(await json(await api.get("/-/org/acme/team"))).toEqual(["acme:frontend"]);
  });

  it("npm access grant / revoke / list packages <org:team>, and collaborators reflect teams and org roles", async () => {
    const api = client(reg.app, alice);
    await json(await api.put("/-/org/acme/user", { user: "dave", role: "reader" }));
    await json(await api.put("/-/team/acme/frontend/user", { user: "dave" }), 201);
    const grant = (pkg: string, permissions: string) =>
      api.put("/-/team/acme/frontend/package", { package: pkg, permissions });
    await json(await grant("@acme/widget", "read-only"), 201);
    await json(await grant("@acme/gadget", "read-write"), 201);
    expect(await json(await api.get("/-/team/acme/frontend/package?format=cli"))).toEqual({
      "@acme/gadget": "write",
      "@acme/widget": "read",
    });
    // Org admins and maintainers write every package of the scope; a reader reads, unless a
    // team grant raises him on one package.
    expect(await json(await api.get("/-/package/@acme%2fgadget/collaborators"))).toEqual({
      alice: "write",
      bob: "write",
      dave: "write",
    });
    expect(await json(await api.get("/-/package/@acme%2fwidget/collaborators"))).toEqual({
      alice: "write",
      bob: "write",
      dave: "read",
    });
    expect(await json(await api.get("/-/package/@acme%2fwidget/collaborators?user=dave"))).toEqual({
      dave: "read",
    });
    expect(
      (
        await deleteWithBody(reg, "/-/team/acme/frontend/package", alice, {
          package: "@acme/gadget",
        })
      ).status,
    ).toBe(200);
    expect(await json(await api.get("/-/team/acme/frontend/package"))).toEqual({
      "@acme/widget": "read",
    });
    expect(await json(await api.get("/-/package/@acme%2fgadget/collaborators?user=dave"))).toEqual({
      dave: "read",
    });
    const [org] = await reg.runtime.deps.db
      .select({ id: schema.orgs.id })
      .from(schema.orgs)
      .where(eq(schema.orgs.name, "acme"));
    const audit = await reg.runtime.deps.db
      .select({ action: schema.auditEvents.action })
      .from(schema.auditEvents)
      .where(
        and(
          eq(schema.auditEvents.orgId, org?.id ?? ""),
          eq(schema.auditEvents.action, "package.access.revoked"),
        ),
      );
    expect(audit).toHaveLength(1);
  });
});
