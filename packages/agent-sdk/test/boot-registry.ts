import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeTarball, publishBody } from "@packr/core/testing";

const SERVER = fileURLToPath(new URL("../../../apps/registry/src/server.ts", import.meta.url));
const REGISTRY_DIR = path.dirname(path.dirname(SERVER));

export type BootedRegistry = { url: string; token: string; stop(): Promise<void> };

/**
 * The real registry as a process on 127.0.0.1 (embedded database in a temp dir) with a small
 * corpus published and analyzed: what the SDK and the MCP server are tested against.
 */
export async function bootRegistry(): Promise<BootedRegistry> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-sdk-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", SERVER], {
    cwd: REGISTRY_DIR,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? os.homedir(),
      PORT: String(port),
      HOST: "127.0.0.1",
      PACKR_PUBLIC_URL: url,
      PACKR_DATA_DIR: dataDir,
      PACKR_ADMIN_PASSWORD: "admin-password-1",
      PACKR_LOG_LEVEL: "warn",
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
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await until(
      async () => (await fetch(`${url}/-/ping`)).ok,
      150_000,
      () => `registry did not start:\n${out}`,
    );
    const login = await fetch(`${url}/-/v1/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "admin", password: "admin-password-1" }),
    });
    const { token } = (await login.json()) as { token: string };
    for (const spec of CORPUS) {
      const manifest = { name: spec.name, version: spec.version, ...spec.manifest };
      const bytes = await makeTarball(manifest, spec.files ?? {});
      const res = await fetch(`${url}/${spec.name.replace("/", "%2f")}`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(publishBody(spec.name, spec.version, { bytes, manifest })),
      });
      if (res.status !== 201)
        throw new Error(`publish ${spec.name}: ${res.status} ${await res.text()}`);
    }
    // The in-process runner analyzes each publish after commit; wait for the last one.
    await until(
      async () => {
        const res = await fetch(`${url}/agent/@acme%2Fprivate-auth`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return res.ok && ((await res.json()) as { analysis: string }).analysis === "complete";
      },
      120_000,
      () => `analysis did not finish:\n${out}`,
    );
    return { url, token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const CORPUS: {
  name: string;
  version: string;
  manifest?: Record<string, unknown>;
  files?: Record<string, string>;
}[] = [
  {
    name: "auth-kit",
    version: "1.0.0",
    manifest: {
      description: "JWT authentication",
      keywords: ["auth"],
      types: "index.d.ts",
      engines: { node: ">=18" },
    },
    files: {
      "index.d.ts": "/** Sign a token. */\nexport declare function sign(p: object): string;\n",
      "README.md": "# auth-kit\n",
    },
  },
  {
    name: "auth-kit",
    version: "1.1.0",
    manifest: {
      description: "JWT authentication",
      keywords: ["auth"],
      types: "index.d.ts",
      engines: { node: ">=22" },
      dependencies: { "date-kit": "^2.0.0" },
    },
    files: {
      "index.d.ts": "/** Sign a token. */\nexport declare function sign(p: object): string;\n",
      "README.md": "# auth-kit\n",
    },
  },
  {
    name: "date-kit",
    version: "2.0.0",
    manifest: { description: "Date formatting", keywords: ["date"] },
  },
  {
    name: "app",
    version: "1.0.0",
    manifest: { dependencies: { "auth-kit": "^1.0.0", "date-kit": "^2.0.0" } },
  },
  {
    name: "@acme/private-auth",
    version: "1.0.0",
    manifest: { description: "Private authentication helpers" },
  },
];

async function until(check: () => Promise<boolean>, ms: number, why: () => string): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      if (await check()) return;
    } catch {}
    if (Date.now() - started > ms) throw new Error(why());
    await new Promise((r) => setTimeout(r, 200));
  }
}

function freePort(): Promise<number> {
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
