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

/** A JSON request or response body of `schema`, as @hono/zod-openapi's route definitions spell it. */
export const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

/** An OpenAPI security requirement list: any one entry suffices. */
export type Security = Array<Record<string, string[]>>;

/**
 * How the admin API authenticates (`/api/v1/admin/…`): the dashboard's internal secret with a
 * person's session, a `packr_session` cookie, or a bearer token.
 */
export const adminSecurity: Security = [
  { internalSecret: [], session: [] },
  { sessionCookie: [] },
  { bearer: [] },
];
