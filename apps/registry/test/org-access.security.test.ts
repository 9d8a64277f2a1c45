import {
  createScratchDatabase,
  publishBody,
  removeFromOrg,
  setOrgRole,
  tokenContext,
} from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

/*
 * The access model over HTTP: who reads a restricted org package (everyone else: the 404 of a
 * package that does not exist, on every read route), who publishes into an org's scope, scope
 * claims, and tokens acting with their creator's current org role.
 */

const path = (name: string) => `/${name.replace("/", "%2f")}`;

describe("org access over HTTP", () => {
  let reg: TestRegistry;
  let alice: string; // acme's admin (her first publish claimed @acme)
  let rita: string; // a reader in acme
  let ritaCi: string; // rita's CI read token
  let fresh: string; // a brand-new account's login token
  let bob: string; // in no org
  let bobCi: string; // bob's CI publish token

  beforeAll(async () => {
    reg = await createTestRegistry();
    const deps = reg.runtime.deps;
    alice = (await tokenContext(deps, { user: "alice", role: "maintainer" })).token;
    rita = (await tokenContext(deps, { user: "rita", role: "maintainer" })).token;
    ritaCi = (await tokenContext(deps, { user: "rita", role: "ci-readonly", kind: "ci" })).token;
    fresh = (await tokenContext(deps, { user: "fresh", role: "maintainer", kind: "login" })).token;
    bob = (await tokenContext(deps, { user: "bob", role: "maintainer" })).token;
    bobCi = (await tokenContext(deps, { user: "bob", role: "ci-publish", kind: "ci" })).token;
    for (const name of ["@acme/secret", "@acme/other"]) {
      const res = await client(reg.app, alice).put(path(name), publishBody(name, "1.0.0"));
      expect(res.status).toBe(201);
    }
    await setOrgRole(deps, { org: "acme", user: "rita", role: "reader" });
    await reg.runJobs();
  });
  afterAll(async () => reg.close());

  it("a fresh identity gets the 404 of a missing package on every read route; readers read", async () => {
    const reads = [
      path("@acme/secret"),
      `${path("@acme/secret")}/1.0.0`,
      "/@acme/secret/-/secret-1.0.0.tgz",
      "/-/package/@acme%2fsecret/dist-tags",
      "/-/package/@acme%2fsecret/visibility",
      "/-/package/@acme%2fsecret/collaborators",
      "/-/downloads/point/last-week/@acme%2fsecret",
      "/agent/@acme%2fsecret",
      "/agent/@acme%2fsecret/deps",
    ];
    for (const url of reads) {
      const missing = url.replace(/secret/g, "nothing");
      const hidden = await expectError(await client(reg.app, fresh).get(url), 404, "NOT_FOUND");
      const absent = await expectError(await client(reg.app, fresh).get(missing), 404, "NOT_FOUND");
      expect(hidden.error.replace(/secret/g, "nothing"), url).toBe(absent.error);
      for (const token of [alice, rita, ritaCi]) {
        expect((await client(reg.app, token).get(url)).status, url).toBe(200);
      }
      // Anonymous callers keep their 401, which npm turns into "log in".
      expect((await client(reg.app).get(url)).status, url).toBe(401);
    }
    const search = async (token: string) =>
      (
        (await (await client(reg.app, token).get("/-/v1/search?text=scope:acme")).json()) as {
          objects: Array<{ package: { name: string } }>;
        }
      ).objects.map((o) => o.package.name);
    expect(await search(fresh)).toEqual([]);
    expect((await search(ritaCi)).sort()).toEqual(["@acme/other", "@acme/secret"]);
    const listed = await client(reg.app, fresh).get("/-/org/acme/package");
    expect(await listed.json()).toEqual({});
  });

  it("refuses a non-member's and a reader's publish into the org's scope, naming the org and the role needed", async () => {
    const stranger = await expectError(
      await client(reg.app, bob).put(path("@acme/bobs"), publishBody("@acme/bobs", "1.0.0")),
      403,
      "FORBIDDEN",
    );
    expect(stranger.error).toBe(
      "bob is not a member of @acme; publishing needs maintainer or admin — ask an admin of acme to add you.",
    );
    const reader = await expectError(
      await client(reg.app, rita).put(path("@acme/ritas"), publishBody("@acme/ritas", "1.0.0")),
      403,
      "FORBIDDEN",
    );
    expect(reader.error).toBe(
      "rita is a reader in @acme; publishing needs maintainer or admin — ask an admin of acme.",
    );
    await expectError(
      await client(reg.app, rita).put(path("@acme/secret"), publishBody("@acme/secret", "1.0.1")),
      403,
      "FORBIDDEN",
    );
    await expectError(
      await client(reg.app, bob).put("/-/package/@acme%2fsecret/dist-tags/beta", '"1.0.0"'),
      404,
      "NOT_FOUND",
    );
  });

  it("a second user's new package in a claimed scope, and in someone's own scope, is a 403 naming the owner", async () => {
    const mine = await client(reg.app, bob).put(
      path("@bob/tool"),
      publishBody("@bob/tool", "1.0.0"),
    );
    expect(mine.status).toBe(201);
    const theirs = await expectError(
      await client(reg.app, alice).put(path("@bob/alices"), publishBody("@bob/alices", "1.0.0")),
      403,
      "FORBIDDEN",
    );
    expect(theirs.error).toMatch(/^@bob belongs to the user bob/);
    // A scope nobody owns is claimed by its first publish (PACKR_SCOPE_CLAIM=first-publish)...
    expect(
      (await client(reg.app, bobCi).put(path("@bobco/a"), publishBody("@bobco/a", "1.0.0"))).status,
    ).toBe(201);
    // ...and then it is that org's.
    const claimed = await expectError(
      await client(reg.app, alice).put(path("@bobco/b"), publishBody("@bobco/b", "1.0.0")),
      403,
      "FORBIDDEN",
    );
    expect(claimed.error).toBe(
      "alice is not a member of @bobco; publishing needs maintainer or admin — ask an admin of bobco to add you.",
    );
  });

  it("a CI token cannot make a package public; a ci-readonly token manages nothing", async () => {
    const aliceCi = (
      await tokenContext(reg.runtime.deps, { user: "alice", role: "ci-publish", kind: "ci" })
    ).token;
    const res = await client(reg.app, aliceCi).post("/-/package/@acme%2fsecret/access", {
      access: "public",
    });
    const body = await expectError(res, 403, "FORBIDDEN");
    expect(body.error).toMatch(/^A ci-publish token cannot change the access of @acme\/secret/);
    expect((await client(reg.app).get(path("@acme/secret"))).status).toBe(401);
    for (const attempt of [
      client(reg.app, ritaCi).post("/-/package/@acme%2fsecret/access", { access: "public" }),
      client(reg.app, ritaCi).put("/-/package/@acme%2fsecret/dist-tags/x", '"1.0.0"'),
      client(reg.app, ritaCi).put(path("@acme/secret"), publishBody("@acme/secret", "2.0.0")),
    ]) {
      await expectError(await attempt, 403, "FORBIDDEN");
    }
    // The org's admin, with her own token, may.
    const ok = await client(reg.app, alice).post("/-/package/@acme%2fother/access", {
      access: "public",
    });
    expect(ok.status).toBe(200);
    expect((await client(reg.app).get(path("@acme/other"))).status).toBe(200);
  });
});

// Two registry instances on one PostgreSQL database, as in the scale-out deployment.
describe.runIf(process.env.DATABASE_URL)("org access across registry instances", () => {
  it("a removed member's tokens, CI included, lose read and publish on the other instance within 5 s", async () => {
    const shared = await createScratchDatabase(process.env.DATABASE_URL ?? "");
    const env = {
      DATABASE_URL: shared.url,
      JWT_SECRET: "shared-jwt-secret-for-two-instances",
      INTERNAL_API_SECRET: "shared-internal-secret",
      SESSION_SECRET: "shared-session-secret",
    };
    const a = await createTestRegistry(env);
    const b = await createTestRegistry(env);
    try {
      const owner = (await tokenContext(a.runtime.deps, { user: "owner", role: "maintainer" }))
        .token;
      expect(
        (await client(a.app, owner).put(path("@corp/app"), publishBody("@corp/app", "1.0.0")))
          .status,
      ).toBe(201);
      await setOrgRole(a.runtime.deps, { org: "corp", user: "dev", role: "maintainer" });
      const personal = (await tokenContext(a.runtime.deps, { user: "dev", role: "maintainer" }))
        .token;
      const ci = (
        await tokenContext(a.runtime.deps, { user: "dev", role: "ci-publish", kind: "ci" })
      ).token;
      // Instance B reads with both (and caches dev's access).
      for (const token of [personal, ci]) {
        expect((await client(b.app, token).get(path("@corp/app"))).status).toBe(200);
      }
      expect(
        (await client(b.app, ci).put(path("@corp/app"), publishBody("@corp/app", "1.0.1"))).status,
      ).toBe(201);

      // Removed through instance A (as the org verbs do: announced in the transaction).
      await removeFromOrg(a.runtime.deps, { org: "corp", user: "dev" });
      const started = Date.now();
      for (const token of [personal, ci]) {
        let status = 200;
        while (status === 200 && Date.now() - started < 5_000) {
          status = (await client(b.app, token).get(path("@corp/app"))).status;
          if (status === 200) await new Promise((r) => setTimeout(r, 50));
        }
        expect(status).toBe(404);
      }
      expect(Date.now() - started).toBeLessThan(5_000);
      const refused = await expectError(
        await client(b.app, ci).put(path("@corp/app"), publishBody("@corp/app", "1.0.2")),
        403,
        "FORBIDDEN",
      );
      expect(refused.error).toMatch(/^dev is not a member of @corp; publishing needs/);
    } finally {
      await a.close();
      await b.close();
      await shared.drop();
    }
  });
});
