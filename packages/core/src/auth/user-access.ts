import { sql } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import type { Queryable } from "../db/client.ts";

/** The NOTIFY channel on which a change of someone's org roles, teams or grants is announced. */
export const ACCESS_CHANGED = "packr_access_changed";

/**
 * Announce, inside the changing transaction, that these users' access (org roles, team
 * membership, team grants, maintainership) changed: at commit every instance drops what it
 * cached for them, so their tokens act with the new rights at once (and within 5 s at worst).
 */
export async function announceAccessChange(
  tx: Queryable,
  userIds: readonly string[],
): Promise<void> {
  if (userIds.length === 0) return;
  await tx.execute(sql`select pg_notify(${ACCESS_CHANGED}, ${userIds.join(",")})`);
}

/** After commit, on this instance: it must not wait for its own NOTIFY to see its own change. */
export function forgetAccess(_ctx: ServiceContext, _userIds: readonly string[]): void {
  // Filled in with the access cache (auth/user-access cache in Deps).
}
