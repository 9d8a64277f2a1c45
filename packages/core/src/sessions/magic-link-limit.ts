import { z } from "zod";
import { RATE_LIMITS, type RateLimit } from "../auth/rate-limiter.ts";
import type { ServiceContext } from "../context.ts";
import { describeIssues, PackrError } from "../errors.ts";

export const MagicLinkRequestInput = z.object({
  email: z.string().email().max(320),
  /** The browser's address as the dashboard saw it; absent: the caller's own (one bucket). */
  ip: z.string().max(64).optional(),
});
export type MagicLinkRequestInput = z.input<typeof MagicLinkRequestInput>;

/**
 * Count one sign-in mail the dashboard is about to send, or refuse it (429) when the target
 * address or the asking client is over its limit: without this, anyone could flood any mailbox
 * with Packr mail. Counted here rather than in the dashboard, which keeps no state, so every
 * dashboard instance in front of this registry shares the counts. Refused requests count nothing.
 * Only the dashboard server (INTERNAL_API_SECRET, a `system` actor) asks.
 */
export function allowMagicLink(args: { ctx: ServiceContext; input: MagicLinkRequestInput }): void {
  const { ctx } = args;
  if (ctx.actor.type !== "system") {
    throw new PackrError(
      "UNAUTHORIZED",
      "Only the dashboard server may ask for sign-in mails (Authorization: Bearer <INTERNAL_API_SECRET>).",
    );
  }
  const parsed = MagicLinkRequestInput.safeParse(args.input);
  if (!parsed.success) throw new PackrError("VALIDATION", describeIssues(parsed.error));
  const email = parsed.data.email.trim().toLowerCase();
  const address = parsed.data.ip ?? ctx.ip ?? "unknown";
  const limiter = ctx.deps.rateLimiter;
  const refuse = (bucket: string, key: string, rule: RateLimit, whose: string): never => {
    const retryAfter = Math.max(1, Math.ceil(limiter.remainingMs(bucket, key) / 1000));
    const minutes = Math.ceil(retryAfter / 60);
    throw new PackrError(
      "RATE_LIMITED",
      `Too many sign-in links were asked for ${whose} (at most ${rule.limit} in ${rule.windowMs / 60_000} minutes). Wait ${minutes} minute${minutes === 1 ? "" : "s"} and try again.`,
      { details: { retryAfter } },
    );
  };
  const perEmail = RATE_LIMITS.magicLinksPerEmail;
  const perAddress = RATE_LIMITS.magicLinksPerAddress;
  if (limiter.exceeded("magic.address", address, perAddress))
    refuse("magic.address", address, perAddress, "from your network address");
  if (limiter.exceeded("magic.email", email, perEmail))
    refuse("magic.email", email, perEmail, "this email address");
  limiter.hit("magic.address", address, perAddress);
  limiter.hit("magic.email", email, perEmail);
}
