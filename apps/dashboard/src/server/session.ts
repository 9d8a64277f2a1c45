import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { getSettings } from "./config.ts";
import { type AdminUser, callRegistry } from "./registry.ts";

export const SESSION_COOKIE = "packr_session";

export type SignedIn = { session: string; user: AdminUser };

/** The session cookie's value, opaque to the dashboard: only the registry can check it. */
export async function sessionValue(): Promise<string | undefined> {
  return (await cookies()).get(SESSION_COOKIE)?.value;
}

/** Who is signed in, asked of the registry; a forged, expired or revoked session is nobody. */
export async function currentUser(): Promise<SignedIn | null> {
  const session = await sessionValue();
  if (!session) return null;
  const me = await callRegistry<{ user: AdminUser }>("/api/v1/admin/me", { session });
  return me.ok ? { session, user: me.data.user } : null;
}

/** For pages that need a person: send everyone else to /login and back here afterwards. */
export async function requireUser(here: string): Promise<SignedIn> {
  const signedIn = await currentUser();
  if (!signedIn) redirect(`/login?next=${encodeURIComponent(here)}`);
  return signedIn;
}

export async function cookieAttributes(expiresAt?: string) {
  const settings = await getSettings();
  const maxAge = expiresAt
    ? Math.max(0, Math.floor((Date.parse(expiresAt) - Date.now()) / 1000))
    : undefined;
  return {
    httpOnly: true,
    sameSite: "lax" as const,
    path: "/",
    secure: settings.secureCookies,
    ...(maxAge === undefined ? {} : { maxAge }),
  };
}
