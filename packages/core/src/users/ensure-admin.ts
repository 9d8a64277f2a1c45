import { count } from "drizzle-orm";
import { generatePassword } from "../auth/passwords.ts";
import type { ServiceContext } from "../context.ts";
import { users } from "../db/schema/index.ts";
import { createUser } from "./login.ts";

/**
 * First start with no users: create `admin` with the configured password, or a generated one that
 * the caller prints once (it is stored only as a hash). Returns null when users already exist.
 */
export async function ensureAdminUser(
  ctx: ServiceContext,
  configuredPassword: string | undefined,
): Promise<{ name: string; password: string; generated: boolean } | null> {
  const [row] = await ctx.deps.db.select({ n: count() }).from(users);
  if ((row?.n ?? 0) > 0) return null;
  const password = configuredPassword ?? generatePassword();
  await createUser(ctx, { name: "admin", password, email: null, isAdmin: true });
  return { name: "admin", password, generated: configuredPassword === undefined };
}
