/**
 * One process per embedded data dir: a second holder is refused with the first one's pid, the lock
 * is free again after release, and after kill -9 of its holder (the OS drops it; nothing stale).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockDataDir } from "../src/db/data-dir-lock.ts";

const LOCK_MODULE = fileURLToPath(new URL("../src/db/data-dir-lock.ts", import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "packr-lock-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("lockDataDir", () => {
  it("refuses a second holder, naming the first one's pid, until the first releases", async () => {
    const first = await lockDataDir(path.join(dir, "a"));
    await expect(lockDataDir(path.join(dir, "a"))).rejects.toThrow(
      new RegExp(
        `Another Packr \\(pid ${process.pid}\\) is already using the embedded database in .*PACKR_DATA_DIR`,
      ),
    );
    // The same directory by another spelling is the same lock.
    await expect(lockDataDir(path.join(dir, "b", "..", "a"))).rejects.toThrow(/already using/);
    // Another directory is not.
    const other = await lockDataDir(path.join(dir, "c"));
    await other.release();
    await first.release();
    const again = await lockDataDir(path.join(dir, "a"));
    await again.release();
  });

  it("is free again after its holder is killed with SIGKILL", async () => {
    const target = path.join(dir, "killed");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `import(${JSON.stringify(LOCK_MODULE)}).then(async (m) => { await m.lockDataDir(${JSON.stringify(target)}); console.log("locked"); setInterval(() => {}, 1000); });`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (d) => String(d).includes("locked") && resolve());
      child.once("exit", (code) => reject(new Error(`holder exited early (${code})`)));
    });
    await expect(lockDataDir(target)).rejects.toThrow(
      new RegExp(`Another Packr \\(pid ${child.pid}\\)`),
    );
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    const mine = await lockDataDir(target);
    await mine.release();
  }, 60_000);
});
