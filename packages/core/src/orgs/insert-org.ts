import { sql } from "drizzle-orm";
import { announceAccessChange } from "../auth/user-access.ts";
import type { ServiceContext, Tx } from "../context.ts";
import { orgMembers, orgs, packages } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { newId } from "../ids.ts";
import { recordOrgChange } from "./record-org-change.ts";

export type OrgRow = typeof orgs.$inferSelect;

/**
 * Create an org inside the caller's transaction with `adminUserId` as its first admin: the one
 * path for `POST /api/v1/admin/orgs`, `npm org`-less first publishes into an unclaimed scope
 * (PACKR_SCOPE_CLAIM=first-publish) and a platform admin's claim of a scope that already holds
 * packages (those packages then belong to the org). The slug must already be validated and
 * lower-case. A slug taken in any letter case is a 409.
 */
export async function insertOrg(
  tx: Tx,
  ctx: ServiceContext,
  input: { name: string; displayName?: string | null; adminUserId: string },
): Promise<OrgRow> {
  const now = ctx.deps.now();
  const [org] = await tx
    .insert(orgs)
    .values({
      id: newId("org"),
      name: input.name,
      displayName: input.displayName ?? null,
      createdBy: input.adminUserId,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning();
  if (!org) {
    throw new PackrError("CONFLICT", `The org @${input.name} already exists.`, {
      details: { org: input.name },
    });
  }
  await tx.insert(orgMembers).values({
    orgId: org.id,
    userId: input.adminUserId,
    role: "admin",
    createdAt: now,
    updatedAt: now,
  });
  // Packages already in the scope (published before the org existed) now belong to it.
  await tx
    .update(packages)
    .set({ orgId: org.id })
    .where(sql`lower(${packages.scope}) = ${org.name}`);
  await recordOrgChange(
    tx,
    ctx,
    {
      type: "org.created",
      orgId: org.id,
      target: { type: "org", id: org.id },
      data: { org: org.name, admin: input.adminUserId },
    },
    now,
  );
  await announceAccessChange(tx, [input.adminUserId]);
  return org;
}
