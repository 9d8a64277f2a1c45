import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "./config.ts";

export type Secrets = {
  jwt: string;
  session: string;
  internalApi: string;
  /** PKCS#8 PEM of the ECDSA P-256 key that signs `name@version:integrity` (npm audit signatures). */
  signingKey: string;
};

const GENERATORS: { [K in keyof Secrets]: () => string } = {
  jwt: () => randomBytes(32).toString("base64url"),
  session: () => randomBytes(32).toString("base64url"),
  internalApi: () => randomBytes(32).toString("base64url"),
  signingKey: () =>
    generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString(),
};

/**
 * Secrets given in the environment win; the rest are generated once into `<dataDir>/secrets.json`
 * (mode 0600) and reused, so tokens and signatures survive a restart of the embedded default.
 */
export async function resolveSecrets(config: Config): Promise<Secrets> {
  const given = config.secrets;
  const keys = Object.keys(GENERATORS) as (keyof Secrets)[];
  if (keys.every((k) => given[k])) return given as Secrets;
  const file = path.join(config.dataDir, "secrets.json");
  let stored: Partial<Secrets> = {};
  try {
    stored = JSON.parse(await readFile(file, "utf8")) as Partial<Secrets>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const missing = keys.filter((k) => !stored[k]);
  const merged = { ...stored } as Secrets;
  for (const k of missing) merged[k] = GENERATORS[k]();
  if (missing.length > 0) {
    await mkdir(config.dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(merged, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, file);
  }
  return {
    ...merged,
    ...Object.fromEntries(keys.filter((k) => given[k]).map((k) => [k, given[k]])),
  };
}
