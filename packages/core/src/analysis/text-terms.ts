/** Words that carry no meaning for search. */
const STOPWORDS = new Set(
  "a an and are as at be by for from has have in into is it its js of on or the this that to with your you use using node nodejs npm package library module simple small fast tiny lightweight based api".split(
    " ",
  ),
);

/**
 * A light suffix-stripper so "formatting", "formatter" and "format", or "validation",
 * "validator" and "validate", meet in one term. Used the same way on stored text and on queries,
 * so it only has to be consistent, not linguistically right.
 */
export function stem(word: string): string {
  let w = word.toLowerCase();
  const cut = (suffix: string, min: number) => {
    if (w.length > min && w.endsWith(suffix)) {
      w = w.slice(0, -suffix.length);
      return true;
    }
    return false;
  };
  cut("ion", 5) ||
    cut("ing", 5) ||
    cut("ers", 5) ||
    cut("er", 4) ||
    cut("or", 5) ||
    cut("ed", 4) ||
    (!w.endsWith("ss") && cut("s", 3));
  if (w.length > 4 && w.endsWith("e")) w = w.slice(0, -1);
  const last = w.at(-1);
  if (w.length > 3 && last && last === w.at(-2) && /[b-df-hj-np-tv-z]/.test(last))
    w = w.slice(0, -1);
  return w;
}

/** Lowercase words of a text (split on anything that is not a letter or digit), stopwords out. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length >= 2 && w.length <= 40 && !STOPWORDS.has(w));
}

export const stems = (text: string): string[] => words(text).map(stem);

/** `#`-headings of a Markdown README, without the hashes; at most 100. */
export function readmeHeadings(readme: string): string[] {
  const out: string[] = [];
  for (const line of readme.split("\n")) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (m?.[1]) out.push(m[1]);
    if (out.length >= 100) break;
  }
  return out;
}
