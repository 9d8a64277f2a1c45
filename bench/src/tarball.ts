import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { Parser, type ReadEntry } from "tar";

/**
 * Tarballs: reading package.json and the readme out of a real one, and writing small synthetic
 * ones (one per version for the 2,000-version package) without touching the disk.
 */

export type Digest = { integrity: string; shasum: string };

export function digest(bytes: Buffer): Digest {
  return {
    integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
    shasum: createHash("sha1").update(bytes).digest("hex"),
  };
}

/** package.json (required) and README (optional) from the top folder of an npm tarball. */
export async function readPackageFiles(
  tgz: Buffer,
): Promise<{ packageJson: Record<string, unknown>; readme?: string; readmeFilename?: string }> {
  const files = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry(entry: ReadEntry) {
        // npm tarballs have one top folder, usually "package/" but not always.
        const rel = entry.path.replace(/^[^/]+\//, "");
        if (rel === "package.json" || /^readme(\.[a-z]+)?$/i.test(rel)) {
          const chunks: Buffer[] = [];
          entry.on("data", (c: Buffer) => chunks.push(c));
          entry.on("end", () => {
            if (!files.has(rel)) files.set(rel, Buffer.concat(chunks).toString("utf8"));
          });
        } else {
          entry.resume();
        }
      },
    });
    parser.on("end", () => resolve());
    parser.on("error", reject);
    parser.end(tgz);
  });
  const pj = files.get("package.json");
  if (!pj) throw new Error("tarball has no package.json");
  const readmeName = [...files.keys()].find((k) => k !== "package.json");
  return {
    packageJson: JSON.parse(pj) as Record<string, unknown>,
    readme: readmeName ? files.get(readmeName) : undefined,
    readmeFilename: readmeName,
  };
}

// --- a minimal ustar writer --------------------------------------------------------------------

function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(512, 0);
  h.write(name, 0, 100, "utf8");
  h.write("0000644\0", 100, "ascii"); // mode
  h.write("0000000\0", 108, "ascii"); // uid
  h.write("0000000\0", 116, "ascii"); // gid
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "ascii");
  // A fixed mtime keeps the bytes (and so the integrity) reproducible between runs.
  h.write(`${(1_700_000_000).toString(8).padStart(11, "0")}\0`, 136, "ascii");
  h.write("        ", 148, "ascii"); // checksum placeholder: spaces while summing
  h.write("0", 156, "ascii"); // regular file
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return h;
}

/** A gzipped tar of `package/<path>` files, the layout `npm pack` produces. */
export function makeTarball(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [path, text] of Object.entries(files)) {
    const body = Buffer.from(text, "utf8");
    parts.push(header(`package/${path}`, body.length), body);
    const pad = (512 - (body.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return gzipSync(Buffer.concat(parts));
}
