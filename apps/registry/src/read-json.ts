import { PackrError } from "@packr/core";
import type { Context } from "hono";

/** Parse a JSON request body, turning garbage into a 400 that says so. */
export async function readJson(c: Context, opts: { optional?: boolean } = {}): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") {
    if (opts.optional) return null;
    throw new PackrError("VALIDATION", "The request body is empty; expected JSON.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PackrError("VALIDATION", "The request body is not valid JSON.");
  }
}
