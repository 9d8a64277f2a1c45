import validate from "validate-npm-package-name";
import {
  ORG_ROLES,
  type OrgRole,
  TEAM_PERMISSIONS,
  type TeamPermission,
} from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";

/** npm caps a whole name at 214 characters: `@` + scope + `/` + at least one character. */
const MAX_SLUG = 211;
const MAX_TEAM = 100;
const MAX_DISPLAY_NAME = 100;
const MAX_DESCRIPTION = 500;

/** A name as a refusal shows it: quoted, short, control characters escaped by JSON. */
export const shown = (raw: string): string =>
  JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw);

/**
 * An org slug from a caller: `acme`, `@acme` or `ACME` → `acme`. The slug *is* an npm scope, so it
 * must be one npm accepts for new packages (lower-case npm name characters, no leading dot or
 * underscore); letter case is folded because scopes are compared without it (an org `acme` owns
 * `@ACME/x` as well), and the database refuses a second org in another case anyway.
 */
export function parseOrgSlug(raw: string): string {
  const slug = raw.trim().replace(/^@/, "").toLowerCase();
  const refuse = (why: string): never => {
    throw new PackrError("VALIDATION", `${shown(raw)} is not a valid org name: ${why}.`);
  };
  if (slug.length === 0) refuse("it is empty");
  if (slug.length > MAX_SLUG) refuse(`an org name is at most ${MAX_SLUG} characters`);
  if (!/^[a-z0-9][a-z0-9._~-]*$/.test(slug) || !validate(`@${slug}/x`).validForNewPackages) {
    refuse("an org name is an npm scope: lower-case letters, digits, and - . _ ~ after the first");
  }
  return slug;
}

/**
 * A team name, as npm writes teams (`acme:frontend`, or just `frontend` inside an org): lower-case
 * letters, digits, `-`, `.` and `_`, starting with a letter or digit. `acme:frontend` is accepted
 * when its org part is the org in question.
 */
export function parseTeamName(raw: string, org: string): string {
  const colon = raw.indexOf(":");
  if (colon >= 0 && parseOrgSlug(raw.slice(0, colon)) !== org) {
    throw new PackrError(
      "VALIDATION",
      `${shown(raw)} names a team of another org; this request is about @${org}.`,
    );
  }
  const name = (colon >= 0 ? raw.slice(colon + 1) : raw).trim();
  if (name.length === 0 || name.length > MAX_TEAM || !/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new PackrError(
      "VALIDATION",
      `${shown(raw)} is not a valid team name: at most ${MAX_TEAM} lower-case letters, digits, and - . _ (not first).`,
    );
  }
  return name;
}

/** A user name as accounts have them (see users/login.ts); anything else cannot name a user. */
export function parseUserName(raw: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(raw)) {
    throw new PackrError("VALIDATION", `${shown(raw)} is not a valid user name.`);
  }
  return raw;
}

export function parseOrgRole(raw: string): OrgRole {
  if ((ORG_ROLES as readonly string[]).includes(raw)) return raw as OrgRole;
  throw new PackrError(
    "VALIDATION",
    `${shown(raw)} is not an org role; use one of ${ORG_ROLES.join(", ")}.`,
  );
}

export function parseTeamPermission(raw: string): TeamPermission {
  if ((TEAM_PERMISSIONS as readonly string[]).includes(raw)) return raw as TeamPermission;
  throw new PackrError(
    "VALIDATION",
    `${shown(raw)} is not a team permission; use read-only or read-write.`,
  );
}

/** An org's display name: trimmed, printable, at most 100 characters; empty means none. */
export const parseDisplayName = (raw: string | null | undefined): string | null =>
  parseLabel(raw, "A display name", MAX_DISPLAY_NAME);

/** A team's description: trimmed, printable, at most 500 characters; empty means none. */
export const parseTeamDescription = (raw: string | null | undefined): string | null =>
  parseLabel(raw, "A team description", MAX_DESCRIPTION);

function parseLabel(raw: string | null | undefined, what: string, max: number): string | null {
  if (raw === null || raw === undefined) return null;
  const value = raw.trim();
  if (value.length === 0) return null;
  if (value.length > max) {
    throw new PackrError(
      "VALIDATION",
      `${what} is at most ${max} characters (this one has ${value.length}).`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new PackrError("VALIDATION", `${what} may not contain control characters.`);
  }
  return value;
}
