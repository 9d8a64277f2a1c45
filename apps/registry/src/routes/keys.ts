import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

/** The registry's signing key, which `npm audit signatures` fetches to verify `dist.signatures`. */
export const keys = new Hono<AppEnv>().get("/-/npm/v1/keys", (c) =>
  c.json({ keys: [c.get("runtime").deps.signer.key] }),
);
