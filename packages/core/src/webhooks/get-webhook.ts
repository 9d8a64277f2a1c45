import type { ServiceContext } from "../context.ts";
import { loadManagedWebhook } from "./webhook-access.ts";
import { type WebhookView, webhookViewOf } from "./webhook-view.ts";

/** One hook the caller manages (404 for any other, existing or not). Never its secret. */
export async function getWebhook(args: {
  ctx: ServiceContext;
  input: { id: string };
}): Promise<WebhookView> {
  const row = await loadManagedWebhook(args.ctx.deps, args.ctx, args.input.id);
  return webhookViewOf(args.ctx.deps.db, row);
}
