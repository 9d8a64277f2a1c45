import { asc, eq } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import { requireAdminPrincipal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
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
  return rows.map(toRegistryKey);
}

const toRegistryKey = (r: typeof signingKeys.$inferSelect): RegistryKey => ({
  expires: r.expiresAt?.toISOString() ?? null,
  keyid: r.keyid,
  keytype: "ecdsa-sha2-nistp256",
  scheme: "ecdsa-sha2-nistp256",
  key: r.publicKey,
});

/**
 * Retire a key after a rotation (or a leak): signatures made after `at` (default now) no longer
 * verify, the ones made before still do (npm compares a version's publish time with `expires`).
 * Administrators only; the key this instance signs with cannot be retired (rotate
 * `PACKR_SIGNING_KEY` first, or every new version would carry a signature npm refuses).
 */
export async function retireSigningKey(args: {
  ctx: ServiceContext;
  input: { keyid: string; at?: Date };
}): Promise<RegistryKey> {
  const { ctx, input } = args;
  requireAdminPrincipal(ctx.actor, "retire a signing key");
  if (input.keyid === ctx.deps.signer.key.keyid) {
    throw new PackrError(
      "CONFLICT",
      `${input.keyid} is the key this registry signs with: set PACKR_SIGNING_KEY to a new key on every instance, restart them, then retire this one.`,
    );
  }
  const at = input.at ?? ctx.deps.now();
  const [row] = await ctx.deps.db.transaction(async (tx) => {
    const rows = await tx
      .update(signingKeys)
      .set({ expiresAt: at })
      .where(eq(signingKeys.keyid, input.keyid))
      .returning();
    if (rows[0]) {
      await emitAudit(tx, ctx, {
        action: "signing_key.retired",
        targetType: "signing_key",
        targetId: input.keyid,
        data: { expires: at.toISOString() },
      });
    }
    return rows;
  });
  if (!row) throw new PackrError("NOT_FOUND", `No signing key ${input.keyid.slice(0, 100)}.`);
  return toRegistryKey(row);
}
