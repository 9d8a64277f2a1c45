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
import { z } from "zod";
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

describe("the schemas and the registry's OpenAPI document", () => {
  it("name the same fields, required alike, for every org document and body", async () => {
    const doc = (await (await fetch(`${registry.url}/openapi.json`)).json()) as {
      components: { schemas: Record<string, unknown> };
    };
    // OpenAPI component (the registry's name) → this package's schema.
    const pairs: Record<string, z.ZodObject> = {
      Org: S.Org,
      OrgDetail: S.OrgDetails,
      OrgList: S.OrgList,
      OrgCreated: S.OrgResponse,
      OrgDetailResponse: S.OrgDetailsResponse,
      OrgMember: S.OrgMember,
      OrgMemberList: S.OrgMemberList,
      OrgMemberResponse: S.OrgMemberResponse,
      Team: S.Team,
      TeamList: S.TeamList,
      TeamResponse: S.TeamResponse,
      TeamMember: S.TeamMember,
      TeamMemberList: S.TeamMemberList,
      TeamMemberResponse: S.TeamMemberResponse,
      TeamGrant: S.TeamPackage,
      TeamGrantList: S.TeamPackageList,
      TeamGrantResponse: S.TeamPackageResponse,
      OrgPackages: S.OrgPackages,
      Ok: S.Ok,
      CreateOrg: S.CreateOrgBody,
      UpdateOrg: S.UpdateOrgBody,
      AddOrgMember: S.AddOrgMemberBody,
      SetOrgRole: S.SetOrgRoleBody,
      CreateTeam: S.CreateTeamBody,
      AddTeamMember: S.AddTeamMemberBody,
      Grant: S.GrantBody,
    };
    type Served = { properties?: object; required?: string[]; allOf?: Served[]; $ref?: string };
    const schemas = doc.components.schemas as Record<string, Served>;
    // An extended schema is served as allOf [$ref base, {extra fields}]: merge it into one object.
    const flat = (x: Served | undefined): Served => {
      if (!x) return {};
      if (x.$ref) return flat(schemas[x.$ref.replace("#/components/schemas/", "")]);
      const parts = [x, ...(x.allOf ?? []).map(flat)];
      return {
        properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})),
        required: parts.flatMap((p) => p.required ?? []),
      };
    };
    for (const [name, schema] of Object.entries(pairs)) {
      expect(schemas[name], name).toBeDefined();
      const served = flat(schemas[name]);
      const ours = z.toJSONSchema(schema, { io: "input" }) as {
        properties?: object;
        required?: string[];
      };
      expect(Object.keys(served.properties ?? {}).sort(), name).toEqual(
        Object.keys(ours.properties ?? {}).sort(),
      );
      expect([...new Set(served.required)].sort(), name).toEqual([...(ours.required ?? [])].sort());
    }
  });
});
