import { eq } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import type { ServiceContext } from "../context.ts";
import { orgs } from "../db/schema/index.ts";
import { emitEvent } from "../events/emit-event.ts";
import { lockOrg } from "./lock-org.ts";
import { manageOrg } from "./org-access.ts";
import { parseDisplayName } from "./org-names.ts";
import type { OrgSummary } from "./org-views.ts";

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
    await emitAudit(tx, ctx, {
      action: "org.updated",
      targetType: "org",
      targetId: org.id,
      orgId: org.id,
      data,
    });
    await emitEvent(tx, { type: "org.updated", orgId: org.id, data }, now);
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
