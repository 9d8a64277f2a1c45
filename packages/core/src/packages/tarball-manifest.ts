import { posix } from "node:path";
import { createGunzip } from "node:zlib";
import semver from "semver";
import { Parser, type ReadEntry } from "tar";
import { PackrError } from "../errors.ts";
import { isRecord } from "./manifest.ts";
import type { PackageName } from "./names.ts";

/**
 * Manifest confusion: clients are shown the manifest in the publish body (dependencies, scripts,
 * bin), but what installs is the tarball, whose own `package.json` npm and every other client
 * read at install time. Nothing forced the two to agree, so a package could show no install
 * script and run one, or show one dependency tree and install another. This module reads the
 * tarball's `package.json` at publish and refuses (400, naming the field) a body that disagrees
 * on what decides what installs and runs: name, version, dependencies, optionalDependencies,
 * peerDependencies, the install-time scripts and bin.
 *
 * Refused rather than silently replaced with the tarball's values: a mismatch is either a broken
 * client or an attempt to mislead, and both deserve an error the publisher sees, while the body's
 * other fields (readme, description, npm's `_` fields) stay as sent.
 *
 * Both sides go through the normalisation npm applies to the body before it sends it (bin string
 * to object and cleaned paths, `directories.bin` expanded from the tarball's files, the
 * `node-gyp rebuild` install script of a package with `binding.gyp`, optionalDependencies copied
 * into or removed from dependencies, hosted git specs rewritten), so a stock npm, pnpm or yarn
 * publish never trips it.
 */

/** Decompressed bytes read at most: a gzip bomb costs bounded time, never unbounded memory. */
const MAX_UNPACKED_BYTES = 512 * 1024 * 1024;
/** A package.json larger than this is refused (npm's own are a few KB). */
const MAX_PACKAGE_JSON_BYTES = 1024 * 1024;

export type TarballFacts = {
  /** The tarball's `package/package.json`, parsed. */
  packageJson: Record<string, unknown>;
  /** Every regular file's path below the package root (for `directories.bin` and binding.gyp). */
  files: string[];
};

const bad = (message: string, details?: Record<string, unknown>) =>
  new PackrError("VALIDATION", message, details ? { details } : undefined);

/**
 * Read the tarball to its end (bounded), keeping `package/package.json` and the list of files.
 * The whole archive is read, not only up to the first package.json: tar extraction keeps the last
 * of several entries with one path, so a benign first package.json could hide another; more than
 * one entry that extracts to `package.json` is refused.
 */
export function readTarballFacts(bytes: Uint8Array): Promise<TarballFacts> {
  return new Promise((resolve, reject) => {
    const files: string[] = [];
    let manifestText: string | null = null;
    let manifestEntries = 0;
    let unpacked = 0;
    let failed = false;
    const fail = (err: PackrError) => {
      if (failed) return;
      failed = true;
      gunzip.destroy();
      reject(err);
    };
    const parser = new Parser({
      strict: false,
      onReadEntry(entry: ReadEntry) {
        const raw = entry.path.replace(/\\/g, "/");
        const inside = stripRoot(raw);
        // Clients extract with the first path segment stripped, whatever it is called, and on
        // case-insensitive disks `Package.json` lands on `package.json`: count them all.
        if (inside.toLowerCase() === "package.json") {
          manifestEntries += 1;
          if (manifestEntries > 1) {
            fail(bad("The tarball holds more than one package.json at its root; refused."));
            entry.resume();
            return;
          }
          if (posix.normalize(raw.replace(/^\.?\/+/, "")) !== "package/package.json") {
            fail(
              bad(
                `The tarball's package.json must be package/package.json (found ${raw.slice(0, 100)}).`,
              ),
            );
            entry.resume();
            return;
          }
          if (entry.type !== "File" && entry.type !== "OldFile") {
            fail(bad("The tarball's package/package.json is not a regular file."));
            entry.resume();
            return;
          }
          if (entry.size > MAX_PACKAGE_JSON_BYTES) {
            fail(bad(`The tarball's package.json is larger than ${MAX_PACKAGE_JSON_BYTES} bytes.`));
            entry.resume();
            return;
          }
          const chunks: Buffer[] = [];
          entry.on("data", (c: Buffer) => chunks.push(c));
          entry.on("end", () => {
            manifestText = Buffer.concat(chunks).toString("utf8");
          });
          return;
        }
        if (entry.type === "File" || entry.type === "OldFile") files.push(inside);
        entry.resume();
      },
    });
    parser.on("error", (err: Error) =>
      fail(bad(`The tarball is not a readable gzip'd tar archive (${err.message.slice(0, 120)}).`)),
    );
    parser.on("end", () => {
      if (failed) return;
      if (manifestText === null) {
        fail(bad("The tarball has no package/package.json; it is not an npm package."));
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(manifestText.replace(/^\uFEFF/, ""));
      } catch {
        fail(bad("The tarball's package/package.json is not valid JSON."));
        return;
      }
      if (!isRecord(parsed)) {
        fail(bad("The tarball's package/package.json is not a JSON object."));
        return;
      }
      resolve({ packageJson: parsed, files });
    });
    const gunzip = createGunzip();
    gunzip.on("data", (chunk: Buffer) => {
      unpacked += chunk.byteLength;
      if (unpacked > MAX_UNPACKED_BYTES) {
        fail(
          bad(`The tarball unpacks to more than ${MAX_UNPACKED_BYTES / 1024 / 1024} MB; refused.`),
        );
        return;
      }
      parser.write(chunk);
    });
    gunzip.on("end", () => parser.end());
    gunzip.on("error", (err: Error) =>
      fail(bad(`The tarball is not valid gzip (${err.message.slice(0, 120)}).`)),
    );
    gunzip.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}

/**
 * Refuse a publish whose body manifest disagrees with the tarball's package.json on anything that
 * decides what installs or runs. `field` in the error's details names the first field that differs.
 */
export async function assertTarballMatchesManifest(
  bytes: Uint8Array,
  body: Record<string, unknown>,
  name: PackageName,
  version: string,
): Promise<void> {
  const facts = await readTarballFacts(bytes);
  const tar = facts.packageJson;
  const mismatch = (field: string, detail: string) =>
    bad(
      `The manifest in the publish body and the tarball's package.json disagree on ${field} (${detail}); clients would be shown one and install the other. Publish again with an unmodified client.`,
      { field },
    );

  if (tar.name !== name.name) {
    throw mismatch(
      "name",
      `${JSON.stringify(str(tar.name))} in the tarball, ${name.name} in the body`,
    );
  }
  const tarVersion =
    typeof tar.version === "string"
      ? (semver.clean(tar.version, { loose: true }) ?? tar.version)
      : tar.version;
  if (tarVersion !== version) {
    throw mismatch(
      "version",
      `${JSON.stringify(str(tar.version))} in the tarball, ${version} in the body`,
    );
  }

  const [tDeps, bDeps] = [dependencySets(tar), dependencySets(body)];
  for (const field of ["dependencies", "optionalDependencies", "peerDependencies"] as const) {
    const diff = firstDifference(tDeps[field], bDeps[field]);
    if (diff) throw mismatch(field, diff);
  }

  const [tScripts, bScripts] = [
    installScripts(tar, facts.files),
    installScripts(body, facts.files),
  ];
  const scriptDiff = firstDifference(tScripts, bScripts);
  if (scriptDiff) throw mismatch("scripts", scriptDiff);

  const binDiff = firstDifference(bins(tar, facts.files), bins(body, facts.files));
  if (binDiff) throw mismatch("bin", binDiff);
}

const str = (v: unknown): string => (typeof v === "string" ? v.slice(0, 100) : String(v));

type Entries = Map<string, string>;

/** The first key whose value differs between the tarball and the body, described, or null. */
function firstDifference(tar: Entries, body: Entries): string | null {
  for (const key of new Set([...tar.keys(), ...body.keys()])) {
    const [t, b] = [tar.get(key), body.get(key)];
    if (t === b) continue;
    const show = (v: string | undefined) =>
      v === undefined ? "absent" : JSON.stringify(v.slice(0, 100));
    return `${key.slice(0, 100)}: ${show(t)} in the tarball, ${show(b)} in the body`;
  }
  return null;
}

/**
 * What installs, invariant under npm's normalisations: npm copies optionalDependencies into
 * dependencies (older npm) or removes them from it (npm 7+), so `dependencies` is compared as
 * "dependencies plus optional ones", with optional ones compared on their own as well.
 */
function dependencySets(
  m: Record<string, unknown>,
): Record<"dependencies" | "optionalDependencies" | "peerDependencies", Entries> {
  const optional = specs(m.optionalDependencies);
  const all = specs(m.dependencies);
  for (const [k, v] of optional) all.set(k, v);
  return {
    dependencies: all,
    optionalDependencies: optional,
    peerDependencies: specs(m.peerDependencies),
  };
}

function specs(raw: unknown): Entries {
  const out: Entries = new Map();
  if (Array.isArray(raw)) {
    // normalize-package-data turns `["a", "b@1"]` into `{a: "*", b: "1"}`... rarely seen; keep names.
    for (const item of raw) if (typeof item === "string") out.set(item, "*");
    return out;
  }
  if (!isRecord(raw)) return out;
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") continue; // npm drops non-string specs from the body
    out.set(k.trim(), normalizeSpec(v));
  }
  return out;
}

/**
 * npm rewrites hosted git specs (`user/repo`, `github:user/repo`, `git+ssh://git@github.com/…`)
 * to one form in the body; compare them by host, repository and committish, everything else as
 * written (trimmed, `""` meaning `*`).
 */
function normalizeSpec(spec: string): string {
  const s = spec.trim();
  if (s === "" || s === "latest") return s === "" ? "*" : s;
  const hosted =
    /^(?:git\+)?(?:(?:https?|ssh|git):\/\/)?(?:git@)?(github\.com|gitlab\.com|bitbucket\.org)[:/]([^/#\s]+)\/([^/#\s]+?)(?:\.git)?(?:#(.*))?$/i.exec(
      s,
    ) ??
    /^(github|gitlab|bitbucket):([^/#\s]+)\/([^/#\s]+?)(?:\.git)?(?:#(.*))?$/i.exec(s) ??
    /^()([A-Za-z0-9][\w.-]*)\/([\w.-]+?)(?:#(.*))?$/.exec(s);
  if (!hosted) return s;
  const host = (hosted[1] ?? "").toLowerCase().replace(/\.(com|org)$/, "") || "github";
  return `hosted:${host}/${hosted[2]?.toLowerCase()}/${hosted[3]?.toLowerCase()}#${hosted[4] ?? ""}`;
}

/** Scripts an install runs: npm runs preinstall, install and postinstall (prepare for git deps). */
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepare"] as const;

/**
 * The install-time scripts of a manifest, with the one npm adds itself: a package with a
 * `binding.gyp` at its root and neither install nor preinstall script runs `node-gyp rebuild`
 * (unless `gypfile: false`), and npm writes that script into the body. Applied to both sides.
 */
function installScripts(m: Record<string, unknown>, files: readonly string[]): Entries {
  const out: Entries = new Map();
  const scripts = isRecord(m.scripts) ? m.scripts : {};
  for (const key of INSTALL_SCRIPTS) {
    const v = scripts[key];
    if (typeof v === "string" && v.trim() !== "") out.set(key, v.trim());
  }
  if (
    !out.has("install") &&
    !out.has("preinstall") &&
    m.gypfile !== false &&
    files.includes("binding.gyp")
  ) {
    out.set("install", "node-gyp rebuild");
  }
  return out;
}

/**
 * The commands a package links: `bin` as npm normalises it (a string names one command after the
 * package's base name; names are base names, paths are unixified and stripped of leading `/`,
 * `./` and `../`), or, without `bin`, every file under `directories.bin` in the tarball.
 */
function bins(m: Record<string, unknown>, files: readonly string[]): Entries {
  const out: Entries = new Map();
  const base = typeof m.name === "string" ? (m.name.split("/").at(-1) ?? m.name) : "";
  if (typeof m.bin === "string") {
    const p = cleanPath(m.bin);
    if (p && base) out.set(base, p);
    return out;
  }
  if (isRecord(m.bin)) {
    for (const [k, v] of Object.entries(m.bin)) {
      if (typeof v !== "string") continue;
      const key = posix.basename(cleanPath(k));
      const p = cleanPath(v);
      if (key && p) out.set(key, p);
    }
    return out;
  }
  const dirs = isRecord(m.directories) ? m.directories : {};
  if (typeof dirs.bin === "string") {
    const dir = cleanPath(dirs.bin);
    if (!dir) return out;
    for (const f of files) {
      // npm's own expansion: every file below the directory but dot files, named by base name.
      if (f.startsWith(`${dir}/`) && !f.slice(dir.length + 1).startsWith(".")) {
        out.set(posix.basename(f), f);
      }
    }
  }
  return out;
}

function cleanPath(p: string): string {
  const unix = posix.normalize(p.replace(/\\/g, "/").trim());
  return unix
    .replace(/^(?:\.{1,2}\/|\/)+/, "")
    .replace(/\/$/, "")
    .replace(/^\.$/, "");
}

/** npm packs under `package/`; extraction strips the first segment, whatever it is. */
function stripRoot(path: string): string {
  const clean = posix.normalize(path.replace(/^\.?\/+/, ""));
  const slash = clean.indexOf("/");
  return slash === -1 ? "" : clean.slice(slash + 1);
}
