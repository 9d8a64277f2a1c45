import { PackrError } from "../errors.ts";

/** What `npm search <text>` asks for, after the qualifiers npm's search syntax allows. */
export type SearchQuery = {
  /** The free text as typed, lower-cased, qualifiers removed: compared with names as a whole. */
  text: string;
  /** Words of the free text (letters and digits), each matched as a prefix in the document. */
  words: string[];
  /** `keywords:a,b` (any of) and `keywords:a+b` (all of): each group needs one of its keywords. */
  keywordGroups: string[][];
  author: string | null;
  maintainer: string | null;
  scope: string | null;
  /** `is:deprecated` → true, `not:deprecated` → false, else null. */
  deprecated: boolean | null;
  /** `boost-exact:false` turns off the exact-name boost. */
  boostExact: boolean;
};

const MAX_TEXT = 256;
const MAX_WORDS = 10;

/**
 * Split npm search text into free text and qualifiers (`keywords:`, `author:`, `maintainer:`,
 * `scope:`, `is:`/`not:deprecated`, `boost-exact:`). An unknown `x:y` is free text.
 */
export function parseSearchText(raw: string): SearchQuery {
  if (raw.length > MAX_TEXT) {
    throw new PackrError("VALIDATION", `Search text is at most ${MAX_TEXT} characters.`);
  }
  const query: SearchQuery = {
    text: "",
    words: [],
    keywordGroups: [],
    author: null,
    maintainer: null,
    scope: null,
    deprecated: null,
    boostExact: true,
  };
  const free: string[] = [];
  for (const token of raw.trim().split(/\s+/).filter(Boolean)) {
    const match = /^([a-z-]+):(.+)$/i.exec(token);
    const key = match?.[1]?.toLowerCase();
    const value = match?.[2] ?? "";
    switch (key) {
      case "keywords":
      case "keyword":
        for (const all of value.split("+")) {
          const any = all
            .split(",")
            .map((k) => k.trim().toLowerCase())
            .filter(Boolean);
          if (any.length > 0) query.keywordGroups.push(any.slice(0, 20));
        }
        break;
      case "author":
        query.author = value.toLowerCase();
        break;
      case "maintainer":
        query.maintainer = value.toLowerCase();
        break;
      case "scope":
        query.scope = value.replace(/^@/, "").toLowerCase();
        break;
      case "is":
      case "not":
        if (value.toLowerCase() === "deprecated") query.deprecated = key === "is";
        break;
      case "boost-exact":
        query.boostExact = value.toLowerCase() !== "false";
        break;
      default:
        free.push(token);
    }
  }
  query.text = free.join(" ").toLowerCase();
  query.words = [
    ...new Set(
      query.text
        .split(/[^\p{L}\p{N}]+/u)
        .filter(Boolean)
        .map((w) => w.slice(0, 64)),
    ),
  ].slice(0, MAX_WORDS);
  const hasQualifier =
    query.keywordGroups.length > 0 ||
    query.author !== null ||
    query.maintainer !== null ||
    query.scope !== null;
  if (query.words.length === 0 && !hasQualifier) {
    throw new PackrError(
      "VALIDATION",
      "Search needs text: npm search <words>, or a qualifier such as keywords:<k>, author:<name>, maintainer:<name>, scope:<scope>.",
    );
  }
  return query;
}
