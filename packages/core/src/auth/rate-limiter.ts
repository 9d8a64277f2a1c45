import { PackrError } from "../errors.ts";

/**
 * Limits of the public sign-in endpoints, per client address. The device-flow ones are counted in
 * memory per instance (RateLimiter); the password ones in the database, shared by every instance
 * (AttemptLimits), because each password attempt costs an expensive hash worth guarding globally.
 */
export const RATE_LIMITS = {
  /** New device codes (and npm web logins): a person needs a handful. */
  deviceAuthorize: { limit: 20, windowMs: 60_000 },
  /** Polls of the token endpoint and npm's doneUrl: one every interval per waiting client. */
  devicePoll: { limit: 120, windowMs: 60_000 },
  /** Looking up or deciding user codes: bounds guessing of the 8-letter codes. */
  userCodeLookup: { limit: 30, windowMs: 60_000 },
  /** Wrong passwords per client address (npm login, the dashboard's password sign-in). */
  passwordFailuresPerAddress: { limit: 10, windowMs: 60_000 },
  /** Wrong passwords per username, from anywhere: bounds guessing spread over many addresses. */
  passwordFailuresPerName: { limit: 30, windowMs: 60_000 },
  /** Sign-in mails to one address: enough for a person, too few to flood their mailbox. */
  magicLinksPerEmail: { limit: 3, windowMs: 15 * 60_000 },
  /** Sign-in mails asked for from one client address, to any addresses. */
  magicLinksPerAddress: { limit: 20, windowMs: 60 * 60_000 },
  /** Uplink misses (packages not cached yet) an anonymous address may cause: bounds an open proxy. */
  uplinkMissesAnonymous: { limit: 60, windowMs: 60_000 },
} as const;

export type RateLimit = { limit: number; windowMs: number };

/**
 * Fixed-window counters in memory. Per instance by design: the limits guard against guessing and
 * floods, and a few instances multiplying them changes nothing that matters, while a shared store
 * would put a network round trip in front of every device-code poll. Password attempts are the
 * exception (AttemptLimits, in the database): guessing is what those limits exist to bound.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number; windowMs: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** Count one hit; false when the key is over its limit for the current window. */
  hit(bucket: string, key: string, rule: RateLimit): boolean {
    const now = this.clock();
    const id = `${bucket}\u0000${key}`;
    const w = this.windows.get(id);
    if (!w || now - w.start >= rule.windowMs) {
      if (this.windows.size > 50_000) this.sweep(now);
      this.windows.set(id, { start: now, count: 1, windowMs: rule.windowMs });
      return true;
    }
    w.count += 1;
    return w.count <= rule.limit;
  }

  /** Take back one hit of the current window (it turned out not to count). */
  undo(bucket: string, key: string): void {
    const w = this.windows.get(`${bucket}\u0000${key}`);
    if (w && w.count > 0) w.count -= 1;
  }

  /** Whether the key is already over its limit in the current window; counts nothing. */
  exceeded(bucket: string, key: string, rule: RateLimit): boolean {
    const w = this.windows.get(`${bucket}\u0000${key}`);
    return !!w && this.clock() - w.start < rule.windowMs && w.count >= rule.limit;
  }

  /** Like hit, but throws RATE_LIMITED (429) saying when to retry. */
  enforce(bucket: string, key: string, rule: RateLimit, what: string): void {
    if (this.hit(bucket, key, rule)) return;
    const retryAfter = Math.ceil(rule.windowMs / 1000);
    throw new PackrError(
      "RATE_LIMITED",
      `Too many ${what} from your address; wait ${retryAfter} seconds and try again.`,
      { details: { retryAfter } },
    );
  }

  /** Milliseconds until the key's current window ends (0 when it has none). */
  remainingMs(bucket: string, key: string): number {
    const w = this.windows.get(`${bucket}\u0000${key}`);
    return w ? Math.max(0, w.start + w.windowMs - this.clock()) : 0;
  }

  /** Drop ended windows, each by its own length (an hour-long window must not end after a minute). */
  private sweep(now: number): void {
    for (const [id, w] of this.windows) if (now - w.start >= w.windowMs) this.windows.delete(id);
  }
}
