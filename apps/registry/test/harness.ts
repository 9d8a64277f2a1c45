import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureAdminUser, loadConfig } from "@packr/core";
import { createScratchDatabase } from "@packr/core/testing";
import { createApp, type RegistryApp } from "../src/app.ts";
import { createRuntime, type Runtime } from "../src/runtime.ts";

const SERVER = fileURLToPath(new URL("../src/server.ts", import.meta.url));

export const ADMIN_PASSWORD = "admin-password-1";

export type TestRegistry = {
  app: RegistryApp;
  runtime: Runtime;
  /** Run every committed job that is due (analysis, docs); returns how many ran. */
  runJobs(): Promise<number>;
  /** Log in as a user and return a login token. */
  login(name: string, password: string): Promise<string>;
  close(): Promise<void>;
};

/**
 * An in-process registry for `app.request()` tests: embedded PGlite in memory when DATABASE_URL
 * is unset, otherwise a fresh database on that server, and a temp blob directory. Dropped on close.
 */
export async function createTestRegistry(env: Record<string, string> = {}): Promise<TestRegistry> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-test-"));
  const db = await freshDatabaseUrl();
  const config = loadConfig({
    PACKR_DATA_DIR: dataDir,
    PACKR_PUBLIC_URL: "http://registry.test",
    PACKR_LOG_LEVEL: "silent",
    // Tests never reach the internet: a suite that wants an uplink names one on loopback.
    PACKR_UPLINK_URL: "",
    // Tests run committed jobs themselves (runJobs), so they know when analysis is done.
    PACKR_RUN_JOBS: "false",
    ...(db ? { DATABASE_URL: db.url } : {}),
    ...env,
  });
  const runtime = await createRuntime(config, db ? undefined : { inMemory: true });
  await ensureAdminUser(
    { deps: runtime.deps, actor: { type: "system", reason: "test" }, requestId: "test" },
    ADMIN_PASSWORD,
  );
  const app = createApp(runtime);
  return {
    app,
    runtime,
    runJobs: () => runtime.relay.drain(),
    async login(name, password) {
      const res = await app.request("/-/v1/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, password }),
      });
      if (res.status !== 201) throw new Error(`login failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      await runtime.close();
      await db?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** With DATABASE_URL set (CI), every test registry gets its own database on that server. */
async function freshDatabaseUrl(): Promise<{ url: string; drop(): Promise<void> } | null> {
  const base = process.env.DATABASE_URL;
  return base ? createScratchDatabase(base) : null;
}

export type RegistryProcess = {
  url: string;
  port: number;
  dataDir: string;
  adminPassword: string;
  stop(): Promise<void>;
  output(): string;
};

/**
 * The registry as a real process on 127.0.0.1 (what end-to-end tests talk to with npm, pnpm and
 * yarn). Pass the same dataDir and port again to restart it over the same data.
 */
export async function startRegistryProcess(
  opts: { dataDir?: string; port?: number; env?: Record<string, string> } = {},
): Promise<RegistryProcess> {
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "packr-e2e-")));
  const port = opts.port ?? (await freePort());
  const adminPassword = "admin-password-1";
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", SERVER], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? os.homedir(),
      PORT: String(port),
      HOST: "127.0.0.1",
      PACKR_PUBLIC_URL: url,
      PACKR_DATA_DIR: dataDir,
      PACKR_ADMIN_PASSWORD: adminPassword,
      // Never the internet: a test that wants an uplink passes a loopback one in env.
      PACKR_UPLINK_URL: "",
      // An empty registry: the suite of Packr's own clients turns their publishing on.
      PACKR_CLIENTS_DIR: path.join(dataDir, "no-clients"),
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  child.stderr?.on("data", (d) => {
    out += String(d);
  });
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`registry exited with ${child.exitCode}:\n${out}`);
    try {
      // /health, not /-/ping: a private registry (PACKR_READ_REQUIRES_AUTH) answers ping with 401.
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {}
    if (Date.now() - started > 60_000) {
      child.kill("SIGKILL");
      throw new Error(`registry did not start within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    dataDir,
    adminPassword,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A port free on 127.0.0.1 right now (for a process that must know its URL before it starts). */
export async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export type SeedToken = {
  user: string;
  role: "ci-readonly" | "ci-publish" | "maintainer" | "admin";
  kind?: "login" | "personal" | "ci";
  scopes?: string[];
  ttlSeconds?: number;
};

/**
 * Create users and tokens directly in a registry's data directory before its process starts
 * (the embedded database is single-process). Users get the password `<name>-password-1`.
 * Until the admin API exists this is how tests get tokens of a given role and scope.
 */
export async function seedTokens(dataDir: string, specs: SeedToken[]): Promise<string[]> {
  const { createUser, ensureAdminUser, findUserByName } = await import("@packr/core");
  const config = loadConfig({
    PACKR_DATA_DIR: dataDir,
    PACKR_LOG_LEVEL: "silent",
    PACKR_UPLINK_URL: "",
  });
  const runtime = await createRuntime(config);
  const ctx = {
    deps: runtime.deps,
    actor: { type: "system" as const, reason: "test seed" },
    requestId: "seed",
  };
  try {
    await ensureAdminUser(ctx, "admin-password-1");
    const out: string[] = [];
    for (const spec of specs) {
      const user =
        (await findUserByName(ctx, spec.user)) ??
        (await createUser(ctx, {
          name: spec.user,
          password: `${spec.user}-password-1`,
          email: `${spec.user}@example.test`,
          isAdmin: false,
        }));
      const issued = await runtime.deps.tokens.issue(runtime.deps.db, {
        kind: spec.kind ?? "ci",
        name: `test ${spec.role}`,
        userId: user.id,
        role: spec.role,
        scopes: spec.scopes ?? [],
        ttlSeconds: spec.ttlSeconds ?? 3600,
      });
      out.push(issued.token);
    }
    return out;
  } finally {
    await runtime.close();
  }
}

/**
 * Org memberships written into a registry's data directory before its process starts (as
 * `seedTokens` does for tokens): the org is created if missing, the users must exist.
 */
export async function seedOrgRoles(
  dataDir: string,
  specs: Array<{ org: string; user: string; role: "reader" | "maintainer" | "admin" }>,
): Promise<void> {
  const { setOrgRole } = await import("@packr/core/testing");
  const runtime = await createRuntime(
    loadConfig({ PACKR_DATA_DIR: dataDir, PACKR_LOG_LEVEL: "silent", PACKR_UPLINK_URL: "" }),
  );
  try {
    for (const spec of specs) await setOrgRole(runtime.deps, spec);
  } finally {
    await runtime.close();
  }
}

export type ServedRegistry = {
  registry: TestRegistry;
  url: string;
  /** Requests the served registry received (method and path), in order. */
  requests: { method: string; path: string; headers: Headers }[];
  /** Delay every answer (a slow uplink). */
  delayMs: number;
  stop(): Promise<void>;
  /** Listen again on the same port after `stop`. */
  start(): Promise<void>;
  close(): Promise<void>;
};

/**
 * A whole second registry served on 127.0.0.1 — what suites use as the uplink of the registry
 * they test, so the uplink is real Packr and never the internet. Its public URL is its loopback
 * address, so the tarball URLs in its documents are fetchable.
 */
export async function serveTestRegistry(env: Record<string, string> = {}): Promise<ServedRegistry> {
  const { serve } = await import("@hono/node-server");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const registry = await createTestRegistry({ PACKR_PUBLIC_URL: url, ...env });
  const state: ServedRegistry = {
    registry,
    url,
    requests: [],
    delayMs: 0,
    stop: async () => {},
    start: async () => {},
    close: async () => {},
  };
  const fetchHandler = async (req: Request) => {
    state.requests.push({
      method: req.method,
      path: new URL(req.url).pathname,
      headers: req.headers,
    });
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
    return registry.app.fetch(req);
  };
  let server: ReturnType<typeof serve> | undefined;
  state.start = async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: fetchHandler, port, hostname: "127.0.0.1" }, () => resolve());
    });
  };
  state.stop = () =>
    new Promise((resolve) => {
      const s = server as unknown as { close(cb: () => void): void; closeAllConnections?(): void };
      if (!s) return resolve();
      server = undefined;
      s.close(() => resolve());
      s.closeAllConnections?.();
    });
  state.close = async () => {
    await state.stop();
    await registry.close();
  };
  await state.start();
  return state;
}

/**
 * The app as reached over a socket from `peer` (`app.request()` has no socket, so the client
 * address is otherwise unknown): lets in-process tests act as a proxy or as a client address.
 */
export function fromPeer(app: RegistryApp, peer: string): RegistryApp {
  const wrapped = Object.create(app) as RegistryApp;
  const env = { incoming: { socket: { remoteAddress: peer } } };
  wrapped.request = ((input: Request | string | URL, init?: RequestInit) =>
    app.request(input, init, env)) as RegistryApp["request"];
  return wrapped;
}
