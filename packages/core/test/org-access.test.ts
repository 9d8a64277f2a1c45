import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listOrgPackages } from "../src/access/list-access.ts";
import { setPackageAccess } from "../src/access/set-package-access.ts";
import { ACCESS_TTL_MS, AccessCache, loadUserAccess } from "../src/auth/user-access.ts";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, orgMembers, orgs, packages, users } from "../src/db/schema/index.ts";
import { changeOwners } from "../src/packages/change-owners.ts";
import { getPackument } from "../src/packages/get-packument.ts";
import { getTarball } from "../src/packages/get-tarball.ts";
import { packageWriteAllowance } from "../src/packages/package-write-allowance.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import { setDistTag } from "../src/packages/set-dist-tag.ts";
import { searchPackages } from "../src/search/search-packages.ts";
import {
  createScratchDatabase,
  createTestDeps,
  grantTeam,
  publishBody,
  removeFromOrg,
  setOrgRole,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { anonymous, failure, publish, readDoc } from "./helpers.ts";

const MISSING = (name: string) => `Package ${name} is not in this registry.`;

/** Poll until `check` resolves true; returns the milliseconds it took (fails after `limitMs`). */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const readable = async (ctx: ServiceContext, name: string): Promise<boolean> => {
  try {
    await readDoc(ctx, name);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === "NOT_FOUND") return false;
    throw err;
  }
};

describe.each(testDrivers())("org access on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext; // admin of acme: her first publish claimed the scope
  let mia: ServiceContext; // maintainer in acme
  let rita: ServiceContext; // reader in acme
  let tom: ServiceContext; // reader in acme, on a team with read-write on @acme/app
  let fresh: ServiceContext; // a brand-new account with a login token
  let bob: ServiceContext; // in no org
  let admin: ServiceContext; // a platform administrator
  const anon = () => anonymous(deps);

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    mia = await tokenContext(deps, { user: "mia", role: "maintainer" });
    rita = await tokenContext(deps, { user: "rita", role: "maintainer" });
    tom = await tokenContext(deps, { user: "tom", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    fresh = await tokenContext(deps, { user: "fresh", role: "maintainer", kind: "login" });
    admin = await tokenContext(deps, { user: "root", role: "admin", isAdmin: true });
    await publish(alice, "@acme/app", ["1.0.0"]);
    await publish(alice, "@acme/lib", ["1.0.0"]);
    await setOrgRole(deps, { org: "acme", user: "mia", role: "maintainer" });
    await setOrgRole(deps, { org: "acme", user: "rita", role: "reader" });
    await setOrgRole(deps, { org: "acme", user: "tom", role: "reader" });
    await grantTeam(deps, {
      org: "acme",
      team: "release",
      user: "tom",
      pkg: "@acme/app",
      permission: "read-write",
    });
  });
  afterAll(async () => deps.close());

  it("the first publish into an unclaimed scope creates its org, with the publisher as admin", async () => {
    const [org] = await deps.db.select().from(orgs).where(eq(orgs.name, "acme"));
    expect(org?.name).toBe("acme");
    const members = await deps.db
      .select({ user: users.name, role: orgMembers.role })
      .from(orgMembers)
      .innerJoin(users, eq(users.id, orgMembers.userId))
      .where(eq(orgMembers.orgId, org?.id ?? ""));
    expect(members.find((m) => m.user === "alice")?.role).toBe("admin");
    const rows = await deps.db.select().from(packages).where(eq(packages.scope, "acme"));
    expect(rows.map((r) => r.orgId)).toEqual([org?.id, org?.id]);
    const audit = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "org.created"));
    expect(audit.map((a) => a.targetId)).toContain(org?.id);
  });

  it("a restricted package is read by org members, granted teams, maintainers and admins; anyone else gets the 404 of a missing package", async () => {
    for (const ctx of [alice, mia, rita, tom, admin]) {
      expect((await readDoc(ctx, "@acme/app")).name).toBe("@acme/app");
    }
    // A brand-new account, by login token or by dashboard session: public packages only.
    const session: ServiceContext = {
      deps,
      requestId: "t",
      actor: {
        type: "session",
        sessionId: "ses_x",
        userId: (fresh.actor as { userId: string }).userId,
        userName: "fresh",
        userEmail: null,
        isAdmin: false,
      },
    };
    for (const ctx of [fresh, session, bob]) {
      for (const name of ["@acme/app", "@acme/nope"]) {
        const err = await failure(readDoc(ctx, name));
        expect([err.code, err.message]).toEqual(["NOT_FOUND", MISSING(name)]);
      }
      const tgz = await failure(
        getTarball({ ctx, input: { name: "@acme/app", filename: "app-1.0.0.tgz" } }),
      );
      expect(tgz.code).toBe("NOT_FOUND");
      const found = await searchPackages({ ctx, input: { text: "scope:acme" } });
      expect(found.objects).toEqual([]);
    }
    expect(await listOrgPackages({ ctx: fresh, input: { org: "acme" } })).toEqual({});
    // Anonymous callers keep their 401 (npm turns it into "log in").
    expect((await failure(readDoc(anon(), "@acme/app"))).code).toBe("UNAUTHORIZED");

    // A restricted package outside any org: its maintainers, and whoever they add.
    await publish(bob, "bobs-secret", ["1.0.0"], { access: "restricted" });
    expect(await readable(bob, "bobs-secret")).toBe(true);
    expect(await readable(alice, "bobs-secret")).toBe(false);
    const doc = await readDoc(bob, "bobs-secret");
    await changeOwners({
      ctx: bob,
      input: {
        name: "bobs-secret",
        rev: doc._rev,
        body: { maintainers: [{ name: "bob" }, { name: "alice" }] },
      },
    });
    expect(await readable(alice, "bobs-secret")).toBe(true);
  });

  it("publishing into an org's scope needs maintainer or admin, or a team's read-write grant on that package", async () => {
    const reader = await failure(publish(rita, "@acme/readers-own", ["1.0.0"]));
    expect([reader.code, reader.message]).toEqual([
      "FORBIDDEN",
      "rita is a reader in @acme; publishing needs maintainer or admin — ask an admin of acme.",
    ]);
    expect(reader.details).toEqual({
      org: "acme",
      role: "reader",
      required: ["maintainer", "admin"],
    });
    expect((await failure(publish(rita, "@acme/app", ["1.0.1"]))).message).toBe(
      "rita is a reader in @acme; publishing needs maintainer or admin (or a team's read-write grant on @acme/app) — ask an admin of acme.",
    );
    const outsider = await failure(publish(fresh, "@acme/fresh", ["1.0.0"]));
    expect([outsider.code, outsider.message]).toEqual([
      "FORBIDDEN",
      "fresh is not a member of @acme; publishing needs maintainer or admin — ask an admin of acme to add you.",
    ]);
    // Refused before a byte of the body is read.
    await expect(
      packageWriteAllowance({ ctx: fresh, input: { name: "@acme/fresh", target: "document" } }),
    ).resolves.toMatchObject({ body: "small" });

    // A maintainer in the org publishes new packages and versions of packages they do not maintain.
    await publish(mia, "@acme/mias", ["1.0.0"]);
    await publish(mia, "@acme/app", ["1.1.0"]);
    // The team's read-write grant lets a reader publish that one package, and tag it.
    await publish(tom, "@acme/app", ["1.2.0"]);
    await setDistTag({ ctx: tom, input: { name: "@acme/app", tag: "beta", body: "1.2.0" } });
    expect((await failure(publish(tom, "@acme/lib", ["1.0.1"]))).code).toBe("FORBIDDEN");
    // Access is the org role's alone: a team grant does not reach it.
    const teamAccess = await failure(
      setPackageAccess({ ctx: tom, input: { name: "@acme/app", body: { access: "public" } } }),
    );
    expect(teamAccess.message).toBe(
      "tom is a reader in @acme; changing the access of @acme/app needs maintainer or admin — ask an admin of acme.",
    );

    // Being listed as a maintainer no longer suffices in an org's scope: the role decides.
    await setOrgRole(deps, { org: "acme", user: "alice", role: "reader" });
    try {
      expect((await failure(publish(alice, "@acme/lib", ["1.0.2"]))).message).toMatch(
        /^alice is a reader in @acme; publishing needs maintainer or admin/,
      );
    } finally {
      await setOrgRole(deps, { org: "acme", user: "alice", role: "admin" });
    }
    await publish(alice, "@acme/lib", ["1.0.2"]);
  });

  it("a new package in someone else's scope is refused, naming the owner", async () => {
    // A scope equal to a user's name is that user's.
    await publish(bob, "@bob/tool", ["1.0.0"]);
    expect(await deps.db.select().from(orgs).where(eq(orgs.name, "bob"))).toEqual([]);
    expect(await readable(bob, "@bob/tool")).toBe(true);
    const theirs = await failure(publish(alice, "@bob/mine", ["1.0.0"]));
    expect([theirs.code, theirs.message]).toEqual([
      "FORBIDDEN",
      "@bob belongs to the user bob: only they publish new packages into it. Publish under your own scope (@alice) or an org you belong to.",
    ]);
    // A second user publishing a new package into a claimed scope.
    expect((await failure(publish(bob, "@acme/bobs", ["1.0.0"]))).message).toBe(
      "bob is not a member of @acme; publishing needs maintainer or admin — ask an admin of acme to add you.",
    );
    // A platform administrator may publish anywhere.
    await publish(admin, "@bob/by-admin", ["1.0.0"]);
    await publish(admin, "@acme/by-admin", ["1.0.0"]);

    // PACKR_SCOPE_CLAIM=admin-only: nobody but an administrator makes an org.
    const adminOnly = <T extends ServiceContext>(ctx: T): T => ({
      ...ctx,
      deps: { ...ctx.deps, scopeClaim: "admin-only" },
    });
    const refused = await failure(publish(adminOnly(alice), "@unclaimed/x", ["1.0.0"]));
    expect([refused.code, refused.message]).toEqual([
      "FORBIDDEN",
      "No org owns @unclaimed yet, and on this registry only an administrator creates orgs (PACKR_SCOPE_CLAIM=admin-only). Ask an administrator to create the org unclaimed, then publish again.",
    ]);
    await publish(adminOnly(admin), "@legacy/old", ["1.0.0"]);
    expect(await deps.db.select().from(orgs).where(eq(orgs.name, "legacy"))).toEqual([]);
    // Back under first-publish, a scope holding other people's packages is not anyone's to claim.
    const legacy = await failure(publish(alice, "@legacy/new", ["1.0.0"]));
    expect(legacy.message).toBe(
      "No org owns @legacy yet, and it holds packages of other people (root): publishing into it would make you its owner. Ask an administrator to create the org legacy.",
    );
  });

  it("concurrent first publishes into one unclaimed scope: one claims it, the rest are judged by it", async () => {
    const [mine, alsoMine] = await Promise.allSettled([
      publish(bob, "@race/a", ["1.0.0"]),
      publish(bob, "@race/b", ["1.0.0"]),
    ]);
    expect([mine.status, alsoMine.status]).toEqual(["fulfilled", "fulfilled"]);
    const results = await Promise.allSettled([
      publish(bob, "@duel/a", ["1.0.0"]),
      publish(alice, "@duel/b", ["1.0.0"]),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason.code).toBe("FORBIDDEN");
    expect(lost.reason.message).toMatch(/is not a member of @duel/);
  });

  it("tokens act with their creator's current org role, CI tokens included", async () => {
    const ci = await tokenContext(deps, { user: "mia", role: "ci-publish", kind: "ci" });
    await publish(ci, "@acme/app", ["2.0.0"]);
    expect(await readable(ci, "@acme/app")).toBe(true);
    await removeFromOrg(deps, { org: "acme", user: "mia" });
    for (const ctx of [ci, mia]) {
      expect((await failure(publish(ctx, "@acme/app", ["2.0.1"]))).message).toMatch(
        /^mia is not a member of @acme; publishing needs maintainer or admin/,
      );
      expect(await readable(ctx, "@acme/app")).toBe(false);
    }
    // She still reads the package she maintains, but in an org's scope the role decides writes.
    expect(await readable(mia, "@acme/mias")).toBe(true);
    expect((await failure(publish(mia, "@acme/mias", ["1.0.1"]))).code).toBe("FORBIDDEN");
    await setOrgRole(deps, { org: "acme", user: "mia", role: "maintainer" });
    expect(await readable(ci, "@acme/app")).toBe(true);
  });

  it("a CI token never changes access; a ci-readonly token manages nothing", async () => {
    const ciPublish = await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" });
    const makePublic = await failure(
      setPackageAccess({
        ctx: ciPublish,
        input: { name: "@acme/lib", body: { access: "public" } },
      }),
    );
    expect([makePublic.code, makePublic.message]).toEqual([
      "FORBIDDEN",
      "A ci-publish token cannot change the access of @acme/lib. Use a maintainer's own token (npm login) to do it.",
    ]);
    expect((await failure(readDoc(anon(), "@acme/lib"))).code).toBe("UNAUTHORIZED");
    const ro = await tokenContext(deps, { user: "alice", role: "ci-readonly", kind: "ci" });
    const doc = await readDoc(ro, "@acme/lib");
    for (const attempt of [
      publish(ro, "@acme/lib", ["9.0.0"]),
      setDistTag({ ctx: ro, input: { name: "@acme/lib", tag: "x", body: "1.0.0" } }),
      setPackageAccess({ ctx: ro, input: { name: "@acme/lib", body: { access: "public" } } }),
      changeOwners({
        ctx: ro,
        input: { name: "@acme/lib", rev: doc._rev, body: { maintainers: [{ name: "bob" }] } },
      }),
    ]) {
      const err = await failure(attempt);
      expect(err.code).toBe("FORBIDDEN");
      expect(err.message).toMatch(/ci-readonly/);
    }
  });

  it("a revoked platform-administrator flag is current, not frozen into the token", async () => {
    const exAdmin = await tokenContext(deps, { user: "exroot", role: "admin", isAdmin: true });
    expect(await readable(exAdmin, "@acme/lib")).toBe(true);
    await deps.db.update(users).set({ isAdmin: false }).where(eq(users.name, "exroot"));
    // The token row (with the user's flag) is cached for 2 s.
    const token = (exAdmin as { token: string }).token;
    const ms = await within(3_000, async () => {
      const ctx = { ...exAdmin, actor: await deps.tokens.verify(token) };
      return !(await readable(ctx, "@acme/lib"));
    });
    expect(ms).toBeLessThan(3_000);
    const ctx = { ...exAdmin, actor: await deps.tokens.verify(token) };
    expect((await failure(publish(ctx, "@acme/exroot", ["1.0.0"]))).code).toBe("FORBIDDEN");
  });

  it("a removal nobody announced still takes effect within 5 seconds", async () => {
    await setOrgRole(deps, { org: "acme", user: "quiet", role: "reader" });
    const quiet = await tokenContext(deps, { user: "quiet", role: "ci-readonly", kind: "ci" });
    expect(await readable(quiet, "@acme/app")).toBe(true);
    await removeFromOrg(deps, { org: "acme", user: "quiet", announce: false });
    const ms = await within(5_000, async () => !(await readable(quiet, "@acme/app")));
    expect(ms).toBeLessThanOrEqual(ACCESS_TTL_MS + 500);
  });

  it("the access snapshot holds roles, the strongest team grant and maintained packages", async () => {
    const [tomRow] = await deps.db.select().from(users).where(eq(users.name, "tom"));
    await grantTeam(deps, {
      org: "acme",
      team: "readers",
      user: "tom",
      pkg: "@acme/app",
      permission: "read-only",
    });
    const snap = await loadUserAccess(deps.db, tomRow?.id ?? "");
    const [app] = await deps.db.select().from(packages).where(eq(packages.name, "@acme/app"));
    expect(Object.fromEntries(snap.orgRoles)).toEqual({ acme: "reader" });
    expect(snap.teamGrants.get(app?.id ?? "")).toBe("read-write");
    expect(snap.ownScope).toBe("tom");
    // Cached per instance: a hit is the same object; a notice or the time bound drops it.
    let now = 0;
    const cache = new AccessCache(deps.db, () => now);
    const first = await cache.get(tomRow?.id ?? "");
    expect(await cache.get(tomRow?.id ?? "")).toBe(first);
    cache.onNotify(`usr_other,${tomRow?.id}`);
    const second = await cache.get(tomRow?.id ?? "");
    expect(second).not.toBe(first);
    now += ACCESS_TTL_MS;
    expect(await cache.get(tomRow?.id ?? "")).not.toBe(second);
  });
});

// Two instances on one PostgreSQL database: a change made through one reaches the other.
describe.runIf(process.env.DATABASE_URL)("org access across instances", () => {
  it("removing a member on instance A disarms their tokens on instance B within 5 seconds", async () => {
    const shared = await createScratchDatabase(process.env.DATABASE_URL ?? "");
    const a = await createTestDeps("postgres", shared.url);
    const b = await createTestDeps("postgres", shared.url);
    try {
      const owner = await tokenContext(a, { user: "owner", role: "maintainer" });
      await publish(owner, "@corp/secret", ["1.0.0"]);
      await setOrgRole(a, { org: "corp", user: "dev", role: "maintainer" });
      const onA = await tokenContext(a, { user: "dev", role: "ci-publish", kind: "ci" });
      const onB: ServiceContext = {
        deps: b,
        requestId: "b",
        actor: await b.tokens.verify(onA.token),
      };
      expect(await readable(onB, "@corp/secret")).toBe(true); // B caches dev's access
      await publish(onB, "@corp/secret", ["1.0.1"]);
      await removeFromOrg(a, { org: "corp", user: "dev" });
      const ms = await within(5_000, async () => !(await readable(onB, "@corp/secret")));
      expect(ms).toBeLessThan(5_000);
      expect(
        (
          await failure(
            publishPackage({
              ctx: onB,
              input: { name: "@corp/secret", body: publishBody("@corp/secret", "1.0.2") },
            }),
          )
        ).code,
      ).toBe("FORBIDDEN");
      // The same removal with its notice lost: the time bound alone.
      await setOrgRole(a, { org: "corp", user: "dev", role: "reader" });
      await within(5_000, async () => readable(onB, "@corp/secret"));
      await removeFromOrg(a, { org: "corp", user: "dev", announce: false });
      const quiet = await within(5_000, async () => !(await readable(onB, "@corp/secret")));
      expect(quiet).toBeLessThan(5_000);
      expect(
        await getPackument({
          ctx: anonymous(b),
          input: { name: "@corp/secret", abbreviated: true },
        })
          .then(() => "read")
          .catch((e: { code: string }) => e.code),
      ).toBe("UNAUTHORIZED");
    } finally {
      await a.close();
      await b.close();
      await shared.drop();
    }
  });
});
