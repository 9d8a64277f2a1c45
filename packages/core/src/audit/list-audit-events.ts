import { and, desc, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import { isAdminPrincipal, type Principal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { auditEvents, orgMembers, orgs, packageMaintainers, packages } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { requireOrgManager } from "../orgs/org-access.ts";
import { parseOrgSlug } from "../orgs/org-names.ts";
import { parsePackageName } from "../packages/names.ts";

/** The filters of `GET /api/v1/admin/audit` and its export, as they arrive (strings). */
export type AuditFilters = {
  /** The actor's user name (as recorded at the time). */
  actor?: string | undefined;
  /** `package.` matches every `package.*`; `package.publish` that action (and `package.publish.*`). */
  action?: string | undefined;
  /** A package name: the events about it. */
  package?: string | undefined;
  /** An org slug: the org's events (its admins and platform admins only). */
  org?: string | undefined;
  /** ISO 8601 bounds on the event time: since inclusive, until exclusive. */
  since?: string | undefined;
  until?: string | undefined;
};

export type AuditPageInput = AuditFilters & {
  /** Opaque, from the previous page's `nextCursor`. */
  cursor?: string | undefined;
  /** 1–500, default 100. */
  limit?: number | string | undefined;
};

export type AuditEvent = {
  id: string;
  createdAt: Date;
  action: string;
  actor: { type: string; id: string | null; name: string | null };
  org: { id: string; slug: string | null } | null;
  target: { type: string; id: string | null } | null;
  data: Record<string, unknown>;
  ip: string | null;
  requestId: string | null;
  /** Null until the chainer has linked the event (audit-chain.ts). */
  chain: { seq: number; prevHash: string | null; hash: string } | null;
};

export type AuditPage = { events: AuditEvent[]; nextCursor: string | null };

export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 500;

const ACTION = /^[a-z0-9_]+(\.[a-z0-9_]+)*\.?$/;
const ACTOR = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

const invalid = (message: string, field: string) =>
  new PackrError("VALIDATION", message, { details: { field } });

function parseTime(raw: string | undefined, field: "since" | "until"): Date | undefined {
  if (raw === undefined || raw === "") return undefined;
  const t = raw.length <= 40 && /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(t)) {
    throw invalid(
      `"${field}" must be an ISO 8601 date or time, like 2026-01-31 or 2026-01-31T12:00:00Z.`,
      field,
    );
  }
  return new Date(t);
}

export function parseAuditLimit(raw: number | string | undefined): number {
  if (raw === undefined || raw === "") return AUDIT_PAGE_DEFAULT;
  const n = typeof raw === "number" ? raw : /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > AUDIT_PAGE_MAX) {
    throw invalid(`"limit" must be a whole number from 1 to ${AUDIT_PAGE_MAX}.`, "limit");
  }
  return n;
}

type Cursor = { at: string; id: string };

const encodeCursor = (c: Cursor): string =>
  Buffer.from(JSON.stringify([c.at, c.id])).toString("base64url");

function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined || raw === "") return undefined;
  const bad = () =>
    invalid(
      "That cursor is not one this API gave out; start again without it and follow nextCursor.",
      "cursor",
    );
  if (raw.length > 200 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw bad();
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === "string" &&
      typeof v[1] === "string" &&
      !Number.isNaN(Date.parse(v[0])) &&
      /^evt_[A-Za-z0-9_-]{1,60}$/.test(v[1])
    ) {
      return { at: v[0], id: v[1] };
    }
  } catch {
    // falls through to the same refusal
  }
  throw bad();
}

/**
 * Who may read which events, and the filters, as SQL conditions: resolved once per listing (an
 * export reuses them for every chunk). A person reads the audit log, by session or with a
 * maintainer/admin token (CI tokens read nothing: 403). A platform admin sees every event; anyone
 * else their own actions, events on their own account (failed sign-ins included), events on
 * packages they maintain, and every event of the orgs they administer. `org` or `package` that
 * the caller may not see is the same 404 as one that does not exist.
 */
export async function resolveAuditQuery(
  ctx: ServiceContext,
  filters: AuditFilters,
): Promise<{ where: SQL | undefined; principal: Principal }> {
  const db = ctx.deps.db;
  const slug = filters.org ? parseAuditOrg(filters.org) : undefined;
  const principal = requireOrgManager(ctx, "read the audit log", slug);
  const platform = isAdminPrincipal(principal);
  const conds: SQL[] = [];

  if (filters.actor !== undefined && filters.actor !== "") {
    if (!ACTOR.test(filters.actor)) {
      throw invalid(`"actor" must be a user name (letters, digits, ".", "_", "-").`, "actor");
    }
    conds.push(eq(auditEvents.actorName, filters.actor));
  }
  if (filters.action !== undefined && filters.action !== "") {
    const a = filters.action.toLowerCase();
    if (a.length > 100 || !ACTION.test(a)) {
      throw invalid(
        `"action" must be an action or its prefix, like package.publish or package.`,
        "action",
      );
    }
    if (a.endsWith(".")) conds.push(sql`${auditEvents.action} like ${`${a}%`}`);
    else {
      const either = or(eq(auditEvents.action, a), sql`${auditEvents.action} like ${`${a}.%`}`);
      if (either) conds.push(either);
    }
  }
  const since = parseTime(filters.since, "since");
  const until = parseTime(filters.until, "until");
  if (since && until && since.getTime() >= until.getTime()) {
    throw invalid(`"since" must be before "until".`, "since");
  }
  if (since) conds.push(sql`${auditEvents.createdAt} >= ${since.toISOString()}::timestamptz`);
  if (until) conds.push(sql`${auditEvents.createdAt} < ${until.toISOString()}::timestamptz`);

  let adminOf: string[] = [];
  if (!platform) {
    const rows = await db
      .select({ orgId: orgMembers.orgId })
      .from(orgMembers)
      .where(and(eq(orgMembers.userId, principal.userId), eq(orgMembers.role, "admin")));
    adminOf = rows.map((r) => r.orgId);
  }

  let orgWide = platform;
  if (slug !== undefined) {
    const [org] = await db
      .select({ id: orgs.id })
      .from(orgs)
      .where(sql`lower(${orgs.name}) = ${slug}`)
      .limit(1);
    if (!org || !(platform || adminOf.includes(org.id))) {
      throw new PackrError(
        "NOT_FOUND",
        `There is no org @${slug} here whose audit log you may read (org admins and platform admins only).`,
        { details: { org: slug } },
      );
    }
    conds.push(eq(auditEvents.orgId, org.id));
    orgWide = true; // an admin of the org (or a platform admin) sees all of its events
  }

  if (filters.package !== undefined && filters.package !== "") {
    let name: string;
    try {
      name = parsePackageName(filters.package).name;
    } catch {
      throw invalid(`"package" must be a package name, like @acme/widget or left-pad.`, "package");
    }
    const [pkg] = await db
      .select({ id: packages.id, orgId: packages.orgId })
      .from(packages)
      .where(eq(packages.name, name))
      .limit(1);
    let mayRead =
      pkg !== undefined && (platform || (pkg.orgId !== null && adminOf.includes(pkg.orgId)));
    if (pkg && !mayRead) {
      const [m] = await db
        .select({ userId: packageMaintainers.userId })
        .from(packageMaintainers)
        .where(
          and(
            eq(packageMaintainers.packageId, pkg.id),
            eq(packageMaintainers.userId, principal.userId),
          ),
        )
        .limit(1);
      mayRead = m !== undefined;
    }
    if (!pkg || !mayRead) {
      throw new PackrError(
        "NOT_FOUND",
        `There is no package ${name} here whose audit log you may read (its maintainers, its org's admins and platform admins only).`,
        { details: { package: name } },
      );
    }
    conds.push(eq(auditEvents.targetType, "package"), eq(auditEvents.targetId, pkg.id));
    orgWide = true; // a maintainer sees every event on the package
  }

  if (!orgWide) {
    const me = principal.userId;
    const visible = or(
      eq(auditEvents.actorId, me),
      and(eq(auditEvents.targetType, "user"), eq(auditEvents.targetId, me)),
      and(
        eq(auditEvents.targetType, "package"),
        inArray(
          auditEvents.targetId,
          db
            .select({ id: packageMaintainers.packageId })
            .from(packageMaintainers)
            .where(eq(packageMaintainers.userId, me)),
        ),
      ),
      ...(adminOf.length > 0 ? [inArray(auditEvents.orgId, adminOf)] : []),
    );
    if (visible) conds.push(visible);
  }
  return { where: conds.length > 0 ? and(...conds) : undefined, principal };
}

function parseAuditOrg(raw: string): string {
  try {
    return parseOrgSlug(raw);
  } catch {
    throw invalid(`"org" must be an org's slug (its npm scope without @).`, "org");
  }
}

/** One keyset page, newest first by (created_at, id), after `cursor`. */
export async function readAuditPage(
  ctx: ServiceContext,
  where: SQL | undefined,
  limit: number,
  cursor: Cursor | undefined,
): Promise<AuditPage> {
  const after = cursor
    ? sql`(${auditEvents.createdAt}, ${auditEvents.id}) < (${cursor.at}::timestamptz, ${cursor.id})`
    : undefined;
  const rows = await ctx.deps.db
    .select({
      e: auditEvents,
      at: sql<string>`${auditEvents.createdAt}::text`,
      slug: orgs.name,
    })
    .from(auditEvents)
    .leftJoin(orgs, eq(orgs.id, auditEvents.orgId))
    .where(and(where, after))
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(limit + 1);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    events: page.map((r) => toAuditEvent(r.e, r.slug)),
    nextCursor: more && last ? encodeCursor({ at: last.at, id: last.e.id }) : null,
  };
}

export function toAuditEvent(e: typeof auditEvents.$inferSelect, slug: string | null): AuditEvent {
  return {
    id: e.id,
    createdAt: e.createdAt,
    action: e.action,
    actor: { type: e.actorType, id: e.actorId, name: e.actorName },
    org: e.orgId ? { id: e.orgId, slug } : null,
    target: e.targetType ? { type: e.targetType, id: e.targetId } : null,
    data: e.data,
    ip: e.ip,
    requestId: e.requestId,
    chain:
      e.hash !== null && e.chainSeq !== null
        ? { seq: e.chainSeq, prevHash: e.prevHash, hash: e.hash }
        : null,
  };
}

/**
 * `GET /api/v1/admin/audit`: a page of the events the caller may see, newest first, filtered
 * (see AuditFilters) and paged by an opaque keyset cursor. Bad filters are 400 VALIDATION.
 */
export async function listAuditEvents(
  deps: ServiceContext["deps"],
  ctx: ServiceContext,
  input: AuditPageInput,
): Promise<AuditPage> {
  const scoped = deps === ctx.deps ? ctx : { ...ctx, deps };
  const limit = parseAuditLimit(input.limit);
  const cursor = decodeCursor(input.cursor);
  const { where } = await resolveAuditQuery(scoped, input);
  return readAuditPage(scoped, where, limit, cursor);
}

/**
 * Every visible event matching the filters, newest first, a chunk at a time (keyset pages of
 * `chunk` rows): the export never holds more than one chunk. The next chunk is read only when the
 * consumer asks for it, so a slow reader holds the query back instead of memory filling up. The
 * query (and who may run it) is resolved up front, so a refusal is a clean 4xx before any byte
 * is streamed.
 */
export async function openAuditExport(
  ctx: ServiceContext,
  filters: AuditFilters,
  opts: { chunk?: number } = {},
): Promise<AsyncGenerator<AuditEvent[]>> {
  const { where } = await resolveAuditQuery(ctx, filters);
  const chunk = Math.min(Math.max(opts.chunk ?? 1000, 1), 5000);
  return (async function* () {
    let cursor: Cursor | undefined;
    for (;;) {
      const page = await readAuditPage(ctx, where, chunk, cursor);
      if (page.events.length > 0) yield page.events;
      if (!page.nextCursor) return;
      cursor = decodeCursor(page.nextCursor);
    }
  })();
}
