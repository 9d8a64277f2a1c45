import { and, eq, gte, lte, sql } from "drizzle-orm";
import { assertCanRead } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { usageMetrics } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { findPackageMeta, notFound } from "../packages/get-packument.ts";
import { parsePackageName } from "../packages/names.ts";
import { utcDay } from "./download-counter.ts";

/** npm's `/downloads/point` answer. */
export type DownloadPoint = { downloads: number; start: string; end: string; package: string };

const DAY_MS = 86_400_000;
const PERIODS: Record<string, number> = {
  "last-day": 1,
  "last-week": 7,
  "last-month": 30,
  "last-year": 365,
};
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** npm limits ranges to 18 months; so do we. */
const MAX_RANGE_DAYS = 549;

/**
 * Parse npm's period: `last-day|last-week|last-month|last-year` (ending today, UTC — a private
 * registry's users want today's CI runs counted, where npm ends at yesterday), `YYYY-MM-DD`, or
 * `YYYY-MM-DD:YYYY-MM-DD`.
 */
export function parsePeriod(period: string, now: Date): { start: string; end: string } {
  const days = PERIODS[period];
  const today = now.getTime();
  if (days !== undefined) return { start: utcDay(today - (days - 1) * DAY_MS), end: utcDay(today) };
  const [a, b, extra] = period.split(":");
  const valid = (d: string | undefined): d is string =>
    d !== undefined &&
    DATE.test(d) &&
    !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) &&
    utcDay(Date.parse(`${d}T00:00:00Z`)) === d;
  if (extra !== undefined || !valid(a) || (b !== undefined && !valid(b))) {
    throw new PackrError(
      "VALIDATION",
      `Invalid period "${period.slice(0, 40)}": use last-day, last-week, last-month, last-year, YYYY-MM-DD or YYYY-MM-DD:YYYY-MM-DD.`,
    );
  }
  const start = a;
  const end = b ?? a;
  const span = (Date.parse(end) - Date.parse(start)) / DAY_MS;
  if (span < 0)
    throw new PackrError("VALIDATION", `The period ends (${end}) before it starts (${start}).`);
  if (span >= MAX_RANGE_DAYS) {
    throw new PackrError("VALIDATION", `A period may span at most ${MAX_RANGE_DAYS} days.`);
  }
  return { start, end };
}

/** Downloads of one package over a period, read with the packument's access rules. */
export async function getDownloadPoint(args: {
  ctx: ServiceContext;
  input: { name: string; period: string };
}): Promise<DownloadPoint> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const range = parsePeriod(input.period, ctx.deps.now());
  const meta = await findPackageMeta(ctx, name.name);
  await assertCanRead(ctx, name, meta);
  if (!meta) throw notFound(name.name);
  const downloads = await countDownloads(ctx, meta.id, range);
  return { downloads, start: range.start, end: range.end, package: name.name };
}

/** Flushed counts plus this instance's not-yet-flushed ones. */
export async function countDownloads(
  ctx: ServiceContext,
  packageId: string,
  range: { start: string; end: string },
): Promise<number> {
  const [row] = await ctx.deps.db
    .select({ n: sql<string>`coalesce(sum(${usageMetrics.downloads}), 0)` })
    .from(usageMetrics)
    .where(
      and(
        eq(usageMetrics.packageId, packageId),
        gte(usageMetrics.day, range.start),
        lte(usageMetrics.day, range.end),
      ),
    );
  return Number(row?.n ?? 0) + ctx.deps.downloads.pendingFor(packageId, range.start, range.end);
}
