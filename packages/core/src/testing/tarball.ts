import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { create } from "tar";

/**
 * A real npm-style package tarball (gzip'd tar, files under `package/`), made with the `tar`
 * package from the given files. `package.json` is written from `manifest` unless given as a file.
 */
export async function makeTarball(
  manifest: Record<string, unknown>,
  files: Record<string, string | Uint8Array> = {},
): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "packr-tgz-"));
  try {
    const all: Record<string, string | Uint8Array> = {
      "package.json": JSON.stringify(manifest, null, 2),
      ...files,
    };
    for (const [rel, content] of Object.entries(all)) {
      const file = path.join(dir, "package", rel);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    }
    const chunks: Buffer[] = [];
    const stream = create(
      { gzip: true, cwd: dir, portable: true, mtime: new Date("1985-10-26T08:15:00Z") },
      ["package"],
    );
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The same, synchronously, for test bodies built inline: a gzip'd ustar archive with every file
 * under `package/` and `package.json` written from `manifest` unless given as a file.
 */
export function makeTarballSync(
  manifest: Record<string, unknown>,
  files: Record<string, string | Uint8Array> = {},
): Buffer {
  const all: Record<string, string | Uint8Array> = {
    "package.json": JSON.stringify(manifest, null, 2),
    ...files,
  };
  const blocks: Buffer[] = [];
  for (const [rel, content] of Object.entries(all)) {
    const data = typeof content === "string" ? Buffer.from(content) : Buffer.from(content);
    blocks.push(tarHeader(`package/${rel}`, data.byteLength), data);
    const pad = (512 - (data.byteLength % 512)) % 512;
    if (pad) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

function tarHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`test tarball path too long: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, "utf8");
  h.write("0000644\0", 100, 8, "ascii");
  h.write("0000000\0", 108, 8, "ascii");
  h.write("0000000\0", 116, 8, "ascii");
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124, 12, "ascii");
  h.write(`${(499162500).toString(8).padStart(11, "0")}\0`, 136, 12, "ascii");
  h.write("        ", 148, 8, "ascii");
  h.write("0", 156, 1, "ascii");
  h.write("ustar\0", 257, 6, "ascii");
  h.write("00", 263, 2, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return h;
}
