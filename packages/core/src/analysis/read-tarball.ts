import { Gunzip } from "fflate";
import { Parser, type ReadEntry } from "tar";

export type TarballFile = { path: string; size: number };

export type TarballContents = {
  /** Every regular file, path relative to the package root (npm's `package/` prefix removed). */
  files: TarballFile[];
  /** Text of the files analysis reads (package.json, README, `.d.ts`), within the size limits. */
  texts: Map<string, string>;
  /** True when limits cut the listing or the texts short. */
  truncated: boolean;
};

const MAX_FILES = 20_000;
const MAX_TEXT_FILE = 512 * 1024;
const MAX_TEXT_TOTAL = 8 * 1024 * 1024;

/** The files whose text analysis needs; everything else is only listed with its size. */
export const wantsText = (path: string): boolean =>
  path === "package.json" || /^readme(\.[a-z]+)?$/i.test(path) || /\.d\.[cm]?ts$/.test(path);

/** Compressed bytes inflated per step: at most ~1000× that is ever held as inflated output. */
const INFLATE_SLICE = 16 * 1024;

/**
 * List a package tarball (gzip'd tar, as npm packs it) and keep the text of the few files the
 * analysis reads. Bounded: at most 20,000 files listed and 8 MB of text kept, so a hostile tarball
 * costs the job bounded memory. Symlinks, directories and device entries are skipped.
 *
 * The gzip layer is inflated in JavaScript (fflate), not by node:zlib, because this runs on the
 * analysis worker threads and those are terminated on a time limit and at shutdown: a thread
 * ended between the creation of a zlib handle and its initialisation aborts the whole process
 * (Node's "close before init" assertion), and a pure-JavaScript inflate holds no native handle.
 */
export function readTarball(bytes: Uint8Array): Promise<TarballContents> {
  return new Promise((resolve, reject) => {
    const files: TarballFile[] = [];
    const texts = new Map<string, string>();
    let textTotal = 0;
    let truncated = false;
    const parser = new Parser({
      strict: false,
      onReadEntry(entry: ReadEntry) {
        const path = stripRoot(entry.path);
        if (entry.type !== "File" && entry.type !== "OldFile") {
          entry.resume();
          return;
        }
        if (files.length >= MAX_FILES) {
          truncated = true;
          entry.resume();
          return;
        }
        files.push({ path, size: entry.size });
        if (
          !wantsText(path) ||
          entry.size > MAX_TEXT_FILE ||
          textTotal + entry.size > MAX_TEXT_TOTAL
        ) {
          if (wantsText(path)) truncated = true;
          entry.resume();
          return;
        }
        textTotal += entry.size;
        const chunks: Buffer[] = [];
        entry.on("data", (c: Buffer) => chunks.push(c));
        entry.on("end", () => texts.set(path, Buffer.concat(chunks).toString("utf8")));
      },
    });
    parser.on("error", reject);
    parser.on("end", () => resolve({ files, texts, truncated }));
    try {
      feedInflated(bytes, parser);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/** Gzip'd bytes inflated slice by slice into the parser; anything else (a bare tar) as it is. */
function feedInflated(bytes: Uint8Array, parser: Parser): void {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    parser.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return;
  }
  const gunzip = new Gunzip((chunk, final) => {
    if (chunk.length > 0) parser.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    if (final) parser.end();
  });
  for (let at = 0; at < bytes.length; at += INFLATE_SLICE) {
    const end = Math.min(at + INFLATE_SLICE, bytes.length);
    gunzip.push(bytes.subarray(at, end), end === bytes.length);
  }
}

/** npm packs under `package/`; some tools use the package name. Drop the first segment either way. */
function stripRoot(path: string): string {
  const clean = path.replace(/^\.?\/+/, "");
  const slash = clean.indexOf("/");
  return slash === -1 ? clean : clean.slice(slash + 1);
}
