import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CliError } from "../errors.ts";
import type { Stream } from "../output/output.ts";

/** What `npm pack --json` reports about one tarball. */
export type PackResult = {
  id: string;
  name: string;
  version: string;
  size: number;
  unpackedSize: number;
  shasum: string;
  integrity: string;
  filename: string;
  files: { path: string; size: number; mode: number }[];
  entryCount: number;
  bundled: string[];
};

type Spawned = { code: number | null; stdout: string; stderr: string };

function runNpm(
  npm: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; forward?: Stream },
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(npm, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["ignore", "pipe", "pipe"],
      shell: process.platform === "win32",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += String(d);
      if (opts.forward) opts.forward.write(String(d));
    });
    child.stderr.on("data", (d) => {
      stderr += String(d);
      if (opts.forward) opts.forward.write(String(d));
    });
    child.on("error", (err) =>
      reject(
        new CliError(
          "failure",
          `Could not run ${npm} (${(err as NodeJS.ErrnoException).code ?? err.message}); packr-cli publish packs with npm, which comes with Node.js.`,
          { code: "NPM_MISSING", cause: err },
        ),
      ),
    );
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Pack `dir` exactly as `npm publish` does: npm's own packer (`npm pack`, libnpmpack), with the
 * prepack/prepare/postpack scripts and npm's file rules (files, .npmignore, always-included
 * files). The tarball is read back and its temp directory removed.
 */
export async function pack(opts: {
  npm: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  ignoreScripts: boolean;
}): Promise<{
  result: PackResult;
  tarball: Buffer;
  npmVersion: string | undefined;
  /** What the prepack/prepare/postpack scripts printed, for the caller to show. */
  scriptOutput: string;
}> {
  const dest = await mkdtemp(path.join(os.tmpdir(), "packr-cli-pack-"));
  try {
    const args = ["pack", "--json", "--pack-destination", dest];
    if (opts.ignoreScripts) args.push("--ignore-scripts");
    const [packed, version] = await Promise.all([
      runNpm(opts.npm, args, { cwd: opts.dir, env: opts.env }),
      runNpm(opts.npm, ["--version"], { cwd: opts.dir, env: opts.env }),
    ]);
    const { json, before } = splitTrailingJson(packed.stdout);
    const first = Array.isArray(json) ? (json[0] as PackResult | undefined) : undefined;
    if (packed.code !== 0 || !first?.filename) {
      throw new CliError(
        "failure",
        `npm pack failed in ${opts.dir} (exit ${packed.code}):\n${(packed.stderr || packed.stdout).trim().slice(-4000)}`,
        { code: "PACK_FAILED" },
      );
    }
    const tarball = await readFile(path.join(dest, path.basename(first.filename)));
    const npmVersion = version.code === 0 ? version.stdout.trim() || undefined : undefined;
    const scriptOutput = before.trim() === "" ? "" : before.endsWith("\n") ? before : `${before}\n`;
    return { result: first, tarball, npmVersion, scriptOutput };
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
}

/** Run one lifecycle script the way npm publish does (that event only, no pre/post of it). */
export async function runScript(opts: {
  npm: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  event: string;
  log: Stream;
}): Promise<void> {
  const r = await runNpm(opts.npm, ["run", opts.event, "--ignore-scripts"], {
    cwd: opts.dir,
    env: opts.env,
    forward: opts.log,
  });
  if (r.code !== 0) {
    throw new CliError("failure", `The ${opts.event} script failed (exit ${r.code}).`, {
      code: "SCRIPT_FAILED",
    });
  }
}

/**
 * `npm pack --json` prints lifecycle-script output first and the JSON array last; take the last
 * line that opens an array and parses to the end.
 */
export function splitTrailingJson(stdout: string): { json: unknown; before: string } {
  const starts: number[] = [];
  const re = /^\[/gm;
  for (let m = re.exec(stdout); m; m = re.exec(stdout)) starts.push(m.index);
  for (const start of starts.reverse()) {
    try {
      return { json: JSON.parse(stdout.slice(start)), before: stdout.slice(0, start) };
    } catch {}
  }
  return { json: undefined, before: stdout };
}
