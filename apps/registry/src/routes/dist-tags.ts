import { getDistTags, PackrError, removeDistTag, setDistTag } from "@packr/core";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { parsePackageApiPath } from "../package-path.ts";
import { readJson } from "../read-json.ts";
import { packageAccessRoute } from "./access.ts";

/**
 * `/-/package/<name>/dist-tags[/<tag>]` (npm dist-tag, pnpm dist-tag via npm, yarn npm tag;
 * protocol §3.4). The name arrives as `@scope%2fname` or `@scope/name`, so the raw path is parsed
 * here rather than by the router.
 */
export const distTags = new Hono<AppEnv>().on(
  ["GET", "PUT", "POST", "DELETE"],
  "/-/package/*",
  (c) => packageApiRoute(c),
);

async function packageApiRoute(c: Context<AppEnv>): Promise<Response> {
  const pathname = new URL(c.req.url).pathname;
  const target = parsePackageApiPath(pathname);
  if (!target) {
    throw new PackrError("INVALID_PACKAGE_NAME", "The request path does not name a package.");
  }
  const ctx = c.get("ctx");
  const { name, rest } = target;
  const [what, tag, ...extra] = rest;
  if (rest.length === 1) {
    const answered = await packageAccessRoute(c, name, what);
    if (answered) return answered;
  }
  if (what === "dist-tags" && extra.length === 0) {
    const method = c.req.method;
    if (method === "GET" && (tag === undefined || tag === "")) {
      return c.json(await getDistTags({ ctx, input: { name } }), 200, {
        "Cache-Control": "no-cache",
      });
    }
    if (method === "PUT" && tag) {
      return c.json(await setDistTag({ ctx, input: { name, tag, body: await readJson(c) } }), 200);
    }
    if (method === "DELETE" && tag) {
      return c.json(await removeDistTag({ ctx, input: { name, tag } }), 200);
    }
  }
  throw new PackrError("NOT_FOUND", `No such endpoint: ${c.req.method} ${pathname.slice(0, 200)}.`);
}
