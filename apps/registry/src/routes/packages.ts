import {
  changeOwners,
  deleteTarball,
  deprecateVersions,
  getPackument,
  getTarball,
  getVersionManifest,
  isPackrError,
  PackrError,
  packageWriteAllowance,
  publishPackage,
  starPackage,
  unpublishPackage,
  unpublishVersions,
} from "@packr/core";
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { headerText } from "../http-errors.ts";
import { type PackagePath, parsePackagePath, rawPathname } from "../package-path.ts";
import { classifyPackagePut, classifyPackageRevPut } from "../put-kind.ts";
import { readJson } from "../read-json.ts";
import { setSecurityHeaders } from "../security-headers.ts";

const ABBREVIATED = "application/vnd.npm.install-v1+json";

/**
 * Everything addressed by a package name: packument, one version, tarball, publish. Mounted last,
 * after every `/-/…` route, because a package name can be almost any path.
 */
export async function packageRoute(c: Context<AppEnv>): Promise<Response> {
  const pathname = rawPathname(c.req.url);
  // `/-/…` is the registry's own namespace: an unmatched one is an unknown endpoint, not a package.
  if (pathname.startsWith("/-/")) {
    throw new PackrError(
      "NOT_FOUND",
      `No such endpoint: ${c.req.method} ${pathname.slice(0, 200)}.`,
    );
  }
  const target = parsePackagePath(pathname);
  if (!target)
    throw new PackrError("INVALID_PACKAGE_NAME", "The request path does not name a package.");
  const ctx = c.get("ctx");
  const method = c.req.method;

  if (method === "PUT" || method === "DELETE") return writeRoute(c, target);
  if (method !== "GET" && method !== "HEAD") {
    throw new PackrError("NOT_FOUND", `${method} is not supported on ${target.name}.`);
  }
  switch (target.kind) {
    case "packument":
      return packumentResponse(c, target.name);
    case "version":
      return c.json(
        await getVersionManifest({ ctx, input: { name: target.name, spec: target.spec } }),
        200,
        { ...c.get("runtime").securityHeaders, "Cache-Control": "no-cache" },
      );
    case "tarball":
      return tarballResponse(c, target.name, target.filename);
    default:
      throw new PackrError("NOT_FOUND", `No such endpoint under ${target.name}.`);
  }
}

/**
 * The writes under a package name, told apart by path and body (protocol §6): publish, deprecate
 * and star on `PUT /<name>`; unpublish of versions and owner changes on
 * `PUT /<name>/-rev/<rev>`; unpublish of the whole package and tarball deletion on DELETE.
 */
async function writeRoute(c: Context<AppEnv>, target: PackagePath): Promise<Response> {
  setSecurityHeaders(c);
  const ctx = c.get("ctx");
  const { name } = target;
  if (c.req.method === "PUT" && target.kind === "packument") {
    const body = await readWriteBody(c, name, "document");
    switch (classifyPackagePut(body)) {
      case "deprecate":
        return c.json(await deprecateVersions({ ctx, input: { name, body } }), 200);
      case "star":
        return c.json(await starPackage({ ctx, input: { name, body } }), 200);
      case "publish": {
        const result = await publishPackage({ ctx, input: { name, body } });
        return c.json(result, result.idempotent ? 200 : 201);
      }
    }
  }
  if (c.req.method === "PUT" && target.kind === "packument-rev") {
    const body = await readWriteBody(c, name, "revision");
    const input = { name, rev: target.rev, body };
    switch (classifyPackageRevPut(body)) {
      case "unpublish":
        return c.json(await unpublishVersions({ ctx, input }), 200);
      case "owners":
        return c.json(await changeOwners({ ctx, input }), 200);
      case "unknown":
        throw new PackrError(
          "VALIDATION",
          "A PUT to /<name>/-rev/<rev> carries the package document without the versions to unpublish, or {_id, _rev, maintainers} to change owners.",
        );
    }
  }
  if (c.req.method === "DELETE" && target.kind === "packument-rev") {
    return c.json(await unpublishPackage({ ctx, input: { name, rev: target.rev } }), 200);
  }
  if (c.req.method === "DELETE" && target.kind === "tarball-rev") {
    const input = { name, filename: target.filename, rev: target.rev };
    return c.json(await deleteTarball({ ctx, input }), 200);
  }
  throw new PackrError("NOT_FOUND", `${c.req.method} is not supported on ${name}.`);
}

/**
 * The body of a package write, read only once the caller is known to be allowed to send one that
 * size (core's `packageWriteAllowance`, from the token alone): anonymous and wrong-token callers
 * get their 401 and non-maintainers their 403 without the registry reading, buffering or parsing
 * what may be a 200 MB body. A caller who may only star reads at most a small one.
 */
async function readWriteBody(
  c: Context<AppEnv>,
  name: string,
  target: "document" | "revision",
): Promise<unknown> {
  const allowance = await packageWriteAllowance({ ctx: c.get("ctx"), input: { name, target } });
  if (allowance.body === "small") {
    try {
      return await readJson(c);
    } catch (err) {
      // Too big for a star: it was a publish or a deprecation, so say why that is refused.
      if (isPackrError(err) && err.code === "PAYLOAD_TOO_LARGE") throw allowance.refusal;
      throw err;
    }
  }
  const limit = c.get("runtime").config.maxBodySize;
  return readJson(c, {
    limit,
    tooLarge: () =>
      new PackrError(
        "PAYLOAD_TOO_LARGE",
        `The request body is larger than this registry accepts (${limit} bytes, PACKR_MAX_BODY_SIZE).`,
      ),
  });
}

/**
 * Precomputed bytes out: abbreviated for the corgi Accept (pnpm, npm's pre-checks), full for
 * everything else (npm install, yarn). `no-cache` so the next CI job sees a fresh publish at once;
 * the ETag makes that revalidation a 304.
 */
async function packumentResponse(c: Context<AppEnv>, name: string): Promise<Response> {
  const abbreviated = (c.req.header("accept") ?? "").includes(ABBREVIATED);
  const doc = await getPackument({ ctx: c.get("ctx"), input: { name, abbreviated } });
  const shared = sharedCacheable(c, doc.access);
  // A plain object, not `Headers`: the server adapter writes it out as is (a `Headers` costs a
  // validated copy per header, twice); this is the hottest response of the registry.
  const headers: Record<string, string> = {
    ...c.get("runtime").securityHeaders,
    "Content-Type": abbreviated ? ABBREVIATED : "application/json",
    ETag: doc.etag,
    "Last-Modified": doc.modifiedAt.toUTCString(),
    "Cache-Control": shared ? "no-cache" : "private, no-cache",
    Vary: "Accept, Accept-Encoding, Authorization",
  };
  if (doc.stale) {
    // RFC 9111 §5.5 (obsoleted, still what caches and people read) and npm's own notice line.
    headers.Warning = '110 - "Response is stale"';
    headers["npm-notice"] = headerText(`Packr served its cached copy of ${name}: ${doc.stale}.`);
  }
  // npm prints npm-notice only for a response it did not store in its cache (npm-registry-fetch
  // skips any response make-fetch-happen marked x-local-cache, which it does on every store), so
  // a notice goes with no-store: a package deprecated as a whole trades revalidation for telling
  // every client so.
  if (doc.notice) {
    headers["npm-notice"] = headerText(doc.notice);
    headers["Cache-Control"] = shared ? "no-store" : "private, no-store";
  }
  const ifNoneMatch = c.req.header("if-none-match");
  if (ifNoneMatch?.split(",").some((t) => t.trim() === doc.etag || t.trim() === "*")) {
    return new Response(null, { status: 304, headers });
  }
  const bytes = await doc.load();
  let body = bytes.plain;
  if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
    headers["Content-Encoding"] = "gzip";
    body = bytes.gzip;
  }
  headers["Content-Length"] = String(body.byteLength);
  return new Response(c.req.method === "HEAD" ? null : body, { status: 200, headers });
}

async function tarballResponse(
  c: Context<AppEnv>,
  name: string,
  filename: string,
): Promise<Response> {
  const result = await getTarball({
    ctx: c.get("ctx"),
    input: { name, filename, countDownload: c.req.method === "GET" },
  });
  if (result.kind === "redirect") {
    return new Response(null, {
      status: 302,
      headers: {
        ...c.get("runtime").securityHeaders,
        Location: result.url,
        "Cache-Control": "no-store",
      },
    });
  }
  // Plain headers and in-memory bytes take the server adapter's direct path: one write, no stream.
  const headers = {
    ...c.get("runtime").securityHeaders,
    "Content-Type": "application/octet-stream",
    "Content-Length": String(result.size),
    // The bytes behind a name@version never change (a version is immutable, and never reused).
    "Cache-Control": sharedCacheable(c, result.access)
      ? "public, max-age=31536000, immutable"
      : "private, max-age=31536000, immutable",
  };
  if (c.req.method === "HEAD") {
    if (result.body instanceof ReadableStream) await result.body.cancel();
    return new Response(null, { status: 200, headers });
  }
  return new Response(result.body, { status: 200, headers });
}

/**
 * Whether a shared cache (a CDN, a corporate proxy) may keep this answer for everyone: only a
 * public package on a registry that strangers may read. A private-by-login registry marks every
 * answer `private`, or a cache in front of it would hand its public packages to strangers.
 */
const sharedCacheable = (c: Context<AppEnv>, access: "public" | "restricted"): boolean =>
  access === "public" && !c.get("runtime").config.readRequiresAuth;
