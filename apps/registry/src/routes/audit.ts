import { createRoute, z } from "@hono/zod-openapi";
// Wire shapes are the SDK's own (one definition: the client and the route cannot drift).
import * as S from "@packr/agent-schemas";
import {
  type AuditEvent,
  type ChainReport,
  listAuditEvents,
  openAuditExport,
  verifyAuditChain,
} from "@packr/core";
import { errorResponses } from "../api-schemas.ts";
import { adminSecurity, json, openApiApp } from "./openapi-app.ts";

/*
 * The audit log (`/api/v1/admin/audit…`), mounted inside the admin app so its authentication
 * (sessions, the internal secret, tokens) applies. Thin: parse → core → wire shape. Who sees
 * which events, and what a bad filter or cursor is, are core's decisions.
 */

const security = adminSecurity;
const tags = ["audit"];

const Filters = z.object({
  actor: z.string().max(200).optional().openapi({ description: "The actor's user name" }),
  action: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: "An action, or a prefix ending in `.`", example: "package." }),
  package: z.string().max(300).optional().openapi({ example: "@acme/widget" }),
  org: z.string().max(300).optional().openapi({ description: "An org slug", example: "acme" }),
  since: z.string().max(100).optional().openapi({ description: "ISO 8601, inclusive" }),
  until: z.string().max(100).optional().openapi({ description: "ISO 8601, exclusive" }),
});
const PageQuery = Filters.extend({
  cursor: z.string().max(400).optional().openapi({ description: "nextCursor of the page before" }),
  limit: z.string().max(10).optional().openapi({ description: "1–500, default 100" }),
});

const eventJson = (e: AuditEvent) => ({ ...e, createdAt: e.createdAt.toISOString() });

const listRoute = createRoute({
  method: "get",
  path: "/api/v1/admin/audit",
  tags,
  security,
  summary:
    "Audit events the caller may see, newest first: a platform admin all, an org admin the org's, anyone else their own and their packages'",
  request: { query: PageQuery },
  responses: {
    200: { description: "A page of events", ...json(S.AuditPage) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const exportRoute = createRoute({
  method: "get",
  path: "/api/v1/admin/audit/export",
  tags,
  security,
  summary: "Every matching event as NDJSON (one event per line), streamed newest first",
  request: { query: Filters },
  responses: {
    200: { description: "application/x-ndjson: one AuditEvent per line" },
    ...errorResponses(400, 401, 403, 404),
  },
});

const verifyRoute = createRoute({
  method: "get",
  path: "/api/v1/admin/audit/verify",
  tags,
  security,
  summary:
    "Recompute the hash chain of an org (its admins) or of every chain (platform admins) and name the first broken link",
  request: { query: z.object({ org: z.string().max(300).optional() }) },
  responses: {
    200: {
      description: "The verification report (ok: false names the first broken link)",
      ...json(S.AuditVerifyReport),
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

/** Rows per database page of the export: one chunk in memory at a time. */
const EXPORT_CHUNK = 1000;

export const auditAdmin = openApiApp();
auditAdmin
  .openapi(listRoute, async (c) => {
    const ctx = c.get("ctx");
    const page = await listAuditEvents(ctx.deps, ctx, c.req.valid("query"));
    return c.json({ events: page.events.map(eventJson), nextCursor: page.nextCursor }, 200);
  })
  .openapi(exportRoute, async (c) => {
    // Resolved before the first byte: a refusal is still a clean 4xx with the error body.
    const chunks = await openAuditExport(c.get("ctx"), c.req.valid("query"), {
      chunk: EXPORT_CHUNK,
    });
    const encoder = new TextEncoder();
    // pull() runs only when the consumer has room (the queue below its high-water mark), so the
    // next page is read from the database only as fast as the client reads the response.
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const next = await chunks.next();
            if (next.done) {
              controller.close();
              return;
            }
            let text = "";
            for (const e of next.value) text += `${JSON.stringify(eventJson(e))}\n`;
            controller.enqueue(encoder.encode(text));
          } catch (err) {
            controller.error(err);
          }
        },
        async cancel() {
          await chunks.return(undefined);
        },
      },
      { highWaterMark: 1 },
    );
    return c.body(body, 200, {
      "content-type": "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "content-disposition": 'attachment; filename="packr-audit.ndjson"',
    });
  })
  .openapi(verifyRoute, async (c) => {
    const ctx = c.get("ctx");
    const report = await verifyAuditChain(ctx.deps, ctx, { org: c.req.valid("query").org });
    return c.json(
      { ok: report.ok, chains: report.chains.map((r: ChainReport) => ({ ...r })) },
      200,
    );
  });
