import { asc, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { signingKeys } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import type { RegistryKey } from "./registry-signer.ts";

/**
 * Record this instance's public key (once; a restart with the same key changes nothing). Every
 * instance does it at start, so `/-/npm/v1/keys` on any of them serves every key that signs here.
 */
export async function registerSigningKey(db: Database, key: RegistryKey): Promise<void> {
  await db
    .insert(signingKeys)
    .values({ keyid: key.keyid, publicKey: key.key })
    .onConflictDoNothing({ target: signingKeys.keyid });
}

/** What `/-/npm/v1/keys` serves: every key, oldest first, with its `expires` when retired. */
export async function listSigningKeys(db: Database): Promise<RegistryKey[]> {
  const rows = await db.select().from(signingKeys).orderBy(asc(signingKeys.createdAt));
  return rows.map((r) => ({
    expires: r.expiresAt?.toISOString() ?? null,
    keyid: r.keyid,
    keytype: "ecdsa-sha2-nistp256",
    scheme: "ecdsa-sha2-nistp256",
    key: r.publicKey,
  }));
}

/**
 * Retire a key after a rotation (or a leak): signatures made after `at` no longer verify, the
 * ones made before still do (npm compares a version's publish time with `expires`).
 */
export async function retireSigningKey(db: Database, keyid: string, at: Date): Promise<void> {
  const rows = await db
    .update(signingKeys)
    .set({ expiresAt: at })
    .where(eq(signingKeys.keyid, keyid))
    .returning({ keyid: signingKeys.keyid });
  if (rows.length === 0) throw new PackrError("NOT_FOUND", `No signing key ${keyid}.`);
}
