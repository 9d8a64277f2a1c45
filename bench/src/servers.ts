import type { ChildProcess } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { childEnv, freePort, makeTempDir, sleep, spawnTracked, stopProcess } from "./proc.ts";

/**
 * The three servers, each its own process on 127.0.0.1 and a random free port: Packr (fresh data
 * dir), Verdaccio 6 (generated config, JWT tokens) and the bare node:http server.
 */

export type ServerName = "packr" | "verdaccio" | "bare";

export type Server = {
  name: ServerName;
  url: string;
  port: number;
  pid: number;
  /** A token for Authorization: Bearer (the bare server accepts anything). */
  token: string;
  output(): string;
  stop(): Promise<void>;
};

export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
export const REPO_ROOT = path.resolve(BENCH_DIR, "..");
const VERDACCIO_BIN = path.join(BENCH_DIR, "node_modules", "verdaccio", "bin", "verdaccio");
const BARE_SERVER = fileURLToPath(new URL("./bare-server.ts", import.meta.url));

export const PACKR_ADMIN_PASSWORD = "bench-admin-password-1";
const VERDACCIO_USER = { name: "bench", password: "bench-password-1" };

type Started = { child: ChildProcess; out: () => string; tmp: string };

function collect(child: ChildProcess): () => string {
  let out = "";
  const add = (d: Buffer) => {
    // Keep the tail only: a server that logs a lot must not grow this process's memory.
    out = (out + String(d)).slice(-200_000);
  };
  child.stdout?.on("data", add);
  child.stderr?.on("data", add);
  return () => out;
}

async function waitReady(url: string, s: Started, what: string, limitMs: number): Promise<void> {
  const until = performance.now() + limitMs;
  while (performance.now() < until) {
    if (s.child.exitCode !== null) {
      throw new Error(`${what} exited with ${s.child.exitCode} during start:\n${s.out()}`);
    }
    try {
      const res = await fetch(`${url}/-/ping`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {}
    await sleep(100);
  }
  await stopProcess(s.child, 1_000);
  throw new Error(`${what} did not answer /-/ping within ${limitMs / 1000} s:\n${s.out()}`);
}

function asServer(name: ServerName, port: number, s: Started, token: string): Server {
  const pid = s.child.pid;
  if (pid === undefined) throw new Error(`${name}: no pid`);
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    pid,
    token,
    output: s.out,
    async stop() {
      await stopProcess(s.child);
      await rm(s.tmp, { recursive: true, force: true });
    },
  };
}

async function startPackrOnce(nodeArgs: string[], env: Record<string, string>): Promise<Server> {
  const tmp = await makeTempDir("packr");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnTracked(
    process.execPath,
    [...nodeArgs, "--import", "tsx", path.join("apps", "registry", "src", "server.ts")],
    {
      cwd: REPO_ROOT,
      env: childEnv({
        PORT: String(port),
        HOST: "127.0.0.1",
        PACKR_PUBLIC_URL: url,
        PACKR_DATA_DIR: path.join(tmp, "data"),
        PACKR_ADMIN_PASSWORD,
        PACKR_LOG_LEVEL: "warn",
        // Like Verdaccio here: no uplink, so every read is local and nothing reaches the internet.
        PACKR_UPLINK_URL: "",
        // Only the measured packages: Packr's own clients are not published at start.
        PACKR_CLIENTS_DIR: path.join(tmp, "no-clients"),
        NODE_ENV: "production",
        ...env,
      }),
    },
  );
  const s: Started = { child, out: collect(child), tmp };
  try {
    await waitReady(url, s, "Packr", 90_000);
    const res = await fetch(`${url}/-/v1/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "admin", password: PACKR_ADMIN_PASSWORD }),
    });
    const body = (await res.json()) as { token?: string };
    if (!res.ok || !body.token)
      throw new Error(`Packr login: ${res.status} ${JSON.stringify(body)}`);
    return asServer("packr", port, s, body.token);
  } catch (err) {
    await stopProcess(child, 1_000);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Packr's source changes under us while colleagues work on it: a start that fails may be a
 * half-saved file. Wait and try again a bounded number of times before giving up.
 */
export async function startPackr(
  attempts: number,
  waitMs = 60_000,
  /** Extra node flags, e.g. `--cpu-prof` for `pnpm bench:focus --prof`. */
  nodeArgs: string[] = [],
  /** Extra environment, e.g. PACKR_LOG_LEVEL. */
  env: Record<string, string> = {},
): Promise<Server> {
  let lastErr: unknown;
  for (let i = 1; i <= attempts; i++) {
    try {
      return await startPackrOnce(nodeArgs, env);
    } catch (err) {
      lastErr = err;
      console.error(`Packr did not start (attempt ${i} of ${attempts}): ${String(err)}`);
      if (i < attempts) await sleep(waitMs);
    }
  }
  throw lastErr;
}

function verdaccioConfig(tmp: string, port: number): string {
  // JWT for the API (the default legacy tokens AES-decrypt and bcrypt-compare on every request,
  // which no one should run in CI); no uplinks so every read is local; logs at warn like Packr.
  return `storage: ${path.join(tmp, "storage")}
auth:
  htpasswd:
    file: ${path.join(tmp, "htpasswd")}
    max_users: 100
security:
  api:
    jwt:
      sign:
        expiresIn: 7d
  web:
    sign:
      expiresIn: 7d
uplinks: {}
packages:
  '@*/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    publish: $authenticated
max_body_size: 200mb
listen: 127.0.0.1:${port}
log: { type: stdout, format: pretty, level: warn }
`;
}

export async function startVerdaccio(): Promise<Server> {
  const tmp = await makeTempDir("verdaccio");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configPath = path.join(tmp, "config.yaml");
  await writeFile(configPath, verdaccioConfig(tmp, port));
  const child = spawnTracked(process.execPath, [VERDACCIO_BIN, "-c", configPath], {
    cwd: tmp,
    env: childEnv({ NODE_ENV: "production" }),
  });
  const s: Started = { child, out: collect(child), tmp };
  try {
    await waitReady(url, s, "Verdaccio", 60_000);
    // npm adduser's request: creates the htpasswd user and answers a JWT.
    const res = await fetch(`${url}/-/user/org.couchdb.user:${VERDACCIO_USER.name}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...VERDACCIO_USER, type: "user", roles: [], date: new Date() }),
    });
    const body = (await res.json()) as { token?: string };
    if (!res.ok || !body.token) {
      throw new Error(`Verdaccio adduser: ${res.status} ${JSON.stringify(body)}`);
    }
    if (body.token.split(".").length !== 3) throw new Error("Verdaccio token is not a JWT");
    return asServer("verdaccio", port, s, body.token);
  } catch (err) {
    await stopProcess(child, 1_000);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The bare server over a capture file (see capture.ts), on a port chosen beforehand. */
export async function startBare(captureDir: string, port: number): Promise<Server> {
  const child = spawnTracked(process.execPath, ["--import", "tsx", BARE_SERVER, captureDir], {
    cwd: BENCH_DIR,
    env: childEnv({ PORT: String(port), NODE_ENV: "production" }),
  });
  const s: Started = { child, out: collect(child), tmp: captureDir };
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, s, "bare server", 30_000);
  return asServer("bare", port, s, "bare-server-ignores-tokens");
}
