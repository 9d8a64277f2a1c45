import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { and, eq } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { uplinkTarballs } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import type { PackageName } from "../packages/names.ts";
import { lockBlobKey } from "../storage/blob-references.ts";
import { tarballKey } from "../storage/blob-store.ts";
import { getUplinkPackument, UPLINK_RETRY_AFTER_SECONDS } from "./get-uplink-packument.ts";
import type { StoredTarball, Uplink, UpstreamDist } from "./uplink.ts";
import { openUplink, UplinkFailure } from "./uplink-http.ts";
import { assertMayMissUplink } from "./uplink-miss-limit.ts";

/** The largest tarball taken from the uplink. */
const MAX_TARBALL_BYTES = 512 * 1024 * 1024;

/**
 * The blob of a public package's tarball: from the process cache or `uplink_tarballs`, else
 * fetched from where the uplink's document says it is, checked against that document's
 * `dist.integrity` (or `shasum` for packages older than integrity), and stored in the blob store
 * under its content address — so the next install needs no uplink at all. The version must be in
 * the current (possibly stale) document: a version the uplink withdrew is not served.
 */
export async function getUplinkTarball(
  ctx: ServiceContext,
  uplink: Uplink,
  name: PackageName,
  version: string,
): Promise<StoredTarball> {
  // The smaller document is enough to know the version and its hashes; use the full one if that
  // is what this process holds already.
  const kind =
    uplink.getDoc(name.name, "full") && !uplink.getDoc(name.name, "abbreviated")
      ? "full"
      : "abbreviated";
  const { doc } = await getUplinkPackument(ctx, uplink, name, kind);
  const dist = doc.dists.get(version);
  if (!dist) {
    throw new PackrError(
      "NOT_FOUND",
      `${name.name}@${version} is not on the uplink (${uplink.url}); its tarball cannot be served.`,
    );
  }
  const cached = uplink.getTarball(name.name, version);
  if (cached && sameBytes(cached, dist)) return cached;
  return uplink.shared(`tgz:${name.name}@${version}`, () =>
    storeTarball(ctx, uplink, name, version, dist),
  );
}

async function storeTarball(
  ctx: ServiceContext,
  uplink: Uplink,
  name: PackageName,
  version: string,
  dist: UpstreamDist,
): Promise<StoredTarball> {
  const { db, blobStore } = ctx.deps;
  const [row] = await db
    .select()
    .from(uplinkTarballs)
    .where(and(eq(uplinkTarballs.name, name.name), eq(uplinkTarballs.version, version)));
  if (row && sameBytes({ integrity: row.integrity }, dist)) {
    const stored = { key: row.tarballKey, size: row.size, integrity: row.integrity };
    uplink.setTarball(name.name, version, stored);
    return stored;
  }

  assertMayMissUplink(ctx, uplink);
  let fetched: { file: string; size: number; sha512: Buffer; sha1: string };
  try {
    const answer = await openUplink(uplink, dist.url, {
      maxBytes: MAX_TARBALL_BYTES,
      timeoutMs: Math.max(uplink.timeoutMs * 6, 60_000),
    });
    if (answer.status === 404 || answer.status === 410) {
      await answer.cancel();
      throw new PackrError(
        "NOT_FOUND",
        `The uplink has no tarball for ${name.name}@${version} (${answer.status}).`,
      );
    }
    if (answer.status !== 200) {
      await answer.cancel();
      throw new UplinkFailure(`the uplink answered ${answer.status}`);
    }
    fetched = await spool(answer.chunks());
  } catch (err) {
    if (!(err instanceof UplinkFailure)) throw err;
    throw new PackrError(
      "UNAVAILABLE",
      `The tarball of ${name.name}@${version} is not cached here and ${err.message}; try again shortly.`,
      { details: { retryAfter: UPLINK_RETRY_AFTER_SECONDS } },
    );
  }

  let stored: { key: string; size: number; integrity: string };
  try {
    const integrity = `sha512-${fetched.sha512.toString("base64")}`;
    const expected = sha512Of(dist.integrity);
    const verified = expected
      ? expected === integrity
      : dist.shasum !== null && dist.shasum.toLowerCase() === fetched.sha1;
    if (!verified) {
      throw new PackrError(
        "BAD_GATEWAY",
        `The uplink's tarball of ${name.name}@${version} does not match the integrity its own document declares; it was not stored or served.`,
      );
    }
    const key = tarballKey(fetched.sha512.toString("hex"));
    stored = { key, size: fetched.size, integrity };
    // Blob and row under the key's lock: no deleter (an unpublish of a local version with the same
    // bytes, the orphan sweeper) can remove the blob between the two.
    await db.transaction(async (tx) => {
      await lockBlobKey(tx, key);
      await blobStore.putFile(key, fetched.file, "application/octet-stream");
      await tx
        .insert(uplinkTarballs)
        .values({
          name: name.name,
          version,
          tarballKey: key,
          size: stored.size,
          integrity,
          fetchedAt: ctx.deps.now(),
        })
        .onConflictDoUpdate({
          target: [uplinkTarballs.name, uplinkTarballs.version],
          set: { tarballKey: key, size: stored.size, integrity, fetchedAt: ctx.deps.now() },
        });
    });
  } finally {
    await rm(fetched.file, { force: true });
  }
  uplink.setTarball(name.name, version, stored);
  return stored;
}

/**
 * The uplink's bytes into a temp file, hashed on the way: the process holds one chunk at a time,
 * never the tarball. The file is removed again when anything fails.
 */
async function spool(
  chunks: AsyncIterable<Uint8Array>,
): Promise<{ file: string; size: number; sha512: Buffer; sha1: string }> {
  const file = path.join(tmpdir(), `packr-uplink-${randomUUID()}.tgz`);
  const sha512 = createHash("sha512");
  const sha1 = createHash("sha1");
  let size = 0;
  try {
    await pipeline(
      Readable.from(
        (async function* () {
          for await (const chunk of chunks) {
            sha512.update(chunk);
            sha1.update(chunk);
            size += chunk.byteLength;
            yield chunk;
          }
        })(),
      ),
      createWriteStream(file, { flags: "wx" }),
    );
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
  return { file, size, sha512: sha512.digest(), sha1: sha1.digest("hex") };
}

/** The sha512 entry of an SRI string (`sha512-…`, possibly among others), or null. */
function sha512Of(sri: string | null): string | null {
  if (!sri) return null;
  const hit = sri.split(/\s+/).find((h) => h.startsWith("sha512-"));
  return hit ? (hit.split("?")[0] ?? null) : null;
}

/** Stored bytes still answer the document (a sha1-only document was checked when they were stored). */
function sameBytes(stored: { integrity: string }, dist: UpstreamDist): boolean {
  const expected = sha512Of(dist.integrity);
  return expected === null || expected === stored.integrity;
}
