import { RATE_LIMITS } from "../auth/rate-limiter.ts";
import type { ServiceContext } from "../context.ts";
import type { Uplink } from "./uplink.ts";

/**
 * Counts one uplink miss (a document or tarball Packr does not hold yet, so the uplink is asked)
 * against an anonymous caller's address, and refuses with 429 and Retry-After past the limit.
 * Without it anyone who can reach Packr can make it fetch, parse and store arbitrary public
 * packages as fast as they can send requests. Callers with a token or a session are not counted:
 * they are accountable and a fresh install of a large project is many misses. Cached answers and
 * revalidations of cached documents are never counted. PACKR_UPLINK_ANONYMOUS_MISSES sets the limit.
 */
export function assertMayMissUplink(ctx: ServiceContext, uplink: Uplink): void {
  const rule = uplink.anonymousMissLimit;
  if (ctx.actor.type !== "anonymous" || !rule) return;
  ctx.deps.rateLimiter.enforce(
    "uplink.miss",
    ctx.ip ?? "unknown",
    rule,
    "requests for packages not cached here yet",
  );
}

export const DEFAULT_ANONYMOUS_MISS_LIMIT = RATE_LIMITS.uplinkMissesAnonymous;
