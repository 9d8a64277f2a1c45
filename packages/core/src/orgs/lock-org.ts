import { eq } from "drizzle-orm";
import type { Tx } from "../context.ts";
import { orgs } from "../db/schema/index.ts";
import type { OrgRow } from "./insert-org.ts";
import { orgNotFound } from "./org-access.ts";

/**
 * Lock the org's row for the rest of the transaction. Every change of its members, teams and
 * grants takes this lock first, so two admins demoting each other at once cannot both pass the
 * last-admin check, and a change racing the org's deletion finds it gone (404) instead of failing
 * on a foreign key.
 */
export async function lockOrg(tx: Tx, org: OrgRow): Promise<OrgRow> {
  const [row] = await tx.select().from(orgs).where(eq(orgs.id, org.id)).for("update");
  if (!row) throw orgNotFound(org.name);
  return row;
}
