import { z } from "zod";

/**
 * The organization admin API (`/api/v1/admin/orgs…`, `/api/v1/admin/users/me/orgs`) and the public
 * `GET /api/v1/orgs/:slug/packages`: request bodies and response documents. `@packr/agent` types its
 * `orgs` calls with these; the registry can describe its routes with the same schemas.
 * Dates are ISO 8601 strings.
 */

/** A member's role in an org: `reader` installs, `maintainer` also publishes, `admin` also manages. */
export const OrgRole = z.enum(["reader", "maintainer", "admin"]);

/** What a team grant allows on one package of the org's scope. */
export const TeamPermission = z.enum(["read-only", "read-write"]);

export const Org = z.object({
  id: z.string(),
  /** The slug, which is the npm scope without its `@` (`acme` owns `@acme/*`). */
  name: z.string(),
  displayName: z.string().nullable(),
  createdAt: z.string(),
  /** The caller's role in the org; null when the caller is not a member (a platform admin). */
  role: OrgRole.nullable(),
});

export const OrgDetails = Org.extend({
  memberCount: z.number().int(),
  teamCount: z.number().int(),
  packageCount: z.number().int(),
});

export const OrgList = z.object({ orgs: z.array(Org) });
export const OrgResponse = z.object({ org: Org });
export const OrgDetailsResponse = z.object({ org: OrgDetails });

export const OrgMember = z.object({ user: z.string(), role: OrgRole, addedAt: z.string() });
export const OrgMemberList = z.object({ members: z.array(OrgMember) });
export const OrgMemberResponse = z.object({ member: OrgMember });

export const Team = z.object({
  name: z.string(),
  description: z.string().nullable(),
  memberCount: z.number().int(),
  packageCount: z.number().int(),
  createdAt: z.string(),
});
export const TeamList = z.object({ teams: z.array(Team) });
export const TeamResponse = z.object({ team: Team });

export const TeamMember = z.object({ user: z.string(), addedAt: z.string() });
export const TeamMemberList = z.object({ members: z.array(TeamMember) });
export const TeamMemberResponse = z.object({ member: TeamMember });

export const TeamPackage = z.object({ name: z.string(), permission: TeamPermission });
export const TeamPackageList = z.object({ packages: z.array(TeamPackage) });
export const TeamPackageResponse = z.object({ package: TeamPackage });

/** `GET /api/v1/orgs/:slug/packages`: public packages for everyone, restricted ones for members. */
export const OrgPackages = z.object({
  org: z.object({ name: z.string(), displayName: z.string().nullable() }),
  packages: z.array(
    z.object({
      name: z.string(),
      description: z.string().nullable(),
      access: z.enum(["public", "restricted"]),
      latest: z.string().nullable(),
      modifiedAt: z.string(),
    }),
  ),
});

/** What a DELETE answers. */
export const Ok = z.object({ ok: z.literal(true) });

export const CreateOrgBody = z.object({
  /** An npm scope, `@` optional. */
  name: z.string(),
  displayName: z.string().nullable().optional(),
});
/** A null display name clears it. */
export const UpdateOrgBody = z.object({ displayName: z.string().nullable() });
export const AddOrgMemberBody = z.object({ user: z.string(), role: OrgRole });
export const SetOrgRoleBody = z.object({ role: OrgRole });
export const CreateTeamBody = z.object({
  name: z.string(),
  description: z.string().nullable().optional(),
});
export const AddTeamMemberBody = z.object({ user: z.string() });
export const GrantBody = z.object({ permission: TeamPermission });

export type OrgRole = z.infer<typeof OrgRole>;
export type TeamPermission = z.infer<typeof TeamPermission>;
export type Org = z.infer<typeof Org>;
export type OrgDetails = z.infer<typeof OrgDetails>;
export type OrgList = z.infer<typeof OrgList>;
export type OrgResponse = z.infer<typeof OrgResponse>;
export type OrgDetailsResponse = z.infer<typeof OrgDetailsResponse>;
export type OrgMember = z.infer<typeof OrgMember>;
export type OrgMemberList = z.infer<typeof OrgMemberList>;
export type OrgMemberResponse = z.infer<typeof OrgMemberResponse>;
export type Team = z.infer<typeof Team>;
export type TeamList = z.infer<typeof TeamList>;
export type TeamResponse = z.infer<typeof TeamResponse>;
export type TeamMember = z.infer<typeof TeamMember>;
export type TeamMemberList = z.infer<typeof TeamMemberList>;
export type TeamMemberResponse = z.infer<typeof TeamMemberResponse>;
export type TeamPackage = z.infer<typeof TeamPackage>;
export type TeamPackageList = z.infer<typeof TeamPackageList>;
export type TeamPackageResponse = z.infer<typeof TeamPackageResponse>;
export type OrgPackages = z.infer<typeof OrgPackages>;
export type Ok = z.infer<typeof Ok>;
export type CreateOrgBody = z.infer<typeof CreateOrgBody>;
export type UpdateOrgBody = z.infer<typeof UpdateOrgBody>;
export type AddOrgMemberBody = z.infer<typeof AddOrgMemberBody>;
export type SetOrgRoleBody = z.infer<typeof SetOrgRoleBody>;
export type CreateTeamBody = z.infer<typeof CreateTeamBody>;
export type AddTeamMemberBody = z.infer<typeof AddTeamMemberBody>;
export type GrantBody = z.infer<typeof GrantBody>;
