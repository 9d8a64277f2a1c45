import { describeDuration, parseDuration } from "@packr/core/config";

export type ExpiryChoice = { value: string; label: string };

/** Short ones first: a token for one CI job should live minutes, not days. */
const CANDIDATES = ["15m", "1h", "1d", "7d", "30d", "90d"];

/**
 * The expiries the create form offers: those within the registry's PACKR_TOKEN_MIN_TTL..
 * PACKR_TOKEN_MAX_TTL (the registry checks again and answers with the range if they differ), and
 * the ceiling itself when no candidate fits. `selected` is 30 days, or the longest offered.
 */
export function expiryChoices(range: { minMs: number; maxMs: number }): {
  choices: ExpiryChoice[];
  selected: string;
} {
  const fits = CANDIDATES.filter((c) => {
    const ms = parseDuration(c) ?? 0;
    return ms >= range.minMs && ms <= range.maxMs;
  });
  const values = fits.length > 0 ? fits : [`${range.maxMs}`];
  const choices = values.map((value) => ({
    value,
    label: `in ${describeDuration(parseDuration(value) ?? range.maxMs)}`,
  }));
  const selected = values.includes("30d") ? "30d" : (values[values.length - 1] ?? "");
  return { choices, selected };
}
