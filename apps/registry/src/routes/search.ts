import { searchPackages, starredByUser } from "@packr/core";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

/**
 * `GET /-/v1/search` (npm search, protocol §2.5) and npm stars' CouchDB view
 * `GET /-/_view/starredByUser?key="<user>"` (§3.7). Both answer per caller (restricted packages
 * only for readers), so neither may be cached by a shared cache.
 */
export const search = new Hono<AppEnv>()
  .get("/-/v1/search", async (c) => {
    const q = (k: string) => c.req.query(k);
    const result = await searchPackages({
      ctx: c.get("ctx"),
      input: {
        text: q("text"),
        size: q("size"),
        from: q("from"),
        quality: q("quality"),
        popularity: q("popularity"),
        maintenance: q("maintenance"),
      },
    });
    return c.json(result, 200, { "Cache-Control": "private, no-cache" });
  })
  .get("/-/_view/starredByUser", async (c) =>
    c.json(await starredByUser({ ctx: c.get("ctx"), input: { key: c.req.query("key") } }), 200, {
      "Cache-Control": "private, no-cache",
    }),
  );
