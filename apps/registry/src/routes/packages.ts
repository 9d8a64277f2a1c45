import {
  getPackument,
  getTarball,
  getVersionManifest,
  PackrError,
  publishPackage,
} from "@packr/core";
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { parsePackagePath } from "../package-path.ts";
import { readJson } from "../read-json.ts";

const ABBREVIATED = "application/vnd.npm.install-v1+json";

/**
 * Everything addressed by a package name: packument, one version, tarball, publish. Mounted last,
 * after every `/-/…` route, because a package name can be almost any path.
 */
export async function packageRoute(c: Context<AppEnv>): Promise<Response> {
  const pathname = new URL(c.req.url).pathname;
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

  if (method === "PUT" && target.kind === "packument") {
    const result = await publishPackage({
      ctx,
      input: { name: target.name, body: await readJson(c) },
    });
    return c.json(result, result.idempotent ? 200 : 201);
  }
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
        {
          "Cache-Control": "no-cache",
        },
      );
    case "tarball":
      return tarballResponse(c, target.name, target.filename);
    default:
      throw new PackrError("NOT_FOUND", `No such endpoint under ${target.name}.`);
  }
}

/**
 * Precomputed bytes out: abbreviated for the corgi Accept (pnpm, npm's pre-checks), full for
 * everything else (npm install, yarn). `no-cache` so the next CI job sees a fresh publish at once;
 * the ETag makes that revalidation a 304.
 */
async function packumentResponse(c: Context<AppEnv>, name: string): Promise<Response> {
  const abbreviated = (c.req.header("accept") ?? "").includes(ABBREVIATED);
  const doc = await getPackument({ ctx: c.get("ctx"), input: { name, abbreviated } });
  const headers = new Headers({
    "Content-Type": abbreviated ? ABBREVIATED : "application/json",
    ETag: doc.etag,
    "Last-Modified": doc.modifiedAt.toUTCString(),
    "Cache-Control": doc.access === "public" ? "no-cache" : "private, no-cache",
    Vary: "Accept, Accept-Encoding, Authorization",
  });
  const ifNoneMatch = c.req.header("if-none-match");
  if (ifNoneMatch?.split(",").some((t) => t.trim() === doc.etag || t.trim() === "*")) {
    return new Response(null, { status: 304, headers });
  }
  const bytes = await doc.load();
  let body = bytes.plain;
  if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
    headers.set("Content-Encoding", "gzip");
    body = bytes.gzip;
  }
  headers.set("Content-Length", String(body.byteLength));
  return new Response(c.req.method === "HEAD" ? null : body, { status: 200, headers });
}

async function tarballResponse(
  c: Context<AppEnv>,
  name: string,
  filename: string,
): Promise<Response> {
  const result = await getTarball({ ctx: c.get("ctx"), input: { name, filename } });
  if (result.kind === "redirect") {
    return new Response(null, {
      status: 302,
      headers: { Location: result.url, "Cache-Control": "no-store" },
    });
  }
  const headers = new Headers({
    "Content-Type": "application/octet-stream",
    "Content-Length": String(result.size),
    // The bytes behind a name@version never change (a version is immutable, and never reused).
    "Cache-Control":
      result.access === "public"
        ? "public, max-age=31536000, immutable"
        : "private, max-age=31536000, immutable",
  });
  if (c.req.method === "HEAD") {
    await result.body.cancel();
    return new Response(null, { status: 200, headers });
  }
  return new Response(result.body, { status: 200, headers });
}
