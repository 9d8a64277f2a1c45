import { promisify } from "node:util";
import { gunzip as gunzipCb, gzip as gzipCb } from "node:zlib";
import { and, eq } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { uplinkCache, uplinkTarballs } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import type { PackageName } from "../packages/names.ts";
import type { PackumentKind } from "../packages/packument.ts";
import { rewriteOutcome } from "./rewrite-document.ts";
import type { ProxiedDoc, Uplink } from "./uplink.ts";
import { requestUplink, UplinkFailure, uplinkPackagePath } from "./uplink-http.ts";
import { assertMayMissUplink } from "./uplink-miss-limit.ts";

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

const CORGI = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";
/** The largest uplink document Packr takes (npmjs's largest packuments are tens of MB). */
const MAX_DOCUMENT_BYTES = 100 * 1024 * 1024;
/** Documents at least this large are rewritten off the request thread (when a rewriter is wired). */
export const OFF_THREAD_BYTES = 1024 * 1024;
/** What a 503 tells clients and caches to wait before asking again (seconds). */
export const UPLINK_RETRY_AFTER_SECONDS = 30;

export type UplinkPackument = {
  doc: ProxiedDoc;
  /** Set when the uplink could not confirm the copy served: why, in one sentence. */
  stale?: string;
};

/**
 * A public package's document through the uplink, as the client asked for it (full or
 * abbreviated). Fresh in memory (younger than PACKR_UPLINK_MAX_AGE): no I/O at all. Otherwise the
 * shared row is read (another instance may have refreshed it) and, when that is old too, the
 * uplink is asked with its ETag — a 304 only renews the copy. When the uplink fails or is slow the
 * cached copy is served with `stale` set; with nothing cached that is a 503 with Retry-After,
 * never a 404 (a lockfile install would read a 404 as "this package is gone"). A 404 or 410 from
 * the uplink is a 404, and drops what was cached; a 401 or 403 to Packr's anonymous question is
 * a 404 too when nothing is cached (and a failure, served stale, when something is).
 *
 * The caller has already established that the name is not local and not in a private scope.
 */
export async function getUplinkPackument(
  ctx: ServiceContext,
  uplink: Uplink,
  name: PackageName,
  kind: PackumentKind,
): Promise<UplinkPackument> {
  const baseUrl = ctx.deps.publicUrl();
  const hit = uplink.getDoc(name.name, kind);
  const usable = hit && hit.baseUrl === baseUrl ? hit : undefined;
  if (usable && ctx.deps.now().getTime() - usable.checkedAt < uplink.maxAgeMs) {
    return { doc: usable };
  }
  return uplink.shared(`doc:${kind}:${name.name}`, () =>
    refresh(ctx, uplink, name, kind, usable, baseUrl),
  );
}

async function refresh(
  ctx: ServiceContext,
  uplink: Uplink,
  name: PackageName,
  kind: PackumentKind,
  inMemory: ProxiedDoc | undefined,
  baseUrl: string,
): Promise<UplinkPackument> {
  const { db } = ctx.deps;
  const now = ctx.deps.now().getTime();
  let current = inMemory;
  const [row] = await db
    .select()
    .from(uplinkCache)
    .where(and(eq(uplinkCache.name, name.name), eq(uplinkCache.kind, kind)));
  if (row && (!current || row.fetchedAt.getTime() > current.checkedAt)) {
    try {
      current =
        current && row.etag !== null && row.etag === current.upstreamEtag
          ? { ...current, checkedAt: row.fetchedAt.getTime() }
          : await buildDoc(ctx, name, kind, baseUrl, await gunzip(row.body), {
              upstreamEtag: row.etag,
              upstreamLastModified: row.lastModified,
              checkedAt: row.fetchedAt.getTime(),
            });
    } catch {
      // An unreadable row is as good as none: the uplink's answer below replaces it.
    }
  }
  if (current && now - current.checkedAt < uplink.maxAgeMs) {
    uplink.setDoc(current);
    return { doc: current };
  }
  if (uplink.isKnownMissing(name.name, now)) throw notOnUplink(name, uplink);
  if (current && uplink.inBackoff(name.name, now)) {
    return { doc: current, stale: `the uplink failed moments ago; it is asked again shortly` };
  }

  // Nothing cached: this request makes the uplink fetch and Packr parse a document.
  if (!current) assertMayMissUplink(ctx, uplink);
  try {
    const answer = await requestUplink(uplink, `${uplink.url}${uplinkPackagePath(name.name)}`, {
      headers: {
        accept: kind === "full" ? "application/json" : CORGI,
        "accept-encoding": "gzip",
        ...(current?.upstreamEtag ? { "if-none-match": current.upstreamEtag } : {}),
      },
      maxBytes: MAX_DOCUMENT_BYTES,
    });
    if (answer.status === 304 && current) {
      const fetchedAt = new Date(now);
      await db
        .update(uplinkCache)
        .set({ fetchedAt })
        .where(and(eq(uplinkCache.name, name.name), eq(uplinkCache.kind, kind)));
      const renewed = { ...current, checkedAt: now };
      uplink.setDoc(renewed);
      uplink.noteSuccess(name.name);
      return { doc: renewed };
    }
    if (answer.status === 404 || answer.status === 410) {
      await db.delete(uplinkCache).where(eq(uplinkCache.name, name.name));
      await db.delete(uplinkTarballs).where(eq(uplinkTarballs.name, name.name));
      uplink.forget(name.name);
      uplink.noteMissing(name.name, now);
      throw notOnUplink(name, uplink);
    }
    if ((answer.status === 401 || answer.status === 403) && !current) {
      // Packr asks anonymously: a name the uplink will not show anonymously (a registry that
      // hides which private names exist answers 401 for all of them) is not a public package.
      uplink.noteMissing(name.name, now);
      throw notOnUplink(name, uplink);
    }
    if (answer.status !== 200) throw new UplinkFailure(`the uplink answered ${answer.status}`);
    const validators = {
      upstreamEtag: answer.headers.get("etag"),
      upstreamLastModified: answer.headers.get("last-modified"),
      checkedAt: now,
    };
    const doc = await buildDoc(ctx, name, kind, baseUrl, answer.body, validators);
    const stored = {
      etag: validators.upstreamEtag,
      lastModified: validators.upstreamLastModified,
      body: await gzip(answer.body),
      fetchedAt: new Date(now),
    };
    await db
      .insert(uplinkCache)
      .values({ name: name.name, kind, ...stored })
      .onConflictDoUpdate({ target: [uplinkCache.name, uplinkCache.kind], set: stored });
    uplink.setDoc(doc);
    uplink.noteSuccess(name.name);
    return { doc };
  } catch (err) {
    if (!(err instanceof UplinkFailure)) throw err;
    uplink.noteFailure(name.name, now);
    if (current) return { doc: current, stale: err.message };
    throw uplinkUnavailable(name, err);
  }
}

async function buildDoc(
  ctx: ServiceContext,
  name: PackageName,
  kind: PackumentKind,
  baseUrl: string,
  raw: Buffer,
  validators: Pick<ProxiedDoc, "upstreamEtag" | "upstreamLastModified" | "checkedAt">,
): Promise<ProxiedDoc> {
  const request = { name, raw, baseUrl };
  const rewriter = ctx.deps.documentRewriter;
  // Large documents are parsed and re-serialised on a worker thread when the process has one:
  // on the request thread a 20 MB document would stall every other request for its duration.
  const outcome =
    rewriter && raw.byteLength >= OFF_THREAD_BYTES
      ? await rewriter(request)
      : rewriteOutcome(request, ctx.deps.signer);
  if ("failure" in outcome) throw new UplinkFailure(outcome.failure);
  const rewritten = outcome;
  const plain = Buffer.from(
    rewritten.plain.buffer,
    rewritten.plain.byteOffset,
    rewritten.plain.byteLength,
  );
  const lastModified = validators.upstreamLastModified
    ? new Date(validators.upstreamLastModified)
    : null;
  const modifiedAt =
    rewritten.modifiedAt ??
    (lastModified && !Number.isNaN(lastModified.getTime())
      ? lastModified
      : new Date(validators.checkedAt));
  return {
    name: name.name,
    kind,
    etag: `W/"u.${kind === "full" ? "f" : "a"}.${rewritten.digest}"`,
    modifiedAt,
    bytes: { plain, gzip: await gzip(plain) },
    baseUrl,
    ...validators,
    dists: rewritten.dists,
    versions: rewritten.versions,
    distTags: rewritten.distTags,
  };
}

export const notOnUplink = (name: PackageName, uplink: Uplink): PackrError =>
  new PackrError(
    "NOT_FOUND",
    `Package ${name.name} is not in this registry, nor on its uplink (${uplink.url}).`,
  );

export const uplinkUnavailable = (name: PackageName, err: UplinkFailure): PackrError =>
  new PackrError(
    "UNAVAILABLE",
    `${name.name} is not cached here and ${err.message}; try again shortly.`,
    { details: { retryAfter: UPLINK_RETRY_AFTER_SECONDS } },
  );
