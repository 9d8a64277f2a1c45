import validate from "validate-npm-package-name";
import { PackrError } from "../errors.ts";

const MAX_SCOPE = 214;

const shown = (raw: string): string =>
  JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw);

/**
 * A hook's scope from a caller, or null (no scope: every event the owner may read). Accepted, with
 * letter case folded (npm compares scopes without it):
 * - `@acme` — the packages of the scope and, for org events, the org acme;
 * - `name` or `@acme/name` — one package;
 * - a glob with `*` (`@acme/ui-*`, `eslint-plugin-*`) — the packages it matches; `*`
 *   never crosses the `/` of a scoped name.
 * Empty or blank text is null. Throws VALIDATION with a sentence for anything else.
 */
export function parseHookScope(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const scope = text.trim().toLowerCase().replace(/[*]+/g, "*");
  if (scope.length === 0) return null;
  const refuse = (why: string): never => {
    throw new PackrError("VALIDATION", `${shown(text)} is not a valid webhook scope: ${why}.`);
  };
  if (scope.length > MAX_SCOPE) refuse(`a scope is at most ${MAX_SCOPE} characters`);
  const usage =
    "use @scope, a package name (@scope/name or name) or a glob of package names with * (@scope/ui-*)";
  if (scope.startsWith("@") && !scope.includes("/")) {
    // A whole npm scope: no glob here (`@acme-*` would be a pattern over scope names).
    if (!/^@[a-z0-9][a-z0-9._~-]*$/.test(scope) || !validate(`${scope}/x`).validForOldPackages) {
      refuse(usage);
    }
    return scope;
  }
  const parts = scope.startsWith("@") ? scope.slice(1).split("/") : [scope];
  if (parts.length > 2 || parts.some((p) => p.length === 0)) refuse(usage);
  if (!parts.every((p) => /^[a-z0-9._~*-]+$/.test(p))) refuse(usage);
  if (!scope.includes("*")) {
    if (!validate(scope).validForOldPackages) refuse(`it is not a valid package name; ${usage}`);
  } else if (scope.replace(/[*@/]/g, "").length === 0 && scope !== "*" && scope !== "@*/*") {
    refuse(usage);
  }
  return scope;
}

const globCache = new Map<string, RegExp>();

function globRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    const body = glob
      .split("*")
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^/]*");
    re = new RegExp(`^${body}$`);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(glob, re);
  }
  return re;
}

/**
 * Does an event fall inside a hook's scope? A null scope matches everything. A scope `@acme`
 * matches the packages of the scope `@acme` and, for events about no package, the org acme's org events. A
 * package name or glob matches only events about a package of that name. An event about neither a
 * package nor an org (token events) matches only a null scope.
 */
export function hookScopeMatches(
  scope: string | null,
  packageName: string | null,
  orgName: string | null,
): boolean {
  if (scope === null) return true;
  const s = scope.toLowerCase();
  const pkg = packageName?.toLowerCase() ?? null;
  if (s.startsWith("@") && !s.includes("/")) {
    if (pkg !== null) return pkg.startsWith(`${s}/`);
    return orgName !== null && `@${orgName.toLowerCase().replace(/^@/, "")}` === s;
  }
  if (pkg === null) return false;
  return s.includes("*") ? globRegExp(s).test(pkg) : pkg === s;
}
