import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setPackageAccess } from "../src/access/set-package-access.ts";
import type { ServiceContext } from "../src/context.ts";
import { packageSearch, packages, tokens, users } from "../src/db/schema/index.ts";
import { deprecateVersions } from "../src/packages/deprecate-versions.ts";
import { getPackument } from "../src/packages/get-packument.ts";
import { unpublishPackage } from "../src/packages/unpublish-package.ts";
import { backfillSearchDocuments } from "../src/search/search-document.ts";
import { searchPackages } from "../src/search/search-packages.ts";
import {
  createTestDeps,
  setOrgRole,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { anonymous, failure, publish, readDoc } from "./helpers.ts";

/** A small corpus in which every ranking rule has one package to prove it. */
const CORPUS: Array<[string, Record<string, unknown>]> = [
  ["express", { description: "Fast web framework", keywords: ["web", "framework"] }],
  ["express-session", { description: "Session middleware for express", keywords: ["session"] }],
  ["middleware", { description: "Compose functions", keywords: ["compose"] }],
  ["middleware-stack", { description: "Stacks of functions", keywords: [] }],
  ["helmet", { description: "Security headers", keywords: ["middleware", "security"] }],
  [
    "quiet-lib",
    {
      description: "Does quiet things",
      readme: "# quiet-lib\n\nIt also works as middleware when mounted.",
      author: { name: "Carol Writer" },
      repository: { type: "git", url: "git+https://github.com/example/quiet-lib.git" },
      license: "MIT",
    },
  ],
  ["koa", { description: "Next generation web framework", keywords: ["web"] }],
];

const names = (r: Awaited<ReturnType<typeof searchPackages>>) =>
  r.objects.map((o) => o.package.name);

describe.each(testDrivers())("npm search on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext;
  let reader: ServiceContext;
  let anon: ServiceContext;
  const search = (ctx: ServiceContext, text: string, more: Record<string, string> = {}) =>
    searchPackages({ ctx, input: { text, ...more } });

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    reader = await tokenContext(deps, { user: "rita", role: "ci-readonly", kind: "ci" });
    anon = anonymous(deps);
    for (const [name, manifest] of CORPUS) {
      await publish(alice, name, ["1.0.0"], {
        manifest: { readme: `# ${name}`, ...manifest },
        access: "public",
      });
    }
    // Restricted (scoped packages default to restricted).
    await publish(alice, "@acme/express-utils", ["1.0.0"], {
      manifest: { description: "Internal express helpers", keywords: ["express"] },
    });
    // rita reads @acme's packages as a reader of the org alice's first publish created.
    await setOrgRole(deps, { org: "acme", user: "rita", role: "reader" });
  });
  afterAll(async () => deps.close());

  it("ranks the exact name first, then name prefixes, then keyword, description and readme matches", async () => {
    const r = await search(anon, "middleware");
    expect(names(r)).toEqual([
      "middleware",
      "middleware-stack",
      "helmet",
      "express-session",
      "quiet-lib",
    ]);
    expect(r.total).toBe(5);
    const scores = r.objects.map((o) => o.searchScore);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("matches name prefixes and typos through pg_trgm, the closest name first", async () => {
    expect(names(await search(anon, "express"))).toEqual(["express", "express-session"]);
    expect(names(await search(anon, "expres"))[0]).toBe("express");
    expect(names(await search(anon, "exprss"))[0]).toBe("express");
    expect(names(await search(anon, "helmte"))).toEqual(["helmet"]);
    expect(names(await search(anon, "zzzzqqq"))).toEqual([]);
  });

  it("answers npm's response shape, maintainers always an array", async () => {
    const r = await search(anon, "quiet-lib");
    const [hit] = r.objects;
    expect(hit?.package).toMatchObject({
      name: "quiet-lib",
      scope: "unscoped",
      version: "1.0.0",
      description: "Does quiet things",
      keywords: [],
      links: {
        npm: "http://registry.test/quiet-lib",
        repository: "https://github.com/example/quiet-lib",
      },
      publisher: { username: "alice", email: "alice@example.test" },
      maintainers: [{ username: "alice", email: "alice@example.test" }],
    });
    expect(new Date(hit?.package.date ?? "").getTime()).toBeGreaterThan(Date.now() - 600_000);
    expect(hit?.score.detail.quality).toBe(0.8);
    expect(hit?.score.detail.popularity).toBe(0);
    expect(hit?.score.detail.maintenance).toBe(1);
    expect(hit?.score.final).toBeGreaterThan(0);
    expect(typeof r.time).toBe("string");
  });

  it("uses the request's weights for score.final", async () => {
    const quality = await search(anon, "quiet-lib", {
      quality: "1",
      popularity: "0",
      maintenance: "0",
    });
    expect(quality.objects[0]?.score.final).toBe(0.8);
    const maintenance = await search(anon, "quiet-lib", {
      quality: "0",
      popularity: "0",
      maintenance: "1",
    });
    expect(maintenance.objects[0]?.score.final).toBe(1);
    const none = await search(anon, "quiet-lib", {
      quality: "0",
      popularity: "0",
      maintenance: "0",
    });
    expect(none.objects[0]?.score.final).toBe(0);
  });

  it("pages with size and from, with the total of all matches", async () => {
    const all = names(await search(anon, "middleware"));
    const first = await search(anon, "middleware", { size: "2", from: "0" });
    const second = await search(anon, "middleware", { size: "2", from: "2" });
    const past = await search(anon, "middleware", { size: "2", from: "10" });
    expect(names(first)).toEqual(all.slice(0, 2));
    expect(names(second)).toEqual(all.slice(2, 4));
    expect(past.objects).toEqual([]);
    expect([first.total, second.total, past.total]).toEqual([5, 5, 5]);
    // A page above the maximum (250) is clamped, not refused.
    const huge = await search(anon, "middleware", { size: "100000" });
    expect(names(huge)).toEqual(all);
  });

  it("shows restricted packages only to callers who may read them", async () => {
    expect(names(await search(anon, "express"))).not.toContain("@acme/express-utils");
    expect(names(await search(anon, "scope:acme"))).toEqual([]);
    expect(names(await search(anon, "keywords:express"))).toEqual([]);
    expect(names(await search(anon, "@acme/express-utils"))).toEqual([]);
    const authed = names(await search(reader, "express"));
    expect(authed[0]).toBe("express");
    expect([...authed].sort()).toEqual(["@acme/express-utils", "express", "express-session"]);
    expect(names(await search(reader, "scope:acme"))).toEqual(["@acme/express-utils"]);
    // A signed-in stranger (a brand-new account) sees public packages and nothing else.
    const stranger = await tokenContext(deps, { user: "newcomer", role: "maintainer" });
    expect(names(await search(stranger, "express")).sort()).toEqual(["express", "express-session"]);
    expect(names(await search(stranger, "scope:acme"))).toEqual([]);
    // A revoked token reads as anonymous: restricted packages vanish from its searches.
    const [rita] = await deps.db.select().from(users).where(eq(users.name, "rita"));
    const issued = await deps.tokens.issue(deps.db, {
      kind: "ci",
      name: "to revoke",
      userId: rita?.id ?? "",
      role: "ci-readonly",
      scopes: [],
      ttlSeconds: 3600,
    });
    await deps.db.update(tokens).set({ revokedAt: new Date() }).where(eq(tokens.id, issued.id));
    const afterRevoke = await deps.tokens.authenticate(issued.token);
    expect(afterRevoke.type).toBe("anonymous");
    expect(names(await search({ ...anon, actor: afterRevoke }, "scope:acme"))).toEqual([]);
  });

  it("supports keywords:, author:, maintainer:, scope: and not:deprecated", async () => {
    expect(names(await search(anon, "keywords:middleware"))).toEqual(["helmet"]);
    expect(names(await search(anon, "keywords:security,compose"))).toEqual([
      "helmet",
      "middleware",
    ]);
    expect(names(await search(anon, "keywords:web+framework"))).toEqual(["express"]);
    expect(names(await search(anon, "keywords:web"))).toEqual(["express", "koa"]);
    expect(names(await search(anon, "author:carol"))).toEqual([]);
    expect(names(await search(anon, "author:'carol writer'"))).toEqual([]);
    expect(names(await search(anon, "middleware author:alice"))).toHaveLength(5);
    expect(names(await search(anon, "web maintainer:alice"))).toEqual(["express", "koa"]);
    expect(names(await search(anon, "web maintainer:nobody"))).toEqual([]);
    expect(names(await search(anon, "framework keywords:web"))).toEqual(["express", "koa"]);
  });

  it("refuses empty, oversized and malformed parameters", async () => {
    for (const input of [
      { text: "" },
      { text: "   " },
      { text: "x".repeat(300) },
      { text: "a", size: "0" },
      { text: "a", size: "-1" },
      { text: "a", size: "2.5" },
      { text: "a", size: "ten" },
      { text: "a", from: "-1" },
      { text: "a", quality: "NaN" },
      { text: "a", popularity: "-1" },
    ]) {
      expect((await failure(searchPackages({ ctx: anon, input }))).code).toBe("VALIDATION");
    }
    // Query syntax in the text is data, not syntax.
    expect(names(await search(anon, "express' | !& :* (("))).toContain("express");
    expect((await failure(search(anon, "%_"))).code).toBe("VALIDATION");
    expect(names(await search(anon, "100%_off"))).toEqual([]);
  });

  it("keeps the document current with publish, deprecate, visibility and unpublish", async () => {
    await publish(alice, "koa", ["2.0.0"], {
      manifest: { description: "Expressive middleware for node", keywords: ["web"] },
    });
    const koa = (await search(anon, "koa")).objects[0];
    expect(koa?.package).toMatchObject({
      version: "2.0.0",
      description: "Expressive middleware for node",
    });
    expect(names(await search(anon, "middleware"))).toContain("koa");

    const doc = await readDoc(alice, "helmet");
    for (const v of Object.values(doc.versions) as Array<Record<string, unknown>>) {
      v.deprecated = "use helmet-next";
    }
    await deprecateVersions({ ctx: alice, input: { name: "helmet", body: doc } });
    const helmet = (await search(anon, "helmet")).objects[0];
    expect(helmet?.flags).toEqual({ deprecated: "use helmet-next" });
    expect(helmet?.score.detail.maintenance).toBe(0);
    expect(names(await search(anon, "helmet not:deprecated"))).toEqual([]);
    expect(names(await search(anon, "helmet is:deprecated"))).toEqual(["helmet"]);
    const packument = await getPackument({
      ctx: anon,
      input: { name: "helmet", abbreviated: false },
    });
    expect(packument.notice).toBe("helmet is deprecated: use helmet-next");

    await setPackageAccess({ ctx: alice, input: { name: "koa", body: { access: "restricted" } } });
    expect(names(await search(anon, "koa"))).toEqual([]);
    // Restricted and unscoped: its maintainer finds it; rita, in no org that owns it, does not.
    expect(names(await search(alice, "koa"))).toEqual(["koa"]);
    expect(names(await search(reader, "koa"))).toEqual([]);

    await unpublishPackage({
      ctx: alice,
      input: { name: "middleware-stack", rev: (await readDoc(alice, "middleware-stack"))._rev },
    });
    expect(names(await search(alice, "middleware"))).not.toContain("middleware-stack");
    const rows = await deps.db
      .select()
      .from(packageSearch)
      .innerJoin(packages, eq(packages.id, packageSearch.packageId))
      .where(eq(packages.name, "middleware-stack"));
    expect(rows).toEqual([]);
  });

  it("backfills documents of packages that have none", async () => {
    const [pkg] = await deps.db.select().from(packages).where(eq(packages.name, "express"));
    await deps.db.delete(packageSearch).where(eq(packageSearch.packageId, pkg?.id ?? ""));
    expect(names(await search(anon, "express"))).toEqual(["express-session"]);
    expect(await backfillSearchDocuments(deps.db)).toBe(1);
    expect(names(await search(anon, "express"))[0]).toBe("express");
    expect(await backfillSearchDocuments(deps.db)).toBe(0);
  });
});
