import { rm } from "node:fs/promises";
import { makeTarball, publishBody } from "@packr/core/testing";
import { startRegistryProcess } from "@packr/registry/test/harness";

export type BootedRegistry = { url: string; token: string; stop(): Promise<void> };

/**
 * The real registry as a process on 127.0.0.1 (embedded database in a temp dir, no uplink) with a
 * small corpus published and analyzed: what the SDK and the MCP server are tested against.
 */
export async function bootRegistry(): Promise<BootedRegistry> {
  const reg = await startRegistryProcess({ env: { PACKR_LOG_LEVEL: "warn" } });
  const { url } = reg;
  const out = reg.output;
  const stop = async () => {
    await reg.stop();
    await rm(reg.dataDir, { recursive: true, force: true });
  };

  try {
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
      () => `analysis did not finish:\n${out()}`,
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
