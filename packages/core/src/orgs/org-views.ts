import type { OrgRole, TeamPermission } from "../db/schema/index.ts";

/*
 * What the org verbs answer: the shapes of the admin API (dates as Date; transports format them).
 */

/** An org in a list: the caller's role in it, null for a platform admin who is not a member. */
export type OrgSummary = {
  id: string;
  name: string;
  displayName: string | null;
  createdAt: Date;
  role: OrgRole | null;
};

export type OrgDetail = OrgSummary & {
  memberCount: number;
  teamCount: number;
  /** Packages of the org's scope with at least one live version. */
  packageCount: number;
};

export type OrgMember = { user: string; role: OrgRole; addedAt: Date };

export type TeamSummary = {
  name: string;
  description: string | null;
  memberCount: number;
  packageCount: number;
  createdAt: Date;
};

export type TeamMember = { user: string; addedAt: Date };

export type TeamGrant = { name: string; permission: TeamPermission };

export type OrgPackage = {
  name: string;
  description: string | null;
  access: "public" | "restricted";
  /** The `latest` dist-tag, or null when the package has none. */
  latest: string | null;
  modifiedAt: Date;
};

export type OrgPackages = {
  org: { name: string; displayName: string | null };
  packages: OrgPackage[];
};
