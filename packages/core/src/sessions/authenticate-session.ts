import { and, eq, gt, isNull } from "drizzle-orm";
import type { Deps, SessionActor } from "../context.ts";
import { sessions, users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";

/**
 * Turn a `packr_session` value into the signed-in person, or throw UNAUTHORIZED. A forged value
 * fails the HMAC without a query; a well-signed one must still name a live row, read fresh on
 * every call (admin requests are few), so signing out or revoking takes effect at once everywhere.
 */
export async function authenticateSession(deps: Deps, value: string): Promise<SessionActor> {
  const id = deps.sessions.open(value);
  if (!id) {
    throw new PackrError("UNAUTHORIZED", "This session is not valid. Sign in again.");
  }
  const [row] = await deps.db
    .select({
      userId: users.id,
      userName: users.name,
      userEmail: users.email,
      isAdmin: users.isAdmin,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, id), isNull(sessions.revokedAt), gt(sessions.expiresAt, deps.now())))
    .limit(1);
  if (!row) {
    throw new PackrError(
      "UNAUTHORIZED",
      "This session has expired or was signed out. Sign in again.",
    );
  }
  return { type: "session", sessionId: id, ...row };
}
