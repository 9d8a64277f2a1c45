import { z } from "zod";

/**
 * The audit log API (`GET /api/v1/admin/audit`, `…/audit/export`, `…/audit/verify`): the event
 * document, a page of them, and the chain verification report. `@packr/agent` types its `audit`
 * calls with these. Dates are ISO 8601 strings.
 */

export const AuditEvent = z.object({
  id: z.string(),
  createdAt: z.string(),
  /** `{module}.{verb}`: `package.publish`, `auth.sign_in_failed`, `org.member.added`, … */
  action: z.string(),
  /** Who did it: `token`, `session`, `system` or `anonymous` (failed sign-ins). */
  actor: z.object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
  org: z.object({ id: z.string(), slug: z.string().nullable() }).nullable(),
  target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
  /** What changed; a token actor's `tokenId` and `tokenName` are here. */
  data: z.record(z.string(), z.unknown()),
  /** The client address the registry saw. */
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
  /** The event's link in its org's hash chain; null until the chainer has linked it. */
  chain: z
    .object({ seq: z.number().int(), prevHash: z.string().nullable(), hash: z.string() })
    .nullable(),
});

export const AuditPage = z.object({
  events: z.array(AuditEvent),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: z.string().nullable(),
});

export const AuditChainReport = z.object({
  /** `platform` or `@<org>`. */
  chain: z.string(),
  ok: z.boolean(),
  checked: z.number().int(),
  unchained: z.number().int(),
  broken: z
    .object({
      eventId: z.string(),
      chainSeq: z.number().int().nullable(),
      problem: z.enum(["hash", "prev_hash", "sequence"]),
      expected: z.string(),
      found: z.string(),
    })
    .nullable(),
});

export const AuditVerifyReport = z.object({
  ok: z.boolean(),
  chains: z.array(AuditChainReport),
});

/** The filters of a listing and an export. */
export const AuditFilters = z.object({
  actor: z.string().optional(),
  action: z.string().optional(),
  package: z.string().optional(),
  org: z.string().optional(),
  since: z.string().optional(),
  until: z.string().optional(),
});

export type AuditEvent = z.infer<typeof AuditEvent>;
export type AuditPage = z.infer<typeof AuditPage>;
export type AuditChainReport = z.infer<typeof AuditChainReport>;
export type AuditVerifyReport = z.infer<typeof AuditVerifyReport>;
export type AuditFilters = z.infer<typeof AuditFilters>;
