import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
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
