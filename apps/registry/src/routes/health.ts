import { checkHealth } from "@packr/core";
import { Hono } from "hono";
import pkg from "../../package.json" with { type: "json" };
import type { AppEnv } from "../env.ts";

export const health = new Hono<AppEnv>()
  // What a person who opens the registry URL in a browser sees: what this is and how to use it.
  .get("/", (c) =>
    c.json({
      registry: "packr",
      version: pkg.version,
      usage: `Put "registry=${c.get("runtime").deps.publicUrl()}/" in your project's .npmrc.`,
    }),
  )
  .get("/health", async (c) => {
    const runtime = c.get("runtime");
    const probe = await checkHealth(runtime.deps);
    return c.json(
      { ...probe, version: pkg.version, region: runtime.config.region },
      probe.status === "ok" ? 200 : 503,
    );
  });
