"use server";

import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { callRegistry } from "../src/server/registry.ts";
import { SESSION_COOKIE, sessionValue } from "../src/server/session.ts";

/** Sign out: the registry ends the session at once (not just the cookie), then the cookie goes. */
export async function signOut(): Promise<void> {
  const session = await sessionValue();
  if (session) {
    await callRegistry("/api/v1/admin/sessions/current", { method: "DELETE", session });
  }
  (await cookies()).delete(SESSION_COOKIE);
  redirect("/login?signedOut=1");
}
