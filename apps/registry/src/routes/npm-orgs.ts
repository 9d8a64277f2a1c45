import {
  addOrgMember,
  addTeamMember,
  createTeam,
  deleteTeam,
  grantTeamPackage,
  listOrgMembers,
  listTeamMembers,
  listTeamPackages,
  listTeams,
  PackrError,
  removeOrgMember,
  removeTeamMember,
  revokeTeamPackage,
  setOrgMemberRole,
} from "@packr/core";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { readJson, SMALL_BODY } from "../read-json.ts";

/**
 * npm's own `org`, `team` and `access grant|revoke` endpoints (libnpmorg, libnpmteam,
 * libnpmaccess), as thin adapters over the org verbs of core: parse npm's body, map npm's role
 * names onto Packr's, call one verb, and answer in the shape npm reads. Who may do what is decided
 * in core.
 *
 *   npm org set|rm|ls            PUT|DELETE|GET /-/org/<org>/user
 *   npm team create|ls <org>     PUT|GET        /-/org/<org>/team
 *   npm team destroy             DELETE         /-/team/<org>/<team>
 *   npm team add|rm|ls <team>    PUT|DELETE|GET /-/team/<org>/<team>/user
 *   npm access grant|revoke      PUT|DELETE     /-/team/<org>/<team>/package
 *   npm access list packages <org:team>  GET    /-/team/<org>/<team>/package
 */

const smallBody = bodyLimit({
  maxSize: SMALL_BODY,
  onError: () => {
    throw new PackrError(
      "PAYLOAD_TOO_LARGE",
      `This request carries a few JSON fields; its body may be at most ${SMALL_BODY} bytes.`,
    );
  },
});

const noCache = { "Cache-Control": "private, no-cache" };

/**
 * npm's org roles onto Packr's: npm has owner, admin and developer (`npm org set` sends
 * `developer` when none is given); Packr has admin, maintainer and reader. npm's owner and admin
 * both manage the org, so both are Packr's admin; a developer publishes, as a maintainer does.
 * Packr's own names pass as they are, for clients other than npm (npm itself refuses any role
 * but its three before it sends anything, so a reader is made with packr-cli or the dashboard).
 */
const ROLE_FROM_NPM = {
  owner: "admin",
  admin: "admin",
  developer: "maintainer",
  maintainer: "maintainer",
  reader: "reader",
} as const;

const name = z.string().min(1).max(214);

const OrgUserBody = z.object({
  user: name,
  role: z
    .enum(Object.keys(ROLE_FROM_NPM) as [keyof typeof ROLE_FROM_NPM], {
      error: "a role is npm's owner, admin or developer, or Packr's admin, maintainer or reader",
    })
    .optional()
    .default("developer"),
});
const UserBody = z.object({ user: name });
// libnpmteam sends `opts.description`, which npm fills from its own `description` setting (a
// boolean: show descriptions in search results) in some versions: only text is a description.
const TeamBody = z.object({ name, description: z.unknown().optional() });
const GrantBody = z.object({
  package: name,
  permissions: z.enum(["read-only", "read-write"], {
    error: "permissions is read-only or read-write",
  }),
});
const PackageBody = z.object({ package: name });

/** The body npm sent, checked against its schema; a VALIDATION sentence naming what is wrong. */
async function body<T extends z.ZodType>(
  c: Context<AppEnv>,
  schema: T,
  what: string,
): Promise<z.infer<T>> {
  const parsed = schema.safeParse(await readJson(c));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "body";
    throw new PackrError(
      "VALIDATION",
      `The ${what} body is not what npm sends: ${field}: ${issue?.message ?? "invalid"}.`,
    );
  }
  return parsed.data;
}

/** `@acme`, `acme` and `ACME` all name the org acme (npm strips the `@`; other clients may not). */
const orgParam = (c: Context<AppEnv>): string =>
  c.req.param("org")?.replace(/^@/, "").toLowerCase() ?? "";
const teamParam = (c: Context<AppEnv>): string => c.req.param("team") ?? "";
const userName = (user: string): string => user.replace(/^[~@]/, "");

export const npmOrgs = new Hono<AppEnv>()
  .use("/-/org/:org/user", smallBody)
  .use("/-/org/:org/team", smallBody)
  .use("/-/team/*", smallBody)
  // npm org ls <org> → {user: role}, in Packr's role names.
  .get("/-/org/:org/user", async (c) => {
    const members = await listOrgMembers({ ctx: c.get("ctx"), input: { org: orgParam(c) } });
    return c.json(Object.fromEntries(members.map((m) => [m.user, m.role])), 200, noCache);
  })
  // npm org set <org> <user> [role] → {org: {name, size}, user, role}; adds or changes the role.
  .put("/-/org/:org/user", async (c) => {
    const ctx = c.get("ctx");
    const org = orgParam(c);
    const b = await body(c, OrgUserBody, "org membership");
    const user = userName(b.user);
    const role = ROLE_FROM_NPM[b.role];
    const member = await setMembership(c, { org, user, role });
    const size = (await listOrgMembers({ ctx, input: { org } })).length;
    return c.json({ org: { name: org, size }, user, role: member.role }, 200);
  })
  // npm org rm <org> <user> (npm ignores the answer and lists the org after it).
  .delete("/-/org/:org/user", async (c) => {
    const org = orgParam(c);
    const b = await body(c, UserBody, "org membership");
    await removeOrgMember({ ctx: c.get("ctx"), input: { org, user: userName(b.user) } });
    return c.json({ ok: true, org, user: userName(b.user) }, 200);
  })
  // npm team ls <org> → ["org:team", …] (npm prints each with an @).
  .get("/-/org/:org/team", async (c) => {
    const org = orgParam(c);
    const teams = await listTeams({ ctx: c.get("ctx"), input: { org } });
    return c.json(
      teams.map((t) => `${org}:${t.name}`),
      200,
      noCache,
    );
  })
  // npm team create <org:team>
  .put("/-/org/:org/team", async (c) => {
    const org = orgParam(c);
    const b = await body(c, TeamBody, "team");
    const description = typeof b.description === "string" ? b.description : undefined;
    const team = await createTeam({
      ctx: c.get("ctx"),
      input: { org, team: b.name, ...(description ? { description } : {}) },
    });
    return c.json(
      { name: `${org}:${team.name}`, description: team.description ?? null, created: true },
      201,
    );
  })
  // npm team destroy <org:team>
  .delete("/-/team/:org/:team", async (c) => {
    const org = orgParam(c);
    const team = teamParam(c);
    await deleteTeam({ ctx: c.get("ctx"), input: { org, team } });
    return c.json({ ok: true, name: `${org}:${team}`, deleted: true }, 200);
  })
  // npm team ls <org:team> → ["user", …]
  .get("/-/team/:org/:team/user", async (c) => {
    const members = await listTeamMembers({
      ctx: c.get("ctx"),
      input: { org: orgParam(c), team: teamParam(c) },
    });
    return c.json(
      members.map((m) => m.user),
      200,
      noCache,
    );
  })
  // npm team add <org:team> <user>
  .put("/-/team/:org/:team/user", async (c) => {
    const org = orgParam(c);
    const team = teamParam(c);
    const user = userName((await body(c, UserBody, "team membership")).user);
    await addTeamMember({ ctx: c.get("ctx"), input: { org, team, user } });
    return c.json({ ok: true, team: `${org}:${team}`, user }, 201);
  })
  // npm team rm <org:team> <user> (a DELETE with a JSON body)
  .delete("/-/team/:org/:team/user", async (c) => {
    const org = orgParam(c);
    const team = teamParam(c);
    const user = userName((await body(c, UserBody, "team membership")).user);
    await removeTeamMember({ ctx: c.get("ctx"), input: { org, team, user } });
    return c.json({ ok: true, team: `${org}:${team}`, user }, 200);
  })
  // npm access list packages <org:team> → {package: "read" | "write"} (npm prints read-only / read-write).
  .get("/-/team/:org/:team/package", async (c) => {
    const grants = await listTeamPackages({
      ctx: c.get("ctx"),
      input: { org: orgParam(c), team: teamParam(c) },
    });
    return c.json(
      Object.fromEntries(
        grants.map((g) => [g.name, g.permission === "read-write" ? "write" : "read"]),
      ),
      200,
      noCache,
    );
  })
  // npm access grant <read-only|read-write> <org:team> <package>
  .put("/-/team/:org/:team/package", async (c) => {
    const org = orgParam(c);
    const team = teamParam(c);
    const b = await body(c, GrantBody, "team access");
    await grantTeamPackage({
      ctx: c.get("ctx"),
      input: { org, team, package: b.package, permission: b.permissions },
    });
    return c.json(
      { ok: true, team: `${org}:${team}`, package: b.package, permissions: b.permissions },
      201,
    );
  })
  // npm access revoke <org:team> <package> (a DELETE with a JSON body)
  .delete("/-/team/:org/:team/package", async (c) => {
    const org = orgParam(c);
    const team = teamParam(c);
    const b = await body(c, PackageBody, "team access");
    await revokeTeamPackage({ ctx: c.get("ctx"), input: { org, team, package: b.package } });
    return c.json({ ok: true, team: `${org}:${team}`, package: b.package }, 200);
  });

/**
 * `npm org set` both adds a member and changes a member's role: add, and when the user is
 * already a member, set the role instead (both verbs check that the caller is an admin first).
 */
async function setMembership(
  c: Context<AppEnv>,
  input: { org: string; user: string; role: "admin" | "maintainer" | "reader" },
): Promise<{ role: string }> {
  const ctx = c.get("ctx");
  try {
    await addOrgMember({ ctx, input });
  } catch (err) {
    if (err instanceof PackrError && err.code === "NOT_FOUND" && isOrgNotFound(err)) {
      // npm has no command that creates an org: say where one is made. The sentence stays the
      // same for an org that exists but is not the caller's, so it tells a non-member nothing.
      throw new PackrError(
        "NOT_FOUND",
        `${err.message} npm cannot create orgs: create it in the dashboard, or with packr-cli org create ${input.org}.`,
        { details: err.details },
      );
    }
    if (!(err instanceof PackrError) || err.code !== "CONFLICT") throw err;
    await setOrgMemberRole({ ctx, input });
  }
  return { role: input.role };
}

/** The org verbs' 404 for an org the caller may not see (missing, or not theirs). */
const isOrgNotFound = (err: PackrError): boolean => err.message.startsWith("There is no org @");
