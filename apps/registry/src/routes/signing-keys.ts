import { createRoute, z } from "@hono/zod-openapi";
import { listSigningKeys, requireAdminPrincipal, retireSigningKey } from "@packr/core";
import { adminAuth } from "../admin-auth.ts";
import { errorResponses } from "../api-schemas.ts";
import { adminSecurity, json, openApiApp } from "./openapi-app.ts";

const tags = ["admin"];
const security = adminSecurity;

const RegistryKey = z
  .object({
    keyid: z.string(),
    key: z.string(),
    keytype: z.literal("ecdsa-sha2-nistp256"),
    scheme: z.literal("ecdsa-sha2-nistp256"),
    expires: z.string().nullable(),
  })
  .openapi("RegistryKey");

const listRoute = createRoute({
  method: "get",
  path: "/api/v1/admin/signing-keys",
  tags,
  summary: "Every key that signs versions here, and which one this instance uses (admins)",
  security,
  responses: {
    200: {
      description: "The keys",
      ...json(z.object({ current: z.string(), keys: z.array(RegistryKey) })),
    },
    ...errorResponses(401, 403),
  },
});

const retireRoute = createRoute({
  method: "post",
  path: "/api/v1/admin/signing-keys/{keyid}/retire",
  tags,
  summary: "Retire a key after a rotation: signatures made after `at` (default now) stop verifying",
  security,
  request: {
    params: z.object({ keyid: z.string().min(1).max(200) }),
    body: {
      ...json(z.object({ at: z.string().datetime({ offset: true }).optional() }).strict()),
      required: false,
    },
  },
  responses: {
    200: { description: "The retired key", ...json(RegistryKey) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

/** Key rotation for `npm audit signatures` (the public list is `/-/npm/v1/keys`). */
export const signingKeysApi = openApiApp();
signingKeysApi.use("/api/v1/admin/signing-keys/*", adminAuth);
signingKeysApi.use("/api/v1/admin/signing-keys", adminAuth);
signingKeysApi
  .openapi(listRoute, async (c) => {
    const ctx = c.get("ctx");
    requireAdminPrincipal(ctx.actor, "list signing keys");
    const keys = await listSigningKeys(ctx.deps.db);
    return c.json({ current: ctx.deps.signer.key.keyid, keys }, 200);
  })
  .openapi(retireRoute, async (c) => {
    // The body is optional: without one (or without `at`) the key is retired now.
    const at = c.req.valid("json")?.at;
    const key = await retireSigningKey({
      ctx: c.get("ctx"),
      input: { keyid: c.req.valid("param").keyid, ...(at ? { at: new Date(at) } : {}) },
    });
    return c.json(key, 200);
  });
