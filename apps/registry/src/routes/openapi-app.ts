import { OpenAPIHono } from "@hono/zod-openapi";
import { PackrError } from "@packr/core";
import type { AppEnv } from "../env.ts";

/**
 * An OpenAPIHono whose schema failures become Packr's VALIDATION error (the flat body), so the
 * JSON APIs answer malformed input exactly like the npm routes do.
 */
export const openApiApp = () =>
  new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.length > 0 ? i.path.join(".") : "body"}: ${i.message}`)
          .join("; ");
        throw new PackrError("VALIDATION", `Invalid request: ${issues}`);
      }
    },
  });
