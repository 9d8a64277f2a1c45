import { createHash } from "node:crypto";
import { and, asc, eq } from "drizzle-orm";
import semver from "semver";
import { readTarball } from "../analysis/read-tarball.ts";
import type { ServiceContext, TokenActor } from "../context.ts";
import { distTags, packages, users, versions } from "../db/schema/index.ts";
import { isPackrError } from "../errors.ts";
import { publishPackage } from "./publish-package.ts";

/**
 * The packages Packr serves of itself, so `npx --registry <packr> packr-cli login` and the MCP
 * snippets work against any Packr, with nothing on a public registry. In dependency order.
 */
export const OWN_CLIENT_PACKAGES = [
  "@packr/agent-schemas",
  "@packr/agent",
  "@packr/mcp-server",
  "packr-cli",
] as const;

/** The scope of Packr's own packages: always Packr's, never looked up on an uplink. */
export const OWN_SCOPE = "packr";

/**
 * True for a name only Packr itself may answer: `packr-cli` and anything under `@packr/`. They are
 * never looked up on the uplink (the dependency-confusion guard): before a Packr has published its
 * own clients, `npx packr-cli` must be a 404, never someone else's package of that name from npmjs.
 */
export function isOwnClientName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === "packr-cli" || lower.startsWith(`@${OWN_SCOPE}/`);
}

export type OwnClientsResult =
  | { status: "done"; published: string[]; present: string[]; ignored: string[] }
  /** Nothing was published: no administrator to own the packages yet. */
  | { status: "no-owner"; published: []; present: []; ignored: string[] };

/**
 * Publish Packr's own client packages from their packed tarballs (what `pnpm pack` made at build)
 * through the normal publish path, as public packages owned by the oldest administrator.
 * Idempotent: a version that exists (published by an earlier start, or by another instance right
 * now) is left alone, so restarts and parallel instances neither fail nor duplicate; a newer
 * Packr publishes its new version, and an older one never moves `latest` backwards. Tarballs of
 * any other name are ignored: this path publishes Packr's own packages and nothing else.
 */
export async function publishOwnClients(
  ctx: ServiceContext,
  tarballs: readonly Uint8Array[],
): Promise<OwnClientsResult> {
  const packed: {
    name: string;
    version: string;
    manifest: Record<string, unknown>;
    bytes: Uint8Array;
  }[] = [];
  const ignored: string[] = [];
  for (const bytes of tarballs) {
    const manifest = await readManifest(bytes);
    const name = typeof manifest?.name === "string" ? manifest.name : undefined;
    const version = typeof manifest?.version === "string" ? manifest.version : undefined;
    if (
      !manifest ||
      !name ||
      !version ||
      !(OWN_CLIENT_PACKAGES as readonly string[]).includes(name)
    ) {
      ignored.push(name ? `${name}@${version ?? "?"}` : "(unreadable tarball)");
      continue;
    }
    packed.push({ name, version, manifest, bytes });
  }
  const order = (n: string) => (OWN_CLIENT_PACKAGES as readonly string[]).indexOf(n);
  packed.sort((a, b) => order(a.name) - order(b.name));

  const owner = await oldestAdmin(ctx);
  if (!owner) return { status: "no-owner", published: [], present: [], ignored };
  const actor: TokenActor = {
    type: "token",
    // No token exists: the audit rows name the administrator and this start-up path.
    tokenId: "packr:own-clients",
    tokenKind: "personal",
    userId: owner.id,
    userName: owner.name,
    userEmail: owner.email,
    isAdmin: true,
    role: "admin",
    permissions: ["read", "publish", "unpublish", "admin"],
    scopes: [],
    orgId: null,
  };
  const asOwner: ServiceContext = { ...ctx, actor };

  const published: string[] = [];
  const present: string[] = [];
  for (const p of packed) {
    const id = `${p.name}@${p.version}`;
    const existing = await existingVersion(ctx, p.name, p.version);
    if (existing.exists) {
      present.push(id);
      continue;
    }
    // `latest` moves forward only: an older Packr starting beside a newer one tags its version
    // `packr-older` rather than taking `latest` back.
    const tag = existing.latest && semver.gt(existing.latest, p.version) ? "packr-older" : "latest";
    try {
      const done = await publishPackage({
        ctx: asOwner,
        input: { name: p.name, body: publishBody(p, tag) },
      });
      // Idempotent: another instance published these very bytes a moment ago.
      (done.idempotent ? present : published).push(id);
    } catch (err) {
      // Another instance published the same version a moment ago (with other bytes, from
      // another build): that version is served, which is all this start needed.
      if (isPackrError(err) && err.code === "VERSION_EXISTS") {
        present.push(id);
        continue;
      }
      throw err;
    }
  }
  return { status: "done", published, present, ignored };
}

async function readManifest(bytes: Uint8Array): Promise<Record<string, unknown> | null> {
  try {
    const text = (await readTarball(bytes)).texts.get("package.json");
    const parsed: unknown = text ? JSON.parse(text) : null;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

async function oldestAdmin(ctx: ServiceContext) {
  const [row] = await ctx.deps.db
    .select({ id: users.id, name: users.name, email: users.email })
    .from(users)
    .where(eq(users.isAdmin, true))
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(1);
  return row ?? null;
}

/** Whether name@version was ever published here (a tombstone counts), and the current latest. */
async function existingVersion(
  ctx: ServiceContext,
  name: string,
  version: string,
): Promise<{ exists: boolean; latest: string | null }> {
  const [pkg] = await ctx.deps.db
    .select({ id: packages.id })
    .from(packages)
    .where(eq(packages.name, name));
  if (!pkg) return { exists: false, latest: null };
  const [row] = await ctx.deps.db
    .select({ version: versions.version })
    .from(versions)
    .where(and(eq(versions.packageId, pkg.id), eq(versions.version, version)));
  const [tag] = await ctx.deps.db
    .select({ version: distTags.version })
    .from(distTags)
    .where(and(eq(distTags.packageId, pkg.id), eq(distTags.tag, "latest")));
  return { exists: row !== undefined, latest: tag?.version ?? null };
}

/** The body `npm publish --access public` would PUT for this tarball. */
function publishBody(
  p: { name: string; version: string; manifest: Record<string, unknown>; bytes: Uint8Array },
  tag: string,
): Record<string, unknown> {
  const data = Buffer.from(p.bytes);
  const integrity = `sha512-${createHash("sha512").update(data).digest("base64")}`;
  const shasum = createHash("sha1").update(data).digest("hex");
  const file = `${p.name}-${p.version}.tgz`;
  return {
    _id: p.name,
    name: p.name,
    description: p.manifest.description,
    "dist-tags": { [tag]: p.version },
    access: "public",
    versions: {
      [p.version]: {
        ...p.manifest,
        _id: `${p.name}@${p.version}`,
        dist: { integrity, shasum, tarball: file },
      },
    },
    _attachments: {
      [file]: {
        content_type: "application/octet-stream",
        data: data.toString("base64"),
        length: data.length,
      },
    },
  };
}
