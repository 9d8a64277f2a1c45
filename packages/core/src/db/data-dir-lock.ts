import { createHash } from "node:crypto";
import { mkdirSync, realpathSync, unlinkSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { PackrError } from "../errors.ts";

/**
 * One process per embedded data directory: PGlite has no lock of its own, and two processes
 * writing one data dir corrupt it.
 *
 * The lock is a listening local socket named after the directory's real path: an abstract Unix
 * socket on Linux, a named pipe on Windows, a socket file in the temp dir elsewhere. Only one
 * process can listen on a name, and the kernel drops the listener when the process dies however it
 * dies (kill -9, OOM, power loss of the container), so there is no stale state to judge: no pid
 * that may have been reused, no mtime to age out (proper-lockfile's approach would refuse a restart
 * for its stale period after kill -9, or take over from a process that merely stalled). Node has no
 * flock(2); this gives the same guarantee without a native module. A second process that finds the
 * name taken connects to it and reads who holds it, so its refusal names the pid.
 *
 * Limits: the name is per machine (per network namespace on Linux), so it does not see a process on
 * another host sharing the directory over a network file system, nor one in a container with its
 * own network namespace; use PostgreSQL (DATABASE_URL) for anything shared.
 */
export type DataDirLock = { release(): Promise<void> };

export async function lockDataDir(dir: string): Promise<DataDirLock> {
  mkdirSync(dir, { recursive: true });
  const real = realpathSync(dir);
  const name = lockName(real);
  const holder = { pid: process.pid, dir: real, since: new Date().toISOString() };
  const server = net.createServer((socket) => {
    socket.end(JSON.stringify(holder));
  });
  // A process that waits for nothing but this socket should still exit.
  server.unref();
  for (let attempt = 0; ; attempt++) {
    try {
      await listen(server, name);
      return {
        release: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
          }),
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt > 0) throw err;
      const other = await whoHolds(name);
      if (other === "stale") {
        // A socket file left by a killed process (not on Linux or Windows, where names vanish
        // with their process): nobody answers it, so it is ours to replace.
        unlinkSync(name);
        continue;
      }
      throw new PackrError(
        "CONFLICT",
        `Another Packr${other?.pid ? ` (pid ${other.pid})` : ""} is already using the embedded database in ${real}. ` +
          "Two processes on one embedded database corrupt it: stop the other one, or set PACKR_DATA_DIR to another directory.",
      );
    }
  }
}

function lockName(realDir: string): string {
  const id = createHash("sha256").update(realDir).digest("hex").slice(0, 32);
  if (process.platform === "linux") return `\0packr-data-${id}`;
  if (process.platform === "win32") return `\\\\.\\pipe\\packr-data-${id}`;
  return path.join(os.tmpdir(), `packr-data-${id}.sock`);
}

function listen(server: net.Server, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(name, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** The holder's description, null when it answered nothing readable, "stale" when nobody listens. */
function whoHolds(name: string): Promise<{ pid?: number } | null | "stale"> {
  return new Promise((resolve) => {
    let data = "";
    const socket = net.connect(name);
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.on("data", (d) => {
      data += String(d);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === "ECONNREFUSED" || err.code === "ENOENT" ? "stale" : null);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data) as { pid?: number });
      } catch {
        resolve(null);
      }
    });
  });
}
