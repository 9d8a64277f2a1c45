import { getDownloadPoint, PackrError } from "@packr/core";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { parseNameAfter } from "../package-path.ts";

const PREFIX = "/-/downloads/point/";

/**
 * npm's download-counts API shape, `GET /-/downloads/point/{period}/{package}`:
 * `{downloads, start, end, package}`. The name may be scoped in either path form.
 */
export const downloads = new Hono<AppEnv>().get(`${PREFIX}*`, async (c) => {
  const raw = new URL(c.req.url).pathname;
  const slash = raw.indexOf("/", PREFIX.length);
  const period = slash === -1 ? "" : safeDecode(raw.slice(PREFIX.length, slash));
  const parsed = slash === -1 ? null : parseNameAfter(raw.slice(slash), "/");
  if (!parsed || parsed.rest.length > 0 || !period) {
    throw new PackrError(
      "VALIDATION",
      "Ask for /-/downloads/point/<period>/<package>, e.g. /-/downloads/point/last-week/@acme%2fwidget.",
    );
  }
  return c.json(
    await getDownloadPoint({ ctx: c.get("ctx"), input: { name: parsed.name, period } }),
  );
});

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return "";
  }
}
