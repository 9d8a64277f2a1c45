/**
 * Durations as operators and clients write them (DESIGN §10): a whole number with a unit,
 * `500ms`, `30s`, `15m`, `2h`, `7d`; a bare number is milliseconds. One parser for settings
 * (PACKR_UPLINK_MAX_AGE, PACKR_TOKEN_MIN_TTL, …) and for the expiry a token request asks for.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,15})\s*(ms|s|m|h|d)?$/i.exec(text.trim());
  if (!m?.[1]) return null;
  const ms = Number(m[1]) * UNIT_MS[(m[2] ?? "ms").toLowerCase() as keyof typeof UNIT_MS];
  return Number.isSafeInteger(ms) ? ms : null;
}

const NAMES: Array<[number, string]> = [
  [UNIT_MS.d, "day"],
  [UNIT_MS.h, "hour"],
  [UNIT_MS.m, "minute"],
  [UNIT_MS.s, "second"],
];

/** `300000` → "5 minutes", `90000` → "90 seconds": the largest unit that divides it evenly. */
export function describeDuration(ms: number): string {
  for (const [size, name] of NAMES) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${name}${n === 1 ? "" : "s"}`;
    }
  }
  return `${ms} ms`;
}
