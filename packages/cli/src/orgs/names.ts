import { usageError } from "../errors.ts";

/**
 * The names the org, team and access commands take, checked before any request so that a typo is a
 * usage error (exit 2) naming the argument, not a registry 404. What the registry alone can judge
 * (whether the org exists, whether a name is taken) is left to it.
 */

/** One name segment: what an npm scope, team or user name may contain (the registry checks more). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;
const MAX = 214;

/** `@acme` or `acme` → `acme` (the org's slug, its npm scope without the `@`). */
export function parseOrg(value: string, what = "<org>"): string {
  const slug = value.startsWith("@") ? value.slice(1) : value;
  if (slug.includes(":")) {
    throw usageError(
      `${what} is an org such as @acme; "${value}" names a team (org:team), which this command does not take.`,
    );
  }
  if (!NAME.test(slug) || slug.length > MAX) {
    throw usageError(`${what} must be an org such as @acme or acme, got "${value}".`);
  }
  return slug;
}

export type TeamRef = { org: string; team: string };

/** `acme:frontend` or `@acme:frontend` → {org: "acme", team: "frontend"}, as npm spells a team. */
export function parseTeam(value: string, what = "<org:team>"): TeamRef {
  const at = value.indexOf(":");
  if (at < 0) {
    throw usageError(
      `${what} names a team as org:team, such as acme:frontend; got "${value}" with no ":team".`,
    );
  }
  const org = parseOrg(value.slice(0, at), what);
  const team = value.slice(at + 1);
  if (!NAME.test(team) || team.length > MAX) {
    throw usageError(
      `${what} names a team as org:team, such as acme:frontend; "${team}" is not a team name.`,
    );
  }
  return { org, team };
}

/** `acme` → an org, `acme:frontend` → a team (for `team ls`, which lists either). */
export function parseOrgOrTeam(value: string, what: string): TeamRef | { org: string } {
  return value.includes(":") ? parseTeam(value, what) : { org: parseOrg(value, what) };
}

export function parseUser(value: string, what = "<user>"): string {
  // npm prints users as @name in places; take that spelling too.
  const name = value.startsWith("@") ? value.slice(1) : value;
  if (!NAME.test(name) || name.length > MAX) {
    throw usageError(`${what} must be a user name such as alice, got "${value}".`);
  }
  return name;
}

export const ORG_ROLES = ["reader", "maintainer", "admin"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/** npm's role names (`npm org set`), mapped onto Packr's as the registry maps them. */
const NPM_ROLES: Record<string, OrgRole> = {
  developer: "maintainer",
  owner: "admin",
};

/** `reader|maintainer|admin`, or npm's `developer` (→ maintainer) and `owner` (→ admin). */
export function parseOrgRole(value: string, what = "<role>"): OrgRole {
  const v = value.toLowerCase();
  const role = (ORG_ROLES as readonly string[]).includes(v) ? (v as OrgRole) : NPM_ROLES[v];
  if (!role) {
    throw usageError(
      `${what} must be reader, maintainer or admin (npm's developer and owner are taken too), got "${value}".`,
    );
  }
  return role;
}

export const PERMISSIONS = ["read-only", "read-write"] as const;
export type Permission = (typeof PERMISSIONS)[number];

export function parsePermission(value: string): Permission {
  if (!(PERMISSIONS as readonly string[]).includes(value)) {
    throw usageError(`The permission must be read-only or read-write, got "${value}".`);
  }
  return value as Permission;
}

/** A package name as npm writes it: `name` or `@scope/name`. */
export function parsePackage(value: string): string {
  const m = /^(?:@([^/]+)\/)?([^/@][^/]*)$/.exec(value);
  if (!m || value.length > MAX || /\s/.test(value)) {
    throw usageError(`<pkg> must be a package name such as @acme/ui, got "${value}".`);
  }
  return value;
}
