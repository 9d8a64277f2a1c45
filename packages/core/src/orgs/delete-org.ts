import { eq } from "drizzle-orm";
import { announceAccessChange, forgetAccess } from "../auth/user-access.ts";
import type { ServiceContext } from "../context.ts";
import { orgMembers, orgs } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { lockOrg } from "./lock-org.ts";
import { manageOrg } from "./org-access.ts";
import { ownedPackages } from "./org-packages-sql.ts";
import { recordOrgChange } from "./record-org-change.ts";

/**
 * Delete an org with its members, teams and grants. Refused (409) while its scope holds packages
 * with live versions: deleting the org would leave them without the members who may read and
 * publish them, and free the scope for anyone to claim. Org admins (and platform admins) only.
 */
export async function deleteOrg(args: {
  ctx: ServiceContext;
  input: { org: string };
}): Promise<{ ok: true }> {
  const { ctx } = args;
  const managed = await manageOrg(ctx, args.input.org, "delete the org");
  const { org } = managed;
  const now = ctx.deps.now();
  const memberIds = await ctx.deps.db.transaction(async (tx) => {
    await lockOrg(tx, managed);
    const owned = await ownedPackages(tx, org.name);
    if (owned.count > 0) {
      throw new PackrError(
        "CONFLICT",
        `@${org.name} still owns ${owned.count} package${owned.count === 1 ? "" : "s"} (${owned.first.join(", ")}${owned.count > owned.first.length ? ", …" : ""}); unpublish them before deleting the org.`,
        { details: { org: org.name, packageCount: owned.count } },
      );
    }
    const members = await tx
      .select({ userId: orgMembers.userId })
      .from(orgMembers)
      .where(eq(orgMembers.orgId, org.id));
    const ids = members.map((m) => m.userId);
    const data = { org: org.name };
    await recordOrgChange(
      tx,
      ctx,
      { type: "org.deleted", orgId: org.id, target: { type: "org", id: org.id }, data },
      now,
    );
    await tx.delete(orgs).where(eq(orgs.id, org.id));
    await announceAccessChange(tx, ids);
    return ids;
  });
  forgetAccess(ctx, memberIds);
  return { ok: true };
}
