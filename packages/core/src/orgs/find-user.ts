import { eq } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { parseUserName } from "./org-names.ts";

/** The user of this name, or a 404 that names them (so a typo reads as one). */
export async function requireUser(
  db: Queryable,
  rawName: string,
): Promise<{ id: string; name: string }> {
  const name = parseUserName(rawName);
  const [user] = await db
    .select({ id: users.id, name: users.name })
    .from(users)
    .where(eq(users.name, name))
    .limit(1);
  if (!user) {
    throw new PackrError("NOT_FOUND", `There is no user ${name} here; check the name.`, {
      details: { user: name },
    });
  }
  return user;
}
