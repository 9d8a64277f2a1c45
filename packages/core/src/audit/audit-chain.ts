import { createHash } from "node:crypto";
import { and, asc, eq, gt, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import { isAdminPrincipal } from "../auth/principal.ts";
import type { Deps, ServiceContext } from "../context.ts";
import { auditEvents, orgMembers, orgs } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { requireOrgManager } from "../orgs/org-access.ts";
import { parseOrgSlug } from "../orgs/org-names.ts";

/*
 * The hash chain of the audit log. Each event gets, once, after its transaction committed:
 *   chain_seq  its place in its chain (one chain per org; events without an org form the platform
 *              chain), 1, 2, 3, … without gaps;
 *   prev_hash  the hash of the event before it in the chain (null for the first);
 *   hash       SHA-256 over prev_hash and the event's canonical content (canonicalAuditContent).
 * Editing, deleting or reordering a chained event breaks the link at that event; verifyAuditChain
 * recomputes the chain and names the first broken link.
 *
 * Why after commit and not in the change's transaction: chaining in the transaction needs the
 * chain head under a lock, so every change of one org (every publish) would queue behind the one
 * before it until it commits. The chainer instead takes unchained events in (created_at, id)
 * order, one chainer at a time (an advisory lock), and appends them: the order of the chain is the
 * order the chainer saw them committed, recorded in chain_seq, so it is deterministic once written.
 */

type AuditRow = typeof auditEvents.$inferSelect;

/** Arbitrary, fixed: the advisory lock that makes one chainer run at a time across instances. */
const CHAIN_LOCK = 0x70_61_63_6b_72_61;

/** JSON with object keys sorted at every depth: the same content always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** What the hash covers: every column the event was written with (not the chain columns). */
export function canonicalAuditContent(e: AuditRow): string {
  return canonicalJson({
    id: e.id,
    orgId: e.orgId,
    actorType: e.actorType,
    actorId: e.actorId,
    actorName: e.actorName,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    data: e.data,
    requestId: e.requestId,
    ip: e.ip,
    createdAt: e.createdAt.toISOString(),
  });
}

export function auditEventHash(prevHash: string | null, e: AuditRow): string {
  return createHash("sha256")
    .update(`packr-audit-v1\n${prevHash ?? ""}\n${canonicalAuditContent(e)}`)
    .digest("hex");
}

const chainKey = (orgId: string | null) => orgId ?? "";
const inChain = (orgId: string | null): SQL =>
  orgId === null ? isNull(auditEvents.orgId) : eq(auditEvents.orgId, orgId);

/**
 * Chain up to `batch` unchained events (oldest first) and return how many it chained. Safe to run
 * from any number of instances at once (they take turns on an advisory lock); each run is one
 * transaction, so a crash leaves the chain as it was.
 */
export async function chainAuditEvents(deps: Deps, opts: { batch?: number } = {}): Promise<number> {
  const batch = opts.batch ?? 1000;
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`);
    const rows = await tx
      .select()
      .from(auditEvents)
      .where(isNull(auditEvents.hash))
      .orderBy(asc(auditEvents.createdAt), asc(auditEvents.id))
      .limit(batch);
    if (rows.length === 0) return 0;
    const heads = new Map<string, { seq: number; hash: string | null }>();
    const assigned: Array<{ id: string; seq: number; prev: string | null; hash: string }> = [];
    for (const row of rows) {
      const key = chainKey(row.orgId);
      let head = heads.get(key);
      if (!head) {
        const [last] = await tx
          .select({ seq: auditEvents.chainSeq, hash: auditEvents.hash })
          .from(auditEvents)
          .where(
            and(sql`coalesce(${auditEvents.orgId}, '') = ${key}`, isNotNull(auditEvents.chainSeq)),
          )
          .orderBy(sql`coalesce(${auditEvents.orgId}, '')`, sql`${auditEvents.chainSeq} desc`)
          .limit(1);
        head = { seq: last?.seq ?? 0, hash: last?.hash ?? null };
      }
      const hash = auditEventHash(head.hash, row);
      assigned.push({ id: row.id, seq: head.seq + 1, prev: head.hash, hash });
      heads.set(key, { seq: head.seq + 1, hash });
    }
    const values = sql.join(
      assigned.map((a) => sql`(${a.id}, ${a.seq}::bigint, ${a.prev}::text, ${a.hash}::text)`),
      sql`, `,
    );
    await tx.execute(sql`
      update audit_events as a
         set chain_seq = v.seq, prev_hash = v.prev, hash = v.hash
        from (values ${values}) as v(id, seq, prev, hash)
       where a.id = v.id and a.hash is null`);
    return rows.length;
  });
}

/** Chain everything that is waiting (loops over batches). */
export async function chainAllAuditEvents(deps: Deps): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await chainAuditEvents(deps);
    total += n;
    if (n === 0) return total;
  }
}

/**
 * Runs the chainer every `intervalMs` (and when poked) in the background; errors are logged by
 * the caller's `onError` and retried at the next tick. Stopped by `stop()`, which waits for a
 * running pass.
 */
export class AuditChainer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  constructor(
    private readonly deps: Deps,
    private readonly opts: { intervalMs?: number; onError?: (err: unknown) => void } = {},
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.opts.intervalMs ?? 2_000);
    this.timer.unref();
  }

  runOnce(): Promise<void> {
    this.running ??= chainAllAuditEvents(this.deps)
      .then(() => {})
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

export type ChainBreak = {
  eventId: string;
  chainSeq: number | null;
  /** What is wrong at this event. */
  problem: "hash" | "prev_hash" | "sequence";
  expected: string;
  found: string;
};

export type ChainReport = {
  chain: string;
  ok: boolean;
  checked: number;
  /** Events not chained yet (committed after the last chainer pass). */
  unchained: number;
  broken: ChainBreak | null;
};

export type VerifyReport = { ok: boolean; chains: ChainReport[] };

/**
 * Recompute a chain from its first event and report the first broken link: an event whose
 * content no longer gives its hash (edited), whose prev_hash is not its predecessor's hash, or
 * whose chain_seq does not follow its predecessor's (an event deleted or inserted). Reads in
 * pages of 1000, so a long chain costs time, not memory.
 */
export async function verifyChain(
  deps: Deps,
  orgId: string | null,
  label: string,
): Promise<ChainReport> {
  let prev: { seq: number; hash: string } | null = null;
  let checked = 0;
  for (;;) {
    const rows: AuditRow[] = await deps.db
      .select()
      .from(auditEvents)
      .where(
        and(
          inChain(orgId),
          isNotNull(auditEvents.chainSeq),
          prev ? gt(auditEvents.chainSeq, prev.seq) : undefined,
        ),
      )
      .orderBy(asc(auditEvents.chainSeq))
      .limit(1000);
    for (const row of rows) {
      const seq: number = row.chainSeq ?? 0;
      const expectedSeq: number = (prev?.seq ?? 0) + 1;
      const expectedPrev: string | null = prev?.hash ?? null;
      let broken: ChainBreak | null = null;
      if (seq !== expectedSeq) {
        broken = {
          eventId: row.id,
          chainSeq: seq,
          problem: "sequence",
          expected: String(expectedSeq),
          found: String(seq),
        };
      } else if (row.prevHash !== expectedPrev) {
        broken = {
          eventId: row.id,
          chainSeq: seq,
          problem: "prev_hash",
          expected: expectedPrev ?? "(none)",
          found: row.prevHash ?? "(none)",
        };
      } else {
        const hash = auditEventHash(row.prevHash, row);
        if (hash !== row.hash) {
          broken = {
            eventId: row.id,
            chainSeq: seq,
            problem: "hash",
            expected: hash,
            found: row.hash ?? "(none)",
          };
        }
      }
      if (broken) {
        return {
          chain: label,
          ok: false,
          checked,
          unchained: await countUnchained(deps, orgId),
          broken,
        };
      }
      checked++;
      prev = { seq, hash: row.hash ?? "" };
    }
    if (rows.length < 1000) break;
  }
  return {
    chain: label,
    ok: true,
    checked,
    unchained: await countUnchained(deps, orgId),
    broken: null,
  };
}

async function countUnchained(deps: Deps, orgId: string | null): Promise<number> {
  const [row] = await deps.db
    .select({ n: sql<number>`count(*)::int` })
    .from(auditEvents)
    .where(and(inChain(orgId), isNull(auditEvents.hash)));
  return row?.n ?? 0;
}

/**
 * `packr-cli audit verify [--org]`: chain what is waiting, then recompute the chain of `org` (its
 * admins and platform admins; anyone else the same 404 as for a missing org), or, without `org`,
 * every chain (platform admins only).
 */
export async function verifyAuditChain(
  deps: Deps,
  ctx: ServiceContext,
  input: { org?: string | undefined },
): Promise<VerifyReport> {
  let slug: string | undefined;
  if (input.org !== undefined && input.org !== "") {
    try {
      slug = parseOrgSlug(input.org);
    } catch {
      throw new PackrError("VALIDATION", `"org" must be an org's slug (its npm scope without @).`);
    }
  }
  const principal = requireOrgManager(ctx, "verify the audit log", slug);
  const platform = isAdminPrincipal(principal);
  if (slug === undefined && !platform) {
    throw new PackrError(
      "FORBIDDEN",
      "Verifying every chain needs a platform admin; pass an org you administer (--org <slug>).",
    );
  }
  await chainAllAuditEvents(deps);
  if (slug !== undefined) {
    const [org] = await deps.db
      .select({ id: orgs.id, name: orgs.name, role: orgMembers.role })
      .from(orgs)
      .leftJoin(
        orgMembers,
        and(eq(orgMembers.orgId, orgs.id), eq(orgMembers.userId, principal.userId)),
      )
      .where(sql`lower(${orgs.name}) = ${slug}`)
      .limit(1);
    if (!org || !(platform || org.role === "admin")) {
      throw new PackrError(
        "NOT_FOUND",
        `There is no org @${slug} here whose audit log you may verify (org admins and platform admins only).`,
        { details: { org: slug } },
      );
    }
    const report = await verifyChain(deps, org.id, `@${org.name}`);
    return { ok: report.ok, chains: [report] };
  }
  const keys = await deps.db
    .selectDistinct({ orgId: auditEvents.orgId, slug: orgs.name })
    .from(auditEvents)
    .leftJoin(orgs, eq(orgs.id, auditEvents.orgId))
    .where(isNotNull(auditEvents.orgId));
  const chains = [await verifyChain(deps, null, "platform")];
  for (const k of keys) {
    chains.push(await verifyChain(deps, k.orgId, k.slug ? `@${k.slug}` : `org ${k.orgId}`));
  }
  return { ok: chains.every((c) => c.ok), chains };
}
