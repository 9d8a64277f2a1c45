import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "./config.ts";

export type Secrets = { jwt: string; session: string; internalApi: string };

/**
 * Secrets given in the environment win; the rest are generated once into `<dataDir>/secrets.json`
 * (mode 0600) and reused, so tokens survive a restart of the embedded default.
 */
export async function resolveSecrets(config: Config): Promise<Secrets> {
  const { jwt, session, internalApi } = config.secrets;
  if (jwt && session && internalApi) return { jwt, session, internalApi };
  const file = path.join(config.dataDir, "secrets.json");
  let stored: Partial<Secrets> = {};
  try {
    stored = JSON.parse(await readFile(file, "utf8")) as Partial<Secrets>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const gen = () => randomBytes(32).toString("base64url");
  const merged: Secrets = {
    jwt: stored.jwt ?? gen(),
    session: stored.session ?? gen(),
    internalApi: stored.internalApi ?? gen(),
  };
  if (
    merged.jwt !== stored.jwt ||
    merged.session !== stored.session ||
    merged.internalApi !== stored.internalApi
  ) {
    await mkdir(config.dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(merged, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, file);
  }
  return {
    jwt: jwt ?? merged.jwt,
    session: session ?? merged.session,
    internalApi: internalApi ?? merged.internalApi,
  };
}
