import { type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { packages } from "../db/schema/index.ts";

/**
 * The packages an org owns, as a condition on `packages`: those of its scope (any letter case)
 * with at least one live version. A package whose every version was unpublished no longer counts,
 * so it does not keep an org from being deleted.
 */
export const ownedBy = (slug: string): SQL =>
  sql`lower(${packages.scope}) = ${slug} and exists (select 1 from versions v where v.package_id = ${packages.id} and v.unpublished_at is null)`;

/** How many packages the org owns, and the first few names (for a refusal that names them). */
export async function ownedPackages(
  db: Queryable,
  slug: string,
): Promise<{ count: number; first: string[] }> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(packages)
    .where(ownedBy(slug));
  const count = Number(row?.count ?? 0);
  if (count === 0) return { count, first: [] };
  const first = await db
    .select({ name: packages.name })
    .from(packages)
    .where(ownedBy(slug))
    .orderBy(packages.name)
    .limit(3);
  return { count, first: first.map((r) => r.name) };
}
