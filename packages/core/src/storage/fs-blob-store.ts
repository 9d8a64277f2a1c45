import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, copyFile, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type { BlobStore, StoredBlob } from "./blob-store.ts";

/** Local filesystem store for the embedded default: `<dataDir>/blobs/<key>`. */
export class FsBlobStore implements BlobStore {
  readonly kind = "fs" as const;

  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    const full = path.resolve(this.root, key);
    // Keys are built by Packr, never by users; this guard makes a future mistake harmless.
    if (!full.startsWith(path.resolve(this.root) + path.sep)) {
      throw new Error(`blob key escapes the store: ${key}`);
    }
    return full;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.pathOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    // Write then rename: a crash mid-write never leaves a truncated object under the real key.
    // Unique per call: two requests putting the same content-addressed key at once (npm's retry
    // racing its first attempt) must not share, and steal, one temp file.
    const tmp = `${file}.${randomUUID()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  }

  async putFile(key: string, file: string): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    try {
      // Same filesystem: one atomic rename, no copy.
      await rename(file, target);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    }
    // Another filesystem (the temp dir is elsewhere): copy beside the target, then rename.
    const tmp = `${target}.${randomUUID()}.tmp`;
    try {
      await copyFile(file, tmp);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<ReadableStream<Uint8Array> | null> {
    const file = this.pathOf(key);
    try {
      await access(file);
    } catch {
      return null;
    }
    return Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  /** Files under `<root>/<prefix>`, a crashed write's leftover `.tmp` files included. */
  async *list(prefix: string): AsyncIterable<StoredBlob> {
    const root = path.resolve(this.root);
    const start = this.pathOf(prefix.endsWith("/") ? prefix.slice(0, -1) : prefix);
    const walk = async function* (dir: string): AsyncGenerator<StoredBlob> {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return; // nothing stored yet, or removed while walking
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) yield* walk(full);
        else if (entry.isFile()) {
          const info = await stat(full).catch(() => null);
          if (!info) continue;
          yield {
            key: path.relative(root, full).split(path.sep).join("/"),
            modifiedAt: info.mtime,
          };
        }
      }
    };
    yield* walk(start);
  }

  async downloadUrl(): Promise<string | null> {
    return null;
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root);
  }
}
