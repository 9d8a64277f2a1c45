import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, packages, users, versions } from "../src/db/schema/index.ts";
import { newId } from "../src/ids.ts";
import { isOwnClientName, publishOwnClients } from "../src/packages/own-clients.ts";
import { createTestDeps, systemContext, type TestDeps, testDrivers } from "../src/testing/index.ts";
import { makeTarball } from "../src/testing/tarball.ts";
import { anonymous, readDoc } from "./helpers.ts";

const CLIENTS = ["packr-cli", "@packr/agent", "@packr/mcp-server", "@packr/agent-schemas"];

/** What `pnpm pack` makes of each client at build, at one Packr version. */
const tarballs = (version: string, extra = "") =>
  Promise.all(
    CLIENTS.map((name) =>
      makeTarball(
        { name, version, description: `${name} of Packr`, bin: { x: "./dist/x.js" } },
        { "dist/x.js": `#!/usr/bin/env node\nconsole.log("${name}@${version}${extra}")\n` },
      ),
    ),
  );

describe("isOwnClientName", () => {
  it("is packr-cli and the @packr scope, in any case, and nothing else", () => {
    for (const n of ["packr-cli", "PACKR-CLI", "@packr/agent", "@packr/anything", "@Packr/x"]) {
      expect(isOwnClientName(n), n).toBe(true);
    }
    for (const n of ["packr", "packr-cli-x", "@packrx/agent", "@acme/packr-cli", "packr-mcp"]) {
      expect(isOwnClientName(n), n).toBe(false);
    }
  });
});

describe.each(testDrivers())("publishOwnClients on %s", (driver) => {
  let deps: TestDeps;
  const count = async (name: string) =>
    (
      await deps.db
        .select({ v: versions.version })
        .from(versions)
        .innerJoin(packages, eq(packages.id, versions.packageId))
        .where(eq(packages.name, name))
    ).length;

  beforeAll(async () => {
    deps = await createTestDeps(driver);
  });
  afterAll(async () => deps?.close());

  it("publishes nothing while there is no administrator to own the packages", async () => {
    await deps.db.insert(users).values({ id: newId("usr"), name: "bob", isAdmin: false });
    const result = await publishOwnClients(systemContext(deps), await tarballs("0.1.0"));
    expect(result.status).toBe("no-owner");
    expect(await count("packr-cli")).toBe(0);
  });

  it("publishes each client as a public package of the oldest admin, and ignores other names", async () => {
    await deps.db.insert(users).values({ id: newId("usr"), name: "admin", isAdmin: true });
    const foreign = await makeTarball({ name: "left-pad", version: "9.9.9" });
    const result = await publishOwnClients(systemContext(deps), [
      foreign,
      ...(await tarballs("0.1.0")),
      Buffer.from("not a tarball"),
    ]);
    expect(result).toEqual({
      status: "done",
      // Dependency order, whatever order the files came in.
      published: [
        "@packr/agent-schemas@0.1.0",
        "@packr/agent@0.1.0",
        "@packr/mcp-server@0.1.0",
        "packr-cli@0.1.0",
      ],
      present: [],
      ignored: ["left-pad@9.9.9", "(unreadable tarball)"],
    });
    expect(await count("left-pad")).toBe(0);
    // Scoped, yet readable anonymously: published --access public.
    const doc = await readDoc(anonymous(deps), "@packr/agent");
    expect(doc["dist-tags"]).toEqual({ latest: "0.1.0" });
    expect(doc.maintainers).toEqual([{ name: "admin", email: "" }]);
    expect(doc.versions["0.1.0"].bin).toEqual({ x: "./dist/x.js" });
    const audits = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "package.publish"));
    expect(audits.map((a) => a.actorName)).toEqual(["admin", "admin", "admin", "admin"]);
    expect(audits[0]?.data).toMatchObject({ tokenId: "packr:own-clients" });
  });

  it("is idempotent: a restart, or another instance at once, publishes nothing twice", async () => {
    const ctx = systemContext(deps);
    const again = await publishOwnClients(ctx, await tarballs("0.1.0"));
    expect(again.published).toEqual([]);
    expect(again.present).toHaveLength(4);
    // Another build of the same version (other bytes) is not a conflict either.
    const rebuilt = await publishOwnClients(ctx, await tarballs("0.1.0", " rebuilt"));
    expect(rebuilt).toMatchObject({ status: "done", published: [] });
    // Two instances starting together with a new version: each version lands once, neither fails.
    const [a, b] = await Promise.all([
      publishOwnClients(ctx, await tarballs("0.2.0")),
      publishOwnClients(ctx, await tarballs("0.2.0")),
    ]);
    expect([...(a?.published ?? []), ...(b?.published ?? [])].sort()).toEqual(
      CLIENTS.map((n) => `${n}@0.2.0`).sort(),
    );
    for (const name of CLIENTS) expect(await count(name), name).toBe(2);
    expect((await readDoc(anonymous(deps), "packr-cli"))["dist-tags"].latest).toBe("0.2.0");
  });

  it("never moves latest backwards when an older Packr starts beside a newer one", async () => {
    const older = await publishOwnClients(systemContext(deps), await tarballs("0.1.5"));
    expect(older.published).toContain("packr-cli@0.1.5");
    const doc = await readDoc(anonymous(deps), "packr-cli");
    expect(doc["dist-tags"]).toEqual({ latest: "0.2.0", "packr-older": "0.1.5" });
  });
});
