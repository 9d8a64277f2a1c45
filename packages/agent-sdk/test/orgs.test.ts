/**
 * `client.orgs`: every admin call against the registry as a process, each answer checked against
 * its schema (so the SDK's types and the registry cannot drift apart), and the registry's
 * refusals as typed `PackrApiError`s.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { publishBody } from "@packr/core/testing";
import {
  type RegistryProcess,
  seedTokens,
  startRegistryProcess,
} from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPackrClient, PackrApiError, type PackrClient } from "../src/index.ts";
import * as S from "../src/schemas.ts";

let registry: RegistryProcess;
let alice: PackrClient;
let bob: PackrClient;
let aliceToken: string;

beforeAll(async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-sdk-orgs-"));
  const tokens = (await seedTokens(dataDir, [
    { user: "alice", role: "maintainer", kind: "personal" },
    { user: "bob", role: "maintainer", kind: "personal" },
  ])) as [string, string];
  aliceToken = tokens[0];
  registry = await startRegistryProcess({ dataDir, env: { PACKR_LOG_LEVEL: "warn" } });
  alice = createPackrClient({ registry: registry.url, token: tokens[0] });
  bob = createPackrClient({ registry: registry.url, token: tokens[1] });
});

afterAll(async () => {
  await registry?.stop();
  if (registry) await rm(registry.dataDir, { recursive: true, force: true });
});

describe("client.orgs against a registry", () => {
  it("runs an org: create, members, teams, grants, and undoes it", async () => {
    const created = S.OrgResponse.parse(
      await alice.orgs.create({ name: "@sdk", displayName: "SDK Org" }),
    );
    expect(created.org).toMatchObject({ name: "sdk", displayName: "SDK Org", role: "admin" });
    expect(S.OrgList.parse(await alice.orgs.mine()).orgs.map((o) => o.name)).toEqual(["sdk"]);
    expect(S.OrgList.parse(await bob.orgs.mine()).orgs).toEqual([]);
    S.OrgList.parse(await alice.orgs.list());

    const added = S.OrgMemberResponse.parse(await alice.orgs.members.add("sdk", "bob", "reader"));
    expect(added.member).toMatchObject({ user: "bob", role: "reader" });
    const changed = await alice.orgs.members.setRole("@sdk", "bob", "maintainer");
    expect(S.OrgMemberResponse.parse(changed).member.role).toBe("maintainer");
    const members = S.OrgMemberList.parse(await alice.orgs.members.list("sdk"));
    expect(members.members.map((m) => [m.user, m.role]).sort()).toEqual([
      ["alice", "admin"],
      ["bob", "maintainer"],
    ]);

    const res = await fetch(`${registry.url}/@sdk%2fkit`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${aliceToken}` },
      body: JSON.stringify(publishBody("@sdk/kit", "1.0.0", { access: "restricted" })),
    });
    expect(res.status, await res.text()).toBe(201);

    const team = S.TeamResponse.parse(
      await alice.orgs.teams.create("sdk", { name: "core", description: "The core team" }),
    );
    expect(team.team).toMatchObject({ name: "core", description: "The core team" });
    const member = S.TeamMemberResponse.parse(
      await alice.orgs.teams.members.add("sdk", "core", "bob"),
    );
    expect(member.member.user).toBe("bob");
    expect(
      S.TeamMemberList.parse(await alice.orgs.teams.members.list("sdk", "core")).members,
    ).toEqual([expect.objectContaining({ user: "bob" })]);
    const grant = S.TeamPackageResponse.parse(
      await alice.orgs.teams.packages.grant("sdk", "core", "@sdk/kit", "read-write"),
    );
    expect(grant.package).toEqual({ name: "@sdk/kit", permission: "read-write" });
    expect(S.TeamPackageList.parse(await alice.orgs.teams.packages.list("sdk", "core"))).toEqual({
      packages: [{ name: "@sdk/kit", permission: "read-write" }],
    });
    expect(S.TeamList.parse(await alice.orgs.teams.list("sdk")).teams).toEqual([
      expect.objectContaining({ name: "core", memberCount: 1, packageCount: 1 }),
    ]);

    const details = S.OrgDetailsResponse.parse(await alice.orgs.get("sdk"));
    expect(details.org).toMatchObject({ memberCount: 2, teamCount: 1, packageCount: 1 });
    const listed = S.OrgPackages.parse(await alice.orgs.packages("sdk"));
    expect(listed.packages).toEqual([
      expect.objectContaining({ name: "@sdk/kit", access: "restricted", latest: "1.0.0" }),
    ]);
    // Restricted packages are for members: anyone else sees the org without them.
    const anon = createPackrClient({ registry: registry.url });
    expect(S.OrgPackages.parse(await anon.orgs.packages("sdk")).packages).toEqual([]);

    const updated = S.OrgResponse.parse(await alice.orgs.update("sdk", { displayName: "SDK" }));
    expect(updated.org.displayName).toBe("SDK");

    expect(await alice.orgs.teams.packages.revoke("sdk", "core", "@sdk/kit")).toEqual({ ok: true });
    expect(await alice.orgs.teams.members.remove("sdk", "core", "bob")).toEqual({ ok: true });
    expect(await alice.orgs.teams.delete("sdk", "core")).toEqual({ ok: true });
    expect(await alice.orgs.members.remove("sdk", "bob")).toEqual({ ok: true });
    expect(S.OrgDetailsResponse.parse(await alice.orgs.get("sdk")).org).toMatchObject({
      memberCount: 1,
      teamCount: 0,
    });
  });

  it("throws the registry's refusals as PackrApiError with code and status", async () => {
    await alice.orgs.create({ name: "refusals" });
    await alice.orgs.members.add("refusals", "bob", "maintainer");

    // A maintainer managing members.
    const forbidden = await bob.orgs.members
      .add("refusals", "alice", "reader")
      .catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(PackrApiError);
    expect(forbidden).toMatchObject({ status: 403, code: "FORBIDDEN" });
    expect(S.ErrorBody.parse((forbidden as PackrApiError).body).requestId).toBeTruthy();

    // A user who does not exist: 404 naming them.
    const missing = await alice.orgs.members
      .add("refusals", "no-such-user", "reader")
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: "NOT_FOUND" });
    expect((missing as PackrApiError).message).toContain("no-such-user");

    // The last admin cannot be demoted.
    await expect(alice.orgs.members.setRole("refusals", "alice", "reader")).rejects.toMatchObject({
      status: 409,
      code: "CONFLICT",
    });
    // The same slug in another letter case.
    await expect(bob.orgs.create({ name: "Refusals" })).rejects.toMatchObject({
      status: 409,
      code: "CONFLICT",
    });
    // No token.
    const anon = createPackrClient({ registry: registry.url });
    await expect(anon.orgs.mine()).rejects.toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    // Names that could reach another route are refused before any request.
    await expect(alice.orgs.members.remove("refusals", "..")).rejects.toBeInstanceOf(TypeError);
    await expect(alice.orgs.get("")).rejects.toBeInstanceOf(TypeError);
  });
});
