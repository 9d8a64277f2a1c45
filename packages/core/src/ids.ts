import { randomBytes } from "node:crypto";

export type IdPrefix =
  | "usr"
  | "tok"
  | "pkg"
  | "ver"
  | "org"
  | "team"
  | "ses"
  | "evt"
  | "whk"
  | "dlv"
  | "dev"
  | "oac"
  | "sub"
  | "tp";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * Prefixed, time-sortable ids (`pkg_0m3x…`): the prefix says what a row is in logs and URLs, the
 * leading timestamp keeps btree inserts append-mostly, and 80 random bits keep them unguessable.
 */
export function newId(prefix: IdPrefix): string {
  const time = Date.now().toString(36).padStart(9, "0");
  const bytes = randomBytes(16);
  let rand = "";
  for (const b of bytes) rand += ALPHABET[b % 36];
  return `${prefix}_${time}${rand}`;
}
