/**
 * audit ls / export / verify: the built CLI against the registry as a process. The table and the
 * --json documents (checked against @packr/agent's schemas), --all following the cursor, the
 * NDJSON export to a file, verify passing, then — after an event is edited behind the trigger —
 * verify exiting 1 with a sentence naming the broken event. And the refusals.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AuditPage, AuditVerifyReport } from "@packr/agent/schemas";
import { openDatabase, schema } from "@packr/core";
import { publishBody } from "@packr/core/testing";
import { escapeName, npmrc, stopRegistry } from "@packr/registry/e2e/clients";
import {
  type RegistryProcess,
  seedTokens,
  startRegistryProcess,
} from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, cli, fails, jsonError, ok } from "./cli-harness.ts";

let registry: RegistryProcess;
let box: CliSandbox;
let dataDir: string;
const homes = { alice: "", carol: "", ci: "" };

beforeAll(async () => {
  box = await CliSandbox.create("audit");
  dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-cli-audit-"));
  const [alice, carol, ci] = (await seedTokens(dataDir, [
    { user: "alice", role: "maintainer", kind: "personal" },
    { user: "carol", role: "maintainer", kind: "personal" },
    { user: "alice", role: "ci-readonly", kind: "ci" },
  ])) as [string, string, string];
  registry = await startRegistryProcess({ dataDir });
  for (const [who, token] of [
    ["alice", alice],
    ["carol", carol],
    ["ci", ci],
  ] as const) {
    homes[who] = await box.home(who);
    await writeFile(path.join(homes[who], ".npmrc"), npmrc(registry.url, token));
  }
  ok(await as("alice", ["org", "create", "acme"]));
  for (const v of ["1.0.0", "1.1.0", "1.2.0"]) {
    const res = await fetch(`${registry.url}/${escapeName("@acme/widget")}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${alice}` },
      body: JSON.stringify(publishBody("@acme/widget", v)),
    });
    expect(res.status).toBe(201);
  }
});

afterAll(async () => {
  await stopRegistry(registry);
  await box?.cleanup();
});

const as = (who: keyof typeof homes, args: string[]) => cli(args, { home: homes[who] });

describe("packr-cli audit", () => {
  it("lists events as a table and as the API's document, following the cursor with --all", async () => {
    const table = ok(await as("alice", ["audit", "ls", "--package", "@acme/widget"])).stdout;
    expect(table).toContain("ACTION");
    expect(table).toContain("package.publish");
    expect(table).toContain("@acme/widget@1.2.0");
    expect(table).toContain("alice [test maintainer]");
    const one = AuditPage.parse(
      ok(await as("alice", ["audit", "ls", "--org", "@acme", "--limit", "1", "--json"])).json(),
    );
    expect(one.events).toHaveLength(1);
    expect(one.nextCursor).not.toBeNull();
    const every = AuditPage.parse(
      ok(
        await as("alice", ["audit", "ls", "--org", "acme", "--limit", "1", "--all", "--json"]),
      ).json(),
    );
    expect(every.nextCursor).toBeNull();
    expect(every.events.length).toBeGreaterThanOrEqual(4);
    expect(every.events[0]?.id).toBe(one.events[0]?.id);
  });

  it("exports NDJSON to a file", async () => {
    const file = path.join(homes.alice, "acme.ndjson");
    const r = ok(await as("alice", ["audit", "export", "--org", "acme", "--output", file]));
    const lines = (await readFile(file, "utf8")).trimEnd().split("\n");
    expect(r.stdout).toContain(`Wrote ${lines.length} audit events to ${file}.`);
    expect(lines.map((l) => (JSON.parse(l) as { org: { slug: string } }).org.slug)).toEqual(
      lines.map(() => "acme"),
    );
  });

  it("refuses a CI token, another org, and a bad filter, with their exit codes", async () => {
    fails(await as("ci", ["audit", "ls"]), 3);
    const other = jsonError(await as("carol", ["audit", "ls", "--org", "acme", "--json"]));
    expect(other).toMatchObject({ code: "NOT_FOUND", exitCode: 4 });
    fails(await as("alice", ["audit", "ls", "--since", "yesterday"]), 1, '"since"');
    fails(await as("alice", ["audit", "ls", "--limit", "900"]), 2, "--limit");
  });

  it("verifies the chain, and names the first broken link after an event is edited", async () => {
    const good = AuditVerifyReport.parse(
      ok(await as("alice", ["audit", "verify", "--org", "acme", "--json"])).json(),
    );
    expect(good.ok).toBe(true);
    expect(ok(await as("alice", ["audit", "verify", "--org", "acme"])).stdout).toContain(
      "ok  @acme",
    );
    // Edit one event behind the trigger (as the database's superuser), with the registry stopped.
    await registry.stop();
    const handle = await openDatabase({ driver: "pglite", dataDir: path.join(dataDir, "db") });
    let victim = "";
    try {
      const db = handle.db;
      const events = await db.select().from(schema.auditEvents);
      const publishes = events
        .filter((e) => e.action === "package.publish")
        .sort((a, b) => (a.chainSeq ?? 0) - (b.chainSeq ?? 0));
      victim = publishes[0]?.id ?? "";
      expect(victim).toMatch(/^evt_[A-Za-z0-9_-]+$/);
      await db.execute("alter table audit_events disable trigger audit_events_append_only");
      await db.execute(`update audit_events set ip = '6.6.6.6' where id = '${victim}'`);
      await db.execute("alter table audit_events enable trigger audit_events_append_only");
    } finally {
      await handle.close();
    }
    registry = await startRegistryProcess({ dataDir, port: registry.port });
    const r = fails(
      await as("alice", ["audit", "verify", "--org", "acme"]),
      1,
      `The @acme audit chain is broken at event ${victim}`,
      "it was changed",
    );
    expect(r.stdout).toContain("BROKEN  @acme");
  });
});
