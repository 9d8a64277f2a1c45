import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { and, count, eq, sql } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import { generatePassword } from "../auth/passwords.ts";
import type { ServiceContext } from "../context.ts";
import { users } from "../db/schema/index.ts";
import { createUser } from "./login.ts";

/**
 * First start with no users: create `admin` with the configured password, or a generated one that
 * the caller prints once (it is stored only as a hash). Returns null when users already exist.
 *
 * `email` (PACKR_ADMIN_EMAIL) is the admin's address: set at creation, and on later starts given
 * to the existing `admin` when it differs, so a verified sign-in with that address (magic link,
 * OAuth) is the admin rather than a new, powerless account.
 */
export async function ensureAdminUser(
  ctx: ServiceContext,
  configuredPassword: string | undefined,
  email?: string | undefined,
): Promise<{ name: string; password: string; generated: boolean } | null> {
  const [row] = await ctx.deps.db.select({ n: count() }).from(users);
  if ((row?.n ?? 0) > 0) {
    if (email) await giveAdminEmail(ctx, email);
    return null;
  }
  const password = configuredPassword ?? generatePassword();
  await createUser(ctx, {
    name: "admin",
    password,
    email: email ?? null,
    isAdmin: true,
    emailVerified: true,
  });
  return { name: "admin", password, generated: configuredPassword === undefined };
}

async function giveAdminEmail(ctx: ServiceContext, email: string): Promise<void> {
  await ctx.deps.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(users)
      .set({ email, emailVerified: true, updatedAt: sql`now()` })
      .where(
        and(
          eq(users.name, "admin"),
          eq(users.isAdmin, true),
          sql`(${users.email} is distinct from ${email} or not ${users.emailVerified})`,
        ),
      )
      .returning({ id: users.id });
    if (!updated) return;
    await emitAudit(tx, ctx, {
      action: "user.update",
      targetType: "user",
      targetId: updated.id,
      data: { email: "PACKR_ADMIN_EMAIL" },
    });
  });
}

/**
 * Keep a generated admin password in `<dataDir>/admin-password`, readable by its owner only
 * (0600), so it need not be printed to a log that others read. Returns the file's path.
 */
export async function writeAdminPasswordFile(dataDir: string, password: string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, "admin-password");
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a new file: narrow a leftover one too.
  await chmod(file, 0o600);
  return file;
}
