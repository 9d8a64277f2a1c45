/**
 * npm writes several operations to the same URLs and tells them apart only by the body
 * (protocol §6). This picks which core verb a PUT goes to; each verb then reads only the fields
 * its operation may change, so a body dressed up as another kind can do no more than that kind.
 */
export type PackagePut = "publish" | "deprecate" | "star";
export type PackageRevPut = "unpublish" | "owners" | "unknown";

const STAR_KEYS = new Set(["_id", "_rev", "users"]);

/** `PUT /<name>`: publish (any `_attachments`), deprecate (a version carrying `deprecated`), or star. */
export function classifyPackagePut(body: unknown): PackagePut {
  if (!isRecord(body) || "_attachments" in body) return "publish";
  const versions = body.versions;
  if (isRecord(versions) && Object.values(versions).some((v) => isRecord(v) && "deprecated" in v))
    return "deprecate";
  if ("users" in body && Object.keys(body).every((k) => STAR_KEYS.has(k))) return "star";
  // Anything else is a malformed publish; publish's validation says what one needs.
  return "publish";
}

/** `PUT /<name>/-rev/<rev>`: the document minus versions (unpublish), or a maintainer list (owner). */
export function classifyPackageRevPut(body: unknown): PackageRevPut {
  if (!isRecord(body)) return "unknown";
  if (isRecord(body.versions)) return "unpublish";
  if (Array.isArray(body.maintainers)) return "owners";
  return "unknown";
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
