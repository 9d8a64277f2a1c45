import validate from "validate-npm-package-name";
import { PackrError } from "../errors.ts";

export type PackageName = {
  /** `@scope/name` or `name` */
  name: string;
  /** scope without `@`, or null */
  scope: string | null;
  /** the part after the scope: the tarball file's prefix */
  basename: string;
};

const MAX_LENGTH = 214;

/**
 * Validate a package name as npm does, plus the checks a registry needs on names that arrive
 * through URLs: no control characters, no path segments, nothing that decodes into `..`. Errors
 * say what is wrong in the sentence npm prints.
 *
 * `"new"` applies npm's rules for new packages; `"existing"` (every read, every write) also
 * accepts the names npm still serves for old packages — capitals (`JSONStream`), core-module names
 * (`punycode`) — which a lockfile or a mirror can name. Who may create a package under such a
 * name is publish's decision (see publish-package.ts).
 */
export function parsePackageName(raw: string, rules: "new" | "existing" = "existing"): PackageName {
  // Every packument and tarball GET parses its name: remember the names that passed (a pure
  // function of the string), so the hot path skips npm's validator. Bounded; refusals never cached.
  const cache = parsed[rules];
  const hit = cache.get(raw);
  if (hit) return hit;
  const name = Object.freeze(validateName(raw, rules));
  if (cache.size >= PARSED_MAX) cache.clear();
  cache.set(raw, name);
  return name;
}

const PARSED_MAX = 10_000;
const parsed = { new: new Map<string, PackageName>(), existing: new Map<string, PackageName>() };

/**
 * Whether npm would accept this name for a new package today. False for the names npm serves only
 * for old packages: capitals (`JSONStream`), core-module names (`punycode`).
 */
export const isNewStyleName = (raw: string): boolean => validate(raw).validForNewPackages;

function validateName(raw: string, rules: "new" | "existing"): PackageName {
  const shown = JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
  const fail = (why: string): never => {
    throw new PackrError("INVALID_PACKAGE_NAME", `Invalid package name ${shown}: ${why}.`);
  };
  if (raw.length === 0) fail("it is empty");
  if (raw.length > MAX_LENGTH) fail(`it is longer than ${MAX_LENGTH} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\u0000-\u001f\u007f]/.test(raw)) fail("it contains control characters");
  const result = validate(raw);
  if (!(rules === "new" ? result.validForNewPackages : result.validForOldPackages)) {
    fail([...(result.errors ?? []), ...(result.warnings ?? [])].join("; ") || "npm rejects it");
  }
  if (raw.startsWith("@")) {
    const slash = raw.indexOf("/");
    const scope = raw.slice(1, slash);
    const basename = raw.slice(slash + 1);
    if (slash < 2 || !basename || basename.includes("/")) fail("a scoped name is @scope/name");
    if (scope === "." || scope === ".." || basename === "." || basename === "..")
      fail("it is a path segment");
    return { name: raw, scope, basename };
  }
  if (raw.includes("/")) fail("only scoped names may contain a slash");
  return { name: raw, scope: null, basename: raw };
}

/** `@acme` or `acme` → `acme`; used for token scope restrictions. */
export const normalizeScope = (s: string): string => s.replace(/^@/, "").toLowerCase();
