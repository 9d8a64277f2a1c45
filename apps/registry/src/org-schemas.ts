import { z } from "@hono/zod-openapi";
import { ORG_ROLES, TEAM_PERMISSIONS } from "@packr/core";

/**
 * The wire shapes of the org and team routes (admin API and the public org packages list), shared
 * by the routes and `GET /openapi.json`. Lengths here only keep absurd input out; the names' rules
 * (npm scopes, npm team names, user names) are core's, which answers with a sentence.
 */

const OrgRole = z.enum(ORG_ROLES).openapi({ description: "reader | maintainer | admin" });
const TeamPermission = z.enum(TEAM_PERMISSIONS);
const when = z.string().datetime();

export const OrgSummary = z
  .object({
    id: z.string(),
    name: z.string().openapi({ example: "acme", description: "The npm scope, without @" }),
    displayName: z.string().nullable(),
    createdAt: when,
    role: OrgRole.nullable().openapi({
      description: "The caller's role in the org; null for a platform admin who is not a member",
    }),
  })
  .openapi("Org");

export const OrgDetail = OrgSummary.extend({
  memberCount: z.number().int(),
  teamCount: z.number().int(),
  packageCount: z
    .number()
    .int()
    .openapi({ description: "Packages of the scope with a live version" }),
}).openapi("OrgDetail");

export const OrgList = z.object({ orgs: z.array(OrgSummary) }).openapi("OrgList");
export const OrgCreated = z.object({ org: OrgSummary }).openapi("OrgCreated");
export const OrgDetailBody = z.object({ org: OrgDetail }).openapi("OrgDetailResponse");

export const CreateOrgBody = z
  .object({
    name: z
      .string()
      .max(300)
      .openapi({ example: "acme", description: "An npm scope (@ optional)" }),
    displayName: z.string().max(300).nullable().optional().openapi({ example: "Acme Inc." }),
  })
  .openapi("CreateOrg");

export const UpdateOrgBody = z
  .object({ displayName: z.string().max(300).nullable() })
  .openapi("UpdateOrg");

export const OrgMember = z
  .object({ user: z.string(), role: OrgRole, addedAt: when })
  .openapi("OrgMember");
export const OrgMemberList = z.object({ members: z.array(OrgMember) }).openapi("OrgMemberList");
export const OrgMemberBody = z.object({ member: OrgMember }).openapi("OrgMemberResponse");

export const AddOrgMemberBody = z
  .object({ user: z.string().max(300).openapi({ example: "bob" }), role: OrgRole })
  .openapi("AddOrgMember");
export const SetOrgRoleBody = z.object({ role: OrgRole }).openapi("SetOrgRole");

export const Team = z
  .object({
    name: z.string().openapi({ example: "frontend" }),
    description: z.string().nullable(),
    memberCount: z.number().int(),
    packageCount: z.number().int(),
    createdAt: when,
  })
  .openapi("Team");
export const TeamList = z.object({ teams: z.array(Team) }).openapi("TeamList");
export const TeamBody = z.object({ team: Team }).openapi("TeamResponse");
export const CreateTeamBody = z
  .object({
    name: z.string().max(300).openapi({ example: "frontend" }),
    description: z.string().max(1000).nullable().optional(),
  })
  .openapi("CreateTeam");

export const TeamMember = z.object({ user: z.string(), addedAt: when }).openapi("TeamMember");
export const TeamMemberList = z.object({ members: z.array(TeamMember) }).openapi("TeamMemberList");
export const TeamMemberBody = z.object({ member: TeamMember }).openapi("TeamMemberResponse");
export const AddTeamMemberBody = z
  .object({ user: z.string().max(300).openapi({ example: "bob" }) })
  .openapi("AddTeamMember");

export const TeamGrant = z
  .object({ name: z.string().openapi({ example: "@acme/ui" }), permission: TeamPermission })
  .openapi("TeamGrant");
export const TeamGrantList = z.object({ packages: z.array(TeamGrant) }).openapi("TeamGrantList");
export const TeamGrantBody = z.object({ package: TeamGrant }).openapi("TeamGrantResponse");
export const GrantBody = z.object({ permission: TeamPermission }).openapi("Grant");

export const Ok = z.object({ ok: z.literal(true) }).openapi("Ok");

export const OrgPackages = z
  .object({
    org: z.object({ name: z.string(), displayName: z.string().nullable() }),
    packages: z.array(
      z.object({
        name: z.string(),
        description: z.string().nullable(),
        access: z.enum(["public", "restricted"]),
        latest: z.string().nullable(),
        modifiedAt: when,
      }),
    ),
  })
  .openapi("OrgPackages");

/** Path parameters: generous lengths, so core (not zod) explains a bad name. */
const param = (name: string, example: string, description?: string) =>
  z
    .string()
    .min(1)
    .max(1000)
    .openapi({ param: { name, in: "path" }, example, ...(description ? { description } : {}) });

export const SlugParam = z.object({ slug: param("slug", "acme", "The org (its npm scope)") });
export const MemberParams = SlugParam.extend({ user: param("user", "bob") });
export const TeamParams = SlugParam.extend({ team: param("team", "frontend") });
export const TeamMemberParams = TeamParams.extend({ user: param("user", "bob") });
export const TeamPackageParams = TeamParams.extend({
  package: param("package", "%40acme%2Fui", "The package name, URL-encoded"),
});
