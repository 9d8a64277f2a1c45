import { createRoute } from "@hono/zod-openapi";
import {
  addOrgMember,
  addTeamMember,
  createOrg,
  createTeam,
  deleteOrg,
  deleteTeam,
  getOrg,
  grantTeamPackage,
  listMyOrgs,
  listOrgMembers,
  listOrgs,
  listPublicOrgPackages,
  listTeamMembers,
  listTeamPackages,
  listTeams,
  type OrgDetail,
  type OrgSummary,
  removeOrgMember,
  removeTeamMember,
  revokeTeamPackage,
  setOrgMemberRole,
  type TeamSummary,
  updateOrg,
} from "@packr/core";
import { errorResponses } from "../api-schemas.ts";
import * as S from "../org-schemas.ts";
import { adminSecurity, json, openApiApp } from "./openapi-app.ts";

/*
 * Organizations and teams: the admin API (`/api/v1/admin/orgs…`, mounted inside the admin app so
 * its authentication — sessions, the internal secret, tokens — applies) and the public list of an
 * org's packages. Thin: parse → core verb → wire shape. Who may do what is core's decision.
 */

const security = adminSecurity;
/** The public list: a token, or nobody (an empty requirement: anonymous callers are welcome). */
const tokenOrAnyone: Array<Record<string, string[]>> = [{ bearer: [] }, {}];
const tags = ["orgs"];
const BASE = "/api/v1/admin/orgs";
const ORG = `${BASE}/{slug}`;
const TEAM = `${ORG}/teams/{team}`;

const route = <M extends "get" | "post" | "patch" | "put" | "delete", P extends string>(
  method: M,
  path: P,
  summary: string,
) => ({ method, path, tags, summary, security });

const orgJson = (o: OrgSummary) => ({ ...o, createdAt: o.createdAt.toISOString() });
const orgDetailJson = (o: OrgDetail) => ({ ...o, createdAt: o.createdAt.toISOString() });
const teamJson = (t: TeamSummary) => ({ ...t, createdAt: t.createdAt.toISOString() });
const memberJson = <T extends { addedAt: Date }>(m: T) => ({
  ...m,
  addedAt: m.addedAt.toISOString(),
});

const listOrgsRoute = createRoute({
  ...route("get", BASE, "Orgs: every org for a platform admin, the caller's own for anyone else"),
  responses: { 200: { description: "Orgs", ...json(S.OrgList) }, ...errorResponses(401) },
});

const createOrgRoute = createRoute({
  ...route("post", BASE, "Create an org (a free npm scope); the caller becomes its admin"),
  request: { body: { ...json(S.CreateOrgBody), required: true } },
  responses: {
    201: { description: "Created", ...json(S.OrgCreated) },
    ...errorResponses(400, 401, 403, 409),
  },
});

const myOrgsRoute = createRoute({
  ...route("get", "/api/v1/admin/users/me/orgs", "The orgs the caller is a member of"),
  responses: { 200: { description: "Orgs", ...json(S.OrgList) }, ...errorResponses(401) },
});

const getOrgRoute = createRoute({
  ...route("get", ORG, "One org with its counts (members and platform admins; 404 for others)"),
  request: { params: S.SlugParam },
  responses: {
    200: { description: "The org", ...json(S.OrgDetailBody) },
    ...errorResponses(400, 401, 404),
  },
});

const updateOrgRoute = createRoute({
  ...route("patch", ORG, "Change the org's display name (org admins)"),
  request: { params: S.SlugParam, body: { ...json(S.UpdateOrgBody), required: true } },
  responses: {
    200: { description: "The org", ...json(S.OrgCreated) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const deleteOrgRoute = createRoute({
  ...route("delete", ORG, "Delete the org (org admins); 409 while its scope holds packages"),
  request: { params: S.SlugParam },
  responses: {
    200: { description: "Deleted", ...json(S.Ok) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const listMembersRoute = createRoute({
  ...route("get", `${ORG}/members`, "The org's members and their roles (any member)"),
  request: { params: S.SlugParam },
  responses: {
    200: { description: "Members", ...json(S.OrgMemberList) },
    ...errorResponses(400, 401, 404),
  },
});

const addMemberRoute = createRoute({
  ...route("post", `${ORG}/members`, "Add a user to the org with a role (org admins)"),
  request: { params: S.SlugParam, body: { ...json(S.AddOrgMemberBody), required: true } },
  responses: {
    201: { description: "Added", ...json(S.OrgMemberBody) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const setRoleRoute = createRoute({
  ...route("patch", `${ORG}/members/{user}`, "Change a member's role; 409 for the last admin"),
  request: { params: S.MemberParams, body: { ...json(S.SetOrgRoleBody), required: true } },
  responses: {
    200: { description: "The member", ...json(S.OrgMemberBody) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const removeMemberRoute = createRoute({
  ...route("delete", `${ORG}/members/{user}`, "Remove a member (and from the org's teams)"),
  request: { params: S.MemberParams },
  responses: {
    200: { description: "Removed", ...json(S.Ok) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const listTeamsRoute = createRoute({
  ...route("get", `${ORG}/teams`, "The org's teams (any member)"),
  request: { params: S.SlugParam },
  responses: {
    200: { description: "Teams", ...json(S.TeamList) },
    ...errorResponses(400, 401, 404),
  },
});

const createTeamRoute = createRoute({
  ...route("post", `${ORG}/teams`, "Create a team (org admins)"),
  request: { params: S.SlugParam, body: { ...json(S.CreateTeamBody), required: true } },
  responses: {
    201: { description: "Created", ...json(S.TeamBody) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const deleteTeamRoute = createRoute({
  ...route("delete", TEAM, "Delete a team with its memberships and grants (org admins)"),
  request: { params: S.TeamParams },
  responses: {
    200: { description: "Deleted", ...json(S.Ok) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const listTeamMembersRoute = createRoute({
  ...route("get", `${TEAM}/members`, "A team's members (any member of the org)"),
  request: { params: S.TeamParams },
  responses: {
    200: { description: "Members", ...json(S.TeamMemberList) },
    ...errorResponses(400, 401, 404),
  },
});

const addTeamMemberRoute = createRoute({
  ...route("post", `${TEAM}/members`, "Add a member of the org to the team (org admins)"),
  request: { params: S.TeamParams, body: { ...json(S.AddTeamMemberBody), required: true } },
  responses: {
    201: { description: "Added", ...json(S.TeamMemberBody) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const removeTeamMemberRoute = createRoute({
  ...route("delete", `${TEAM}/members/{user}`, "Take a user out of the team (org admins)"),
  request: { params: S.TeamMemberParams },
  responses: {
    200: { description: "Removed", ...json(S.Ok) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const listGrantsRoute = createRoute({
  ...route("get", `${TEAM}/packages`, "A team's package grants (any member of the org)"),
  request: { params: S.TeamParams },
  responses: {
    200: { description: "Grants", ...json(S.TeamGrantList) },
    ...errorResponses(400, 401, 404),
  },
});

const grantRoute = createRoute({
  ...route(
    "put",
    `${TEAM}/packages/{package}`,
    "Grant the team read-only or read-write on a package of the org's scope (org admins)",
  ),
  request: { params: S.TeamPackageParams, body: { ...json(S.GrantBody), required: true } },
  responses: {
    200: { description: "The grant", ...json(S.TeamGrantBody) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const revokeRoute = createRoute({
  ...route("delete", `${TEAM}/packages/{package}`, "Revoke the team's grant (org admins)"),
  request: { params: S.TeamPackageParams },
  responses: {
    200: { description: "Revoked", ...json(S.Ok) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const publicPackagesRoute = createRoute({
  ...route(
    "get",
    "/api/v1/orgs/{slug}/packages",
    "An org's packages: public ones for anyone, restricted ones too for its members (PACKR_READ_REQUIRES_AUTH applies)",
  ),
  security: tokenOrAnyone,
  request: { params: S.SlugParam },
  responses: {
    200: { description: "The org and its packages", ...json(S.OrgPackages) },
    ...errorResponses(400, 401, 404),
  },
});

/** The admin API's org and team routes; admin.ts mounts them behind its authentication. */
export const orgAdmin = openApiApp();
orgAdmin
  .openapi(listOrgsRoute, async (c) => {
    const orgs = await listOrgs({ ctx: c.get("ctx") });
    return c.json({ orgs: orgs.map(orgJson) }, 200);
  })
  .openapi(createOrgRoute, async (c) => {
    const org = await createOrg({ ctx: c.get("ctx"), input: c.req.valid("json") });
    return c.json({ org: orgJson(org) }, 201);
  })
  .openapi(myOrgsRoute, async (c) => {
    const orgs = await listMyOrgs({ ctx: c.get("ctx") });
    return c.json({ orgs: orgs.map(orgJson) }, 200);
  })
  .openapi(getOrgRoute, async (c) => {
    const org = await getOrg({ ctx: c.get("ctx"), input: { org: c.req.valid("param").slug } });
    return c.json({ org: orgDetailJson(org) }, 200);
  })
  .openapi(updateOrgRoute, async (c) => {
    const org = await updateOrg({
      ctx: c.get("ctx"),
      input: { org: c.req.valid("param").slug, displayName: c.req.valid("json").displayName },
    });
    return c.json({ org: orgJson(org) }, 200);
  })
  .openapi(deleteOrgRoute, async (c) => {
    const r = await deleteOrg({ ctx: c.get("ctx"), input: { org: c.req.valid("param").slug } });
    return c.json(r, 200);
  })
  .openapi(listMembersRoute, async (c) => {
    const members = await listOrgMembers({
      ctx: c.get("ctx"),
      input: { org: c.req.valid("param").slug },
    });
    return c.json({ members: members.map(memberJson) }, 200);
  })
  .openapi(addMemberRoute, async (c) => {
    const member = await addOrgMember({
      ctx: c.get("ctx"),
      input: { org: c.req.valid("param").slug, ...c.req.valid("json") },
    });
    return c.json({ member: memberJson(member) }, 201);
  })
  .openapi(setRoleRoute, async (c) => {
    const { slug, user } = c.req.valid("param");
    const member = await setOrgMemberRole({
      ctx: c.get("ctx"),
      input: { org: slug, user, role: c.req.valid("json").role },
    });
    return c.json({ member: memberJson(member) }, 200);
  })
  .openapi(removeMemberRoute, async (c) => {
    const { slug, user } = c.req.valid("param");
    const r = await removeOrgMember({ ctx: c.get("ctx"), input: { org: slug, user } });
    return c.json(r, 200);
  })
  .openapi(listTeamsRoute, async (c) => {
    const teams = await listTeams({ ctx: c.get("ctx"), input: { org: c.req.valid("param").slug } });
    return c.json({ teams: teams.map(teamJson) }, 200);
  })
  .openapi(createTeamRoute, async (c) => {
    const body = c.req.valid("json");
    const team = await createTeam({
      ctx: c.get("ctx"),
      input: { org: c.req.valid("param").slug, team: body.name, description: body.description },
    });
    return c.json({ team: teamJson(team) }, 201);
  })
  .openapi(deleteTeamRoute, async (c) => {
    const { slug, team } = c.req.valid("param");
    const r = await deleteTeam({ ctx: c.get("ctx"), input: { org: slug, team } });
    return c.json(r, 200);
  })
  .openapi(listTeamMembersRoute, async (c) => {
    const { slug, team } = c.req.valid("param");
    const members = await listTeamMembers({ ctx: c.get("ctx"), input: { org: slug, team } });
    return c.json({ members: members.map(memberJson) }, 200);
  })
  .openapi(addTeamMemberRoute, async (c) => {
    const { slug, team } = c.req.valid("param");
    const member = await addTeamMember({
      ctx: c.get("ctx"),
      input: { org: slug, team, user: c.req.valid("json").user },
    });
    return c.json({ member: memberJson(member) }, 201);
  })
  .openapi(removeTeamMemberRoute, async (c) => {
    const { slug, team, user } = c.req.valid("param");
    const r = await removeTeamMember({ ctx: c.get("ctx"), input: { org: slug, team, user } });
    return c.json(r, 200);
  })
  .openapi(listGrantsRoute, async (c) => {
    const { slug, team } = c.req.valid("param");
    const packages = await listTeamPackages({ ctx: c.get("ctx"), input: { org: slug, team } });
    return c.json({ packages }, 200);
  })
  .openapi(grantRoute, async (c) => {
    const { slug, team, package: pkg } = c.req.valid("param");
    const grant = await grantTeamPackage({
      ctx: c.get("ctx"),
      input: { org: slug, team, package: pkg, permission: c.req.valid("json").permission },
    });
    return c.json({ package: grant }, 200);
  })
  .openapi(revokeRoute, async (c) => {
    const { slug, team, package: pkg } = c.req.valid("param");
    const r = await revokeTeamPackage({
      ctx: c.get("ctx"),
      input: { org: slug, team, package: pkg },
    });
    return c.json(r, 200);
  });

/** `GET /api/v1/orgs/:slug/packages`: outside the admin API (tokens or anonymous, like reads). */
export const orgPackagesApi = openApiApp();
orgPackagesApi.openapi(publicPackagesRoute, async (c) => {
  const r = await listPublicOrgPackages({
    ctx: c.get("ctx"),
    input: { org: c.req.valid("param").slug },
  });
  return c.json(
    {
      org: r.org,
      packages: r.packages.map((p) => ({ ...p, modifiedAt: p.modifiedAt.toISOString() })),
    },
    200,
  );
});
