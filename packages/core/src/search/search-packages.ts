import { and, eq, type SQL, sql } from "drizzle-orm";
import { readableCondition } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { packageSearch, packages } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { parseSearchText } from "./search-query.ts";

export type SearchInput = {
  text: string | undefined;
  size?: string | undefined;
  from?: string | undefined;
  quality?: string | undefined;
  popularity?: string | undefined;
  maintenance?: string | undefined;
};

type Person = { username: string; email: string };

/** The response of `GET /-/v1/search` (npm REGISTRY-API.md; `maintainers` is always an array). */
export type SearchResult = {
  objects: Array<{
    package: {
      name: string;
      scope: string;
      version: string;
      description?: string;
      keywords: string[];
      date: string;
      links: Record<string, string>;
      publisher?: Person;
      maintainers: Person[];
    };
    score: { final: number; detail: { quality: number; popularity: number; maintenance: number } };
    searchScore: number;
    flags?: { deprecated: string };
  }>;
  total: number;
  time: string;
};

const DEFAULT_SIZE = 20;
const MAX_SIZE = 250;
const MAX_FROM = 10_000;
/** word_similarity above which a name counts as a typo of the text ("exprss" → "express"). */
const TYPO_THRESHOLD = 0.5;

/**
 * Relevance tiers, best first: the name is the text, the name starts with it, a name word matches
 * (or the name is a near miss of the text), a keyword matches, the description matches, the readme
 * (or words spread over several fields) matches. Qualifier-only searches are all tier 0.
 */
const TIER = { exact: 6, prefix: 5, name: 4, keywords: 3, description: 2, other: 1 } as const;

/**
 * npm search over the search documents kept by every package change (search-document.ts):
 * PostgreSQL full-text search with prefix matching per word, trigram (pg_trgm) matching of the
 * name for typos, npm's qualifiers, and only packages the caller may read. Results are ordered by
 * tier, then by text relevance plus the score the request's quality/popularity/maintenance
 * weights make of each package's detail scores; `searchScore` is that order as a number.
 */
export async function searchPackages(args: {
  ctx: ServiceContext;
  input: SearchInput;
}): Promise<SearchResult> {
  const { ctx, input } = args;
  const query = parseSearchText(input.text ?? "");
  // A page larger than the maximum is clamped to it, as on npmjs (clients ask for "all" that way).
  const size = intParam(input.size, "size", DEFAULT_SIZE, 1, MAX_SIZE, { clampAbove: true });
  const from = intParam(input.from, "from", 0, 0, MAX_FROM);
  const weights = {
    quality: weightParam(input.quality, "quality", 0.65),
    popularity: weightParam(input.popularity, "popularity", 0.98),
    maintenance: weightParam(input.maintenance, "maintenance", 0.5),
  };
  const now = ctx.deps.now();

  const s = packageSearch;
  const text = query.text;
  const basename = sql`regexp_replace(lower(${s.name}), '^@[^/]+/', '')`;
  const likePrefix = `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  // Each word as a prefix, under both dictionaries: 'simple' for names and keywords as written,
  // 'english' for stemmed prose. Words are letters and digits only, and travel as parameters.
  const tsq =
    query.words.length === 0
      ? null
      : sql.join(
          query.words.map(
            (w) => sql`(to_tsquery('simple', ${`${w}:*`}) || to_tsquery('english', ${`${w}:*`}))`,
          ),
          sql` && `,
        );
  const useTrigram = text.length >= 3;
  const typo = useTrigram ? sql`${text} <% lower(${s.name})` : sql`false`;
  const weightMatch = (w: string) =>
    tsq ? sql`ts_filter(${s.document}, ${`{${w}}`}::"char"[]) @@ (${tsq})` : sql`false`;

  const tier: SQL =
    tsq === null && !useTrigram
      ? sql`0`
      : sql`case
          when ${sql.raw(String(query.boostExact))} and (lower(${s.name}) = ${text} or ${basename} = ${text}) then ${sql.raw(String(TIER.exact))}
          when lower(${s.name}) like ${likePrefix} or ${basename} like ${likePrefix} then ${sql.raw(String(TIER.prefix))}
          when ${weightMatch("a")} or ${typo} then ${sql.raw(String(TIER.name))}
          when ${weightMatch("b")} then ${sql.raw(String(TIER.keywords))}
          when ${weightMatch("c")} then ${sql.raw(String(TIER.description))}
          else ${sql.raw(String(TIER.other))} end`;
  // Text relevance within a tier, in [0, 1): ts_rank normalized by rank/(rank+1), and the
  // similarity of the whole name (so "expres" puts express before express-session).
  const within = sql`(${tsq ? sql`ts_rank(${s.document}, (${tsq}), 32)` : sql`0`} * 0.5 + ${useTrigram ? sql`similarity(${text}, lower(${s.name}))` : sql`0`} * 0.5 * 0.999)`;
  const popularity = sql`least(1.0, ln(1 + ${s.stars}) / ln(101))`;
  const ageDays = sql`(extract(epoch from (${now.toISOString()}::timestamptz - ${s.publishedAt})) / 86400)`;
  const maintenance = sql`case when ${s.deprecated} is not null then 0.0 else greatest(0.25, least(1.0, 1 - (${ageDays} - 365) / 1460)) end`;
  const weightSum = weights.quality + weights.popularity + weights.maintenance;
  const final =
    weightSum === 0
      ? sql`0.0`
      : sql`((${weights.quality}::float8 * ${s.quality} + ${weights.popularity}::float8 * ${popularity} + ${weights.maintenance}::float8 * ${maintenance}) / ${weightSum}::float8)`;
  const searchScore = sql<number>`(${tier} + (${within} + ${final}) / 2)::float8`;

  const conditions: SQL[] = [];
  const readable = readableCondition(ctx.actor);
  if (readable) conditions.push(readable);
  if (tsq || useTrigram) {
    const matches = [tsq ? sql`${s.document} @@ (${tsq})` : null, useTrigram ? typo : null].filter(
      (m): m is SQL => m !== null,
    );
    conditions.push(sql`(${sql.join(matches, sql` or `)})`);
  }
  for (const group of query.keywordGroups) {
    const list = sql.join(
      group.map((k) => sql`${k}`),
      sql`, `,
    );
    conditions.push(
      sql`exists (select 1 from unnest(${s.keywords}) k where lower(k) in (${list}))`,
    );
  }
  if (query.author !== null) {
    conditions.push(
      sql`(${s.author} = ${query.author} or lower(${s.publisher}->>'username') = ${query.author})`,
    );
  }
  if (query.maintainer !== null) {
    conditions.push(sql`${query.maintainer} = any(${s.maintainerNames})`);
  }
  if (query.scope !== null) conditions.push(sql`lower(${s.scope}) = ${query.scope}`);
  if (query.deprecated !== null) {
    conditions.push(
      query.deprecated ? sql`${s.deprecated} is not null` : sql`${s.deprecated} is null`,
    );
  }

  const { page: rows, total } = await ctx.deps.db.transaction(
    async (tx) => {
      // `<%` (index-served by the trigram GIN index) compares with this threshold; local to the transaction.
      if (useTrigram) {
        await tx.execute(
          sql`select set_config('pg_trgm.word_similarity_threshold', ${String(TYPO_THRESHOLD)}, true)`,
        );
      }
      const page = await tx
        .select({
          name: s.name,
          scope: s.scope,
          version: s.version,
          description: s.description,
          keywords: s.keywords,
          publisher: s.publisher,
          maintainers: s.maintainers,
          links: s.links,
          deprecated: s.deprecated,
          publishedAt: s.publishedAt,
          quality: s.quality,
          popularity: sql<number>`${popularity}::float8`,
          maintenance: sql<number>`(${maintenance})::float8`,
          final: sql<number>`(${final})::float8`,
          searchScore: searchScore.as("search_score"),
          total: sql<number>`(count(*) over ())::int`,
        })
        .from(s)
        .innerJoin(packages, eq(packages.id, s.packageId))
        .where(conditions.length > 0 ? and(...conditions) : undefined)
        .orderBy(sql`search_score desc`, s.name)
        .limit(size)
        .offset(from);
      // Paged past the end, the window count is not there: count on its own (rare).
      const total =
        page[0]?.total ??
        (from === 0
          ? 0
          : ((
              await tx
                .select({ n: sql<number>`count(*)::int` })
                .from(s)
                .innerJoin(packages, eq(packages.id, s.packageId))
                .where(conditions.length > 0 ? and(...conditions) : undefined)
            )[0]?.n ?? 0));
      return { page, total };
    },
    { accessMode: "read only" },
  );

  const baseUrl = ctx.deps.publicUrl();
  return {
    objects: rows.map((r) => ({
      package: {
        name: r.name,
        scope: r.scope ?? "unscoped",
        version: r.version,
        ...(r.description ? { description: r.description } : {}),
        keywords: r.keywords,
        date: r.publishedAt.toISOString(),
        // No package web pages yet (the dashboard, issue #4): `npm` links the packument here.
        links: { npm: `${baseUrl}/${r.name}`, ...r.links },
        ...(r.publisher ? { publisher: r.publisher } : {}),
        maintainers: r.maintainers,
      },
      score: {
        final: round(Number(r.final)),
        detail: {
          quality: round(Number(r.quality)),
          popularity: round(Number(r.popularity)),
          maintenance: round(Number(r.maintenance)),
        },
      },
      searchScore: round(Number(r.searchScore)),
      ...(r.deprecated ? { flags: { deprecated: r.deprecated } } : {}),
    })),
    total,
    // An ISO 8601 date-time, as npm's registry API documents it (search.yaml: format date-time).
    time: now.toISOString(),
  };
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;

function intParam(
  raw: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
  opts: { clampAbove?: boolean } = {},
): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n > max && opts.clampAbove) return max;
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = opts.clampAbove ? `at least ${min}` : `from ${min} to ${max}`;
    throw new PackrError("VALIDATION", `${name} must be a whole number ${range}.`);
  }
  return n;
}

function weightParam(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 100) {
    throw new PackrError("VALIDATION", `${name} must be a number from 0 to 100.`);
  }
  return n;
}
