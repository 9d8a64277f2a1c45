import { eq } from "drizzle-orm";
import type { Tx } from "../context.ts";
import { orgs } from "../db/schema/index.ts";
import type { OrgRow } from "./insert-org.ts";
import { assertManager, type ManagedOrg, orgNotFound, orgRoleOf } from "./org-access.ts";

/**
 * Lock the org's row for the rest of the transaction, and look again, under the lock, at whether
 * the caller still manages it. Every change of its members, teams and grants takes this lock
 * first, so two admins demoting each other at once cannot both pass the last-admin check, an
 * admin demoted a moment ago cannot finish one more change, and a change racing the org's
 * deletion finds it gone (404) instead of failing on a foreign key.
 */
export async function lockOrg(tx: Tx, managed: ManagedOrg): Promise<OrgRow> {
  const [row] = await tx.select().from(orgs).where(eq(orgs.id, managed.org.id)).for("update");
  if (!row) throw orgNotFound(managed.org.name);
  const role = await orgRoleOf(tx, row.id, managed.principal.userId);
  assertManager(managed.principal, row.name, role, managed.action);
  return row;
}
