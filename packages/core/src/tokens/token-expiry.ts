import { describeDuration, parseDuration } from "../config/duration.ts";
import { PackrError } from "../errors.ts";

/** The range of expiries a new token may ask for (PACKR_TOKEN_MIN_TTL, PACKR_TOKEN_MAX_TTL). */
export type TokenTtlRange = { minMs: number; maxMs: number };

export const DAY_MS = 86_400_000;
/** What a token lives when its request names no expiry (shortened to the ceiling when lower). */
export const DEFAULT_TOKEN_TTL_MS = 30 * DAY_MS;

const range = (r: TokenTtlRange) =>
  `from ${describeDuration(r.minMs)} to ${describeDuration(r.maxMs)}`;

/**
 * How long a new token lives, from what its request says: `expiresIn` (a duration, `15m`, `2h`,
 * `7d`; a bare number, quoted or not, is ms), or the older `expiresInDays` / npm's `expires` (whole days), or nothing (30
 * days, or the ceiling when that is lower). Anything outside the configured range, or not a
 * duration, is a VALIDATION error whose sentence names the range; `field` is how the caller wrote it.
 */
export function resolveTokenTtl(
  r: TokenTtlRange,
  request: { expiresIn?: string | number | null; days?: number | null; field: string },
): number {
  const { days, field } = request;
  // A bare number is milliseconds, as in the settings (JSON callers may send it unquoted).
  const expiresIn =
    typeof request.expiresIn === "number" ? String(request.expiresIn) : request.expiresIn;
  if (expiresIn != null && days != null) {
    throw new PackrError(
      "VALIDATION",
      "Give the expiry once: expiresIn or expiresInDays, not both.",
    );
  }
  let ms: number;
  let asked: string;
  if (expiresIn != null) {
    const parsed = parseDuration(expiresIn);
    if (parsed === null) {
      throw new PackrError(
        "VALIDATION",
        `${field} "${expiresIn.slice(0, 40)}" is not a duration: write a number with a unit (15m, 2h, 7d), ${range(r)}.`,
        { details: { minTtlMs: r.minMs, maxTtlMs: r.maxMs } },
      );
    }
    ms = parsed;
    asked = `"${expiresIn.trim()}"`;
  } else if (days != null) {
    if (!Number.isSafeInteger(days) || days < 1) {
      throw new PackrError(
        "VALIDATION",
        `${field} is a whole number of days, at least 1; a token may live ${range(r)}.`,
        { details: { minTtlMs: r.minMs, maxTtlMs: r.maxMs } },
      );
    }
    ms = days * DAY_MS;
    asked = `${days} day${days === 1 ? "" : "s"}`;
  } else {
    return Math.max(r.minMs, Math.min(DEFAULT_TOKEN_TTL_MS, r.maxMs));
  }
  if (ms < r.minMs || ms > r.maxMs) {
    throw new PackrError(
      "VALIDATION",
      `A token may live ${range(r)}; ${field} ${asked} is too ${ms < r.minMs ? "short" : "long"}.`,
      { details: { minTtlMs: r.minMs, maxTtlMs: r.maxMs } },
    );
  }
  return ms;
}
