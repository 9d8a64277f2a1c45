import { couchLogin, getCouchUser, logout, whoami } from "@packr/core";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { readJson } from "../read-json.ts";

/**
 * Who-am-I, ping, logout and npm's legacy (couch) login; `POST /-/v1/login` is in web-login.ts. Login routes ignore whatever token the
 * client already sends (npm and yarn send stale ones, protocol §1.3).
 */
export const session = new Hono<AppEnv>()
  .get("/-/ping", (c) => c.json({}))
  .get("/-/whoami", (c) => c.json(whoami(c.get("ctx"))))
  .get("/-/user/:id{org\\.couchdb\\.user:[^/]+}", async (c) => {
    const name = c.req.param("id").slice("org.couchdb.user:".length);
    return c.json(await getCouchUser({ ctx: c.get("ctx"), input: { name } }));
  })
  // npm logout: revoke the token named in the path (idempotent, protocol §4.4).
  .delete("/-/user/token/:token", async (c) =>
    c.json(await logout({ ctx: c.get("ctx"), input: { token: c.req.param("token") } })),
  )
  .put("/-/user/:id{org\\.couchdb\\.user:[^/]+}/-rev/:rev", (c) => couchPut(c, c.req.param("rev")))
  .put("/-/user/:id{org\\.couchdb\\.user:[^/]+}", (c) => couchPut(c, undefined));

async function couchPut(c: import("hono").Context<AppEnv>, rev: string | undefined) {
  c.set("challenge", "basic");
  const urlName = c.req.param("id")?.slice("org.couchdb.user:".length) ?? "";
  const result = await couchLogin({
    ctx: c.get("ctx"),
    input: {
      urlName,
      body: await readJson(c),
      rev,
      basic: parseBasic(c.req.header("authorization")),
    },
  });
  return c.json(
    {
      ok: true,
      id: `org.couchdb.user:${result.username}`,
      rev: "1",
      token: result.token,
      username: result.username,
    },
    201,
  );
}

function parseBasic(header: string | undefined): { name: string; password: string } | undefined {
  if (!header?.toLowerCase().startsWith("basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
