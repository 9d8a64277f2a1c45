import { PackrError } from "../errors.ts";

/*
 * MINIMAL STAND-IN written by s/hooks-delivery so fan-out can match scopes before s/hooks-api
 * merges; the contract gives s/hooks-api this file, and its version is the one to keep.
 */

/** `@acme`, `name`, `@acme/name`, or a glob with `*`; null (or empty) = everything. */
export function parseHookScope(text: string | null | undefined): string | null {
  if (text === null || text === undefined || text.trim() === "") return null;
  const scope = text.trim().toLowerCase();
  if (!/^(@[a-z0-9*][a-z0-9._~*-]*)(\/[a-z0-9._~*-]+)?$|^[a-z0-9._~*-]+$/.test(scope)) {
    throw new PackrError(
      "VALIDATION",
      `"${scope.slice(0, 80)}" is not a hook scope: use @scope, a package name, or a glob such as @acme/ui-*.`,
    );
  }
  return scope;
}

const globToRegExp = (glob: string) =>
  new RegExp(
    `^${glob
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
      .join(".*")}$`,
  );

/**
 * Whether a hook's scope covers an event: null covers everything; `@acme` covers `@acme/*`
 * packages and org acme's own events; a package name or glob covers only package events.
 */
export function hookScopeMatches(
  scope: string | null,
  packageName: string | null,
  orgName: string | null,
): boolean {
  if (scope === null) return true;
  const s = scope.toLowerCase();
  if (s.startsWith("@") && !s.includes("/") && !s.includes("*")) {
    if (packageName !== null) return packageName.toLowerCase().startsWith(`${s}/`);
    return orgName !== null && `@${orgName.toLowerCase()}` === s;
  }
  if (packageName === null) return false;
  return globToRegExp(s).test(packageName.toLowerCase());
}
