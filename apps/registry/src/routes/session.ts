import {
  couchLogin,
  getCouchUser,
  loginWithPassword,
  logout,
  PackrError,
  whoami,
} from "@packr/core";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { readJson } from "../read-json.ts";

/**
 * Who-am-I, ping, and the two password logins npm knows. Login routes ignore whatever token the
 * client already sends (npm and yarn send stale ones, protocol §1.3).
 */
export const session = new Hono<AppEnv>()
  .get("/-/ping", (c) => c.json({}))
  .get("/-/whoami", (c) => c.json(whoami(c.get("ctx"))))
  .post("/-/v1/login", async (c) => {
    c.set("challenge", "basic");
    const body = await readJson(c, { optional: true });
    const name = isRecord(body) ? body.name : undefined;
    const password = isRecord(body) ? body.password : undefined;
    if (typeof name !== "string" || typeof password !== "string") {
      // npm's web login posts {} (or {create:true}); a 404 makes npm and pnpm fall back to the
      // username/password prompts until the browser flow exists.
      throw new PackrError(
        "NOT_FOUND",
        "Web login is not available on this registry yet. Use npm login --auth-type=legacy, or POST {name, password}.",
      );
    }
    const result = await loginWithPassword({
      ctx: c.get("ctx"),
      input: { name, password, tokenName: "POST /-/v1/login" },
    });
    return c.json(
      { token: result.token, username: result.username, expires: result.expiresAt.toISOString() },
      201,
    );
  })
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
      allowSignup: c.get("runtime").config.allowSignup,
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

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
