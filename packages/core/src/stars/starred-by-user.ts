import { and, asc, eq, type SQL } from "drizzle-orm";
import { readableCondition } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { packageStars, packages, users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";

export type StarredRows = { rows: Array<{ key: string; value: string }> };

/**
 * npm stars: `GET /-/_view/starredByUser?key="alice"` (a CouchDB view; the key is a quoted JSON
 * string) → the packages the user starred, as view rows. Restricted packages are listed only to
 * callers who may read them; an unknown user has starred nothing.
 */
export async function starredByUser(args: {
  ctx: ServiceContext;
  input: { key: string | undefined };
}): Promise<StarredRows> {
  const { ctx } = args;
  const user = parseKey(args.input.key);
  const conditions: Array<SQL | undefined> = [eq(users.name, user), readableCondition(ctx.actor)];
  const rows = await ctx.deps.db
    .select({ name: packages.name })
    .from(packageStars)
    .innerJoin(users, eq(users.id, packageStars.userId))
    .innerJoin(packages, eq(packages.id, packageStars.packageId))
    .where(and(...conditions))
    .orderBy(asc(packages.name))
    .limit(10_000);
  return { rows: rows.map((r) => ({ key: user, value: r.name })) };
}

function parseKey(raw: string | undefined): string {
  let key: unknown;
  try {
    key = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    key = undefined;
  }
  if (typeof key !== "string" || key === "" || key.length > 214) {
    throw new PackrError(
      "VALIDATION",
      'starredByUser needs key set to a user name as a JSON string: ?key="alice".',
    );
  }
  return key;
}
