import { abbreviateVersion, isRecord, serializeEntry } from "./manifest.ts";

/**
 * A version's full and abbreviated packument entries rebuilt from its stored manifest after a
 * visible field changed (today: `deprecated`; null removes it). `dist` is carried over from the
 * entries as stored, untouched: it holds what publish verified and signed (integrity, shasum,
 * registry signatures), and no later change may alter it.
 */
export function entriesWithDeprecation(
  row: { manifest: Record<string, unknown>; fullJson: string; abbreviatedJson: string },
  deprecated: string | null,
): { fullJson: string; abbreviatedJson: string } {
  const storedFull = parseEntry(row.fullJson);
  const storedAbbreviated = parseEntry(row.abbreviatedJson);
  const { deprecated: _previous, ...rest } = row.manifest;
  const full: Record<string, unknown> = {
    ...rest,
    ...(deprecated === null ? {} : { deprecated }),
    dist: isRecord(storedFull.dist) ? storedFull.dist : row.manifest.dist,
  };
  const abbreviated = {
    ...abbreviateVersion(full),
    dist: isRecord(storedAbbreviated.dist) ? storedAbbreviated.dist : full.dist,
  };
  return { fullJson: serializeEntry(full), abbreviatedJson: serializeEntry(abbreviated) };
}

function parseEntry(json: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(json);
  return isRecord(parsed) ? parsed : {};
}
