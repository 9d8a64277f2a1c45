import { createNpmToken, listNpmTokens, revokeNpmToken } from "@packr/core";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { readJson } from "../read-json.ts";

const PER_PAGE = 100;

/** `npm token list | create | revoke` (protocol §3.9); the mapping of npm's body is in core. */
export const npmTokens = new Hono<AppEnv>()
  .get("/-/npm/v1/tokens", async (c) => {
    const page = Number.parseInt(c.req.query("page") ?? "0", 10);
    const perPage = Number.parseInt(c.req.query("perPage") ?? String(PER_PAGE), 10);
    const p = Number.isFinite(page) && page >= 0 ? page : 0;
    const n = Number.isFinite(perPage) && perPage > 0 ? Math.min(perPage, PER_PAGE) : PER_PAGE;
    const r = await listNpmTokens({ ctx: c.get("ctx"), input: { page: p, perPage: n } });
    // npm follows urls.next as an absolute URL until it is absent.
    const at = (i: number) => {
      const u = new URL("/-/npm/v1/tokens", `${c.get("runtime").deps.publicUrl()}/`);
      u.searchParams.set("page", String(i));
      u.searchParams.set("perPage", String(n));
      return u.toString();
    };
    return c.json({
      objects: r.objects,
      total: r.total,
      urls: { ...(r.hasNext ? { next: at(p + 1) } : {}), ...(p > 0 ? { prev: at(p - 1) } : {}) },
    });
  })
  .post("/-/npm/v1/tokens", async (c) => {
    const created = await createNpmToken({
      ctx: c.get("ctx"),
      input: { body: await readJson(c, { optional: true }) },
    });
    return c.json(created, 201);
  })
  .delete("/-/npm/v1/tokens/token/:ref", async (c) => {
    await revokeNpmToken({ ctx: c.get("ctx"), input: { ref: c.req.param("ref") } });
    return c.body(null, 204);
  });
