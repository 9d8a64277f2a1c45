import { createHash, randomBytes, randomInt } from "node:crypto";

/** RFC 8628 §6.1's suggestion: consonants only, no vowels (no words), no 0/O or 1/I confusion. */
export const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";

/** `ABCD-EFGH`: 20^8 ≈ 2.6e10 codes, guessed at most 30 a minute per person (RATE_LIMITS). */
export function newUserCode(): string {
  let s = "";
  for (let i = 0; i < 8; i++) s += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

/** What a person typed (`abcd efgh`, `ABCDEFGH`) in stored form, or null when it cannot be a code. */
export function normalizeUserCode(typed: string): string | null {
  if (typed.length > 40) return null;
  const letters = typed.toUpperCase().replace(/[\s-]+/g, "");
  if (letters.length !== 8) return null;
  for (const ch of letters) if (!USER_CODE_ALPHABET.includes(ch)) return null;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

/** The secret the polling client holds; only its hash is stored. */
export const newDeviceCode = (): string => randomBytes(32).toString("base64url");

export const hashDeviceCode = (code: string): string =>
  createHash("sha256").update(code).digest("hex");
