import { listSigningKeys } from "@packr/core";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

/**
 * Every key that signs versions here, which `npm audit signatures` fetches to verify
 * `dist.signatures`: this instance's and every other instance's, retired ones with `expires`.
 * One small query; npm asks once per audit.
 */
export const keys = new Hono<AppEnv>().get("/-/npm/v1/keys", async (c) =>
  c.json({ keys: await listSigningKeys(c.get("runtime").deps.db) }),
);
