import { eq } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { orgs } from "../db/schema/index.ts";
import { lockOrg } from "./lock-org.ts";
import { manageOrg } from "./org-access.ts";
import { parseDisplayName } from "./org-names.ts";
import type { OrgSummary } from "./org-views.ts";
import { recordOrgChange } from "./record-org-change.ts";

/** Change an org's settings (its display name; null or empty clears it). Org admins only. */
export async function updateOrg(args: {
  ctx: ServiceContext;
  input: { org: string; displayName: string | null };
}): Promise<OrgSummary> {
  const { ctx } = args;
  const managed = await manageOrg(ctx, args.input.org, "change the org's settings");
  const { org, role } = managed;
  const displayName = parseDisplayName(args.input.displayName);
  const now = ctx.deps.now();
  const updated = await ctx.deps.db.transaction(async (tx) => {
    const current = await lockOrg(tx, managed);
    if (current.displayName === displayName) return current;
    const [row] = await tx
      .update(orgs)
      .set({ displayName, updatedAt: now })
      .where(eq(orgs.id, org.id))
      .returning();
    const data = { org: org.name, from: { displayName: current.displayName }, to: { displayName } };
    await recordOrgChange(
      tx,
      ctx,
      { type: "org.updated", orgId: org.id, target: { type: "org", id: org.id }, data },
      now,
    );
    return row ?? current;
  });
  return {
    id: updated.id,
    name: updated.name,
    displayName: updated.displayName,
    createdAt: updated.createdAt,
    role,
  };
}
