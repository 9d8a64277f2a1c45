import {
  getPackageVisibility,
  listPackageCollaborators,
  listScopePackages,
  listUserPackageAccess,
  PackrError,
  setPackageAccess,
} from "@packr/core";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../env.ts";
import { readJson } from "../read-json.ts";

/** An access or team body is a few fields; anything bigger is not one. */
const SMALL_BODY = 64 * 1024;

const smallBody = bodyLimit({
  maxSize: SMALL_BODY,
  onError: () => {
    throw new PackrError(
      "PAYLOAD_TOO_LARGE",
      `This request carries a few JSON fields; its body may be at most ${SMALL_BODY} bytes.`,
    );
  },
});

const noCache = { "Cache-Control": "private, no-cache" };

/**
 * npm access (protocol §3.6): listings by org/scope and by user (npm falls back from the first to
 * the second on a 404). Team grants and listings are with npm's org and team endpoints
 * (npm-orgs.ts); the per-package endpoints (visibility, access, collaborators) live with the other
 * `/-/package/<name>/…` routes (dist-tags.ts calls `packageAccessRoute`).
 */
export const access = new Hono<AppEnv>()
  // Before dist-tags.ts's `/-/package/*` handler, which serves POST …/access.
  .on("POST", "/-/package/*", smallBody)
  .get("/-/org/:org/package", async (c) =>
    c.json(
      await listScopePackages({ ctx: c.get("ctx"), input: { org: c.req.param("org") } }),
      200,
      noCache,
    ),
  )
  .get("/-/user/:user/package", async (c) =>
    c.json(
      await listUserPackageAccess({ ctx: c.get("ctx"), input: { user: c.req.param("user") } }),
      200,
      noCache,
    ),
  );

/** `GET visibility`, `POST access`, `GET collaborators` under `/-/package/<name>/`; null if none matches. */
export async function packageAccessRoute(
  c: Context<AppEnv>,
  name: string,
  what: string | undefined,
): Promise<Response | null> {
  const ctx = c.get("ctx");
  const method = c.req.method;
  if (what === "visibility" && method === "GET") {
    return c.json(await getPackageVisibility({ ctx, input: { name } }), 200, noCache);
  }
  if (what === "collaborators" && method === "GET") {
    const user = c.req.query("user");
    return c.json(await listPackageCollaborators({ ctx, input: { name, user } }), 200, noCache);
  }
  if (what === "access" && method === "POST") {
    const length = Number(c.req.header("content-length") ?? "0");
    if (length > SMALL_BODY) {
      throw new PackrError(
        "PAYLOAD_TOO_LARGE",
        `An access body may be at most ${SMALL_BODY} bytes.`,
      );
    }
    const body = await readJson(c);
    return c.json(await setPackageAccess({ ctx, input: { name, body } }), 200);
  }
  return null;
}
