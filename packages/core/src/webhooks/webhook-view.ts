import { inArray } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { orgs, users, type webhooks } from "../db/schema/index.ts";
import type { WebhookEventType } from "./event-types.ts";

export type WebhookRow = typeof webhooks.$inferSelect;

/** Who a hook belongs to, as the API names it. */
export type WebhookOwner = { type: "user"; name: string } | { type: "org"; slug: string };

/**
 * A hook as the admin API shows it (dates as Date; transports format them). Never the secret: it is
 * shown once, in the answer to the create call.
 */
export type WebhookView = {
  id: string;
  url: string;
  events: WebhookEventType[];
  scope: string | null;
  active: boolean;
  owner: WebhookOwner;
  failingSince: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
};

export function webhookView(row: WebhookRow, owner: WebhookOwner): WebhookView {
  return {
    id: row.id,
    url: row.url,
    events: row.events as WebhookEventType[],
    scope: row.scope,
    active: row.active,
    owner,
    failingSince: row.failingSince,
    disabledAt: row.disabledAt,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The views of some hooks, their owners' names read in two queries. */
export async function webhookViews(db: Queryable, rows: WebhookRow[]): Promise<WebhookView[]> {
  const userIds = [...new Set(rows.flatMap((r) => (r.userId ? [r.userId] : [])))];
  const orgIds = [...new Set(rows.flatMap((r) => (r.orgId ? [r.orgId] : [])))];
  const userNames = new Map(
    userIds.length === 0
      ? []
      : (
          await db
            .select({ id: users.id, name: users.name })
            .from(users)
            .where(inArray(users.id, userIds))
        ).map((u) => [u.id, u.name] as const),
  );
  const orgNames = new Map(
    orgIds.length === 0
      ? []
      : (
          await db
            .select({ id: orgs.id, name: orgs.name })
            .from(orgs)
            .where(inArray(orgs.id, orgIds))
        ).map((o) => [o.id, o.name] as const),
  );
  return rows.map((r) =>
    webhookView(
      r,
      r.orgId
        ? { type: "org", slug: orgNames.get(r.orgId) ?? "" }
        : { type: "user", name: (r.userId && userNames.get(r.userId)) || "" },
    ),
  );
}

/** One hook's view. */
export async function webhookViewOf(db: Queryable, row: WebhookRow): Promise<WebhookView> {
  const [view] = await webhookViews(db, [row]);
  if (!view) throw new Error("unreachable: one row gives one view");
  return view;
}
