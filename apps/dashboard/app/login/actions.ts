"use server";

import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { getSettings } from "../../src/server/config.ts";
import { sendMagicLink } from "../../src/server/mailer.ts";
import { type AdminUser, callRegistry, type RegistryError } from "../../src/server/registry.ts";
import { cookieAttributes, SESSION_COOKIE } from "../../src/server/session.ts";
import { magicLinkUrl } from "../../src/server/sign-in.ts";
import { safeNext } from "../../src/server/signed.ts";

const EmailForm = z.object({ email: z.email().max(254), next: z.string().max(2000).optional() });

/** Mail a one-time sign-in link. The answer is the same whether or not the address has an account. */
export async function requestMagicLink(formData: FormData): Promise<void> {
  const settings = await getSettings();
  const parsed = EmailForm.safeParse({
    email: String(formData.get("email") ?? "")
      .trim()
      .toLowerCase(),
    next: formData.get("next") ?? undefined,
  });
  const next = typeof formData.get("next") === "string" ? String(formData.get("next")) : "";
  if (!settings.email) redirect("/login?error=unknown_provider");
  if (!parsed.success) redirect(`/login?error=invalid_email&next=${encodeURIComponent(next)}`);
  // Counted at the registry before anything is sent: it refuses past 3 mails per address in
  // 15 minutes or 20 per client address in an hour, so nobody can flood a mailbox through us.
  const allowed = await callRegistry("/api/v1/admin/magic-links", {
    method: "POST",
    body: { email: parsed.data.email, ...(await clientAddress()) },
  });
  if (!allowed.ok) {
    const back = (reason: string) =>
      redirect(`/login?error=${reason}&next=${encodeURIComponent(next)}`);
    if (allowed.status === 429) back("too_many_links");
    console.error(`the registry refused a sign-in mail: ${allowed.status} ${allowed.message}`);
    back(unreachable(allowed) ?? "mail_failed");
  }
  const url = magicLinkUrl(settings, parsed.data.email, parsed.data.next ?? null);
  try {
    await sendMagicLink(settings, parsed.data.email, url);
  } catch (err) {
    console.error("sending the sign-in mail failed:", err instanceof Error ? err.message : err);
    redirect("/login?error=mail_failed");
  }
  redirect("/login/check-email");
}

const PasswordForm = z.object({
  name: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(1024),
});

/**
 * Sign a local account (the first-start `admin`, npm adduser accounts) in with its password. The
 * registry checks it with the same check and limits as npm login; the dashboard never sees a hash.
 */
export async function signInWithPassword(formData: FormData): Promise<void> {
  const next = safeNext(
    typeof formData.get("next") === "string" ? String(formData.get("next")) : null,
  );
  const back = (reason: string) =>
    redirect(`/login?error=${reason}&next=${encodeURIComponent(next)}`);
  const parsed = PasswordForm.safeParse({
    name: formData.get("username") ?? "",
    password: formData.get("password") ?? "",
  });
  if (!parsed.success) back("missing_password");
  const h = await headers();
  const created = await callRegistry<{ session: string; expiresAt: string; user: AdminUser }>(
    "/api/v1/admin/sessions/password",
    {
      method: "POST",
      body: {
        ...parsed.data,
        ...(await clientAddress()),
        userAgent: h.get("user-agent")?.slice(0, 500) ?? undefined,
      },
    },
  );
  if (!created.ok) {
    // The registry's one sentence for an unknown user or a wrong password.
    if (created.status === 401 && created.message.startsWith("Incorrect")) back("wrong_password");
    if (created.status === 429) back("too_many_attempts");
    console.error(`the registry refused a password sign-in: ${created.status} ${created.message}`);
    back(unreachable(created) ?? "registry_refused");
    return;
  }
  (await cookies()).set(
    SESSION_COOKIE,
    created.data.session,
    await cookieAttributes(created.data.expiresAt),
  );
  redirect(next);
}

/**
 * The browser's address (Next sets X-Forwarded-For from the socket): wrong passwords and sign-in
 * mails are limited per address at the registry, not per dashboard.
 */
async function clientAddress(): Promise<{ ip?: string }> {
  const ip = (await headers()).get("x-forwarded-for")?.split(",")[0]?.trim().slice(0, 64);
  return ip ? { ip } : {};
}

/** The page's reason for a registry that is down or too slow, if that is what happened. */
function unreachable(err: RegistryError): string | undefined {
  if (err.status !== 503) return undefined;
  return err.timedOut ? "registry_timeout" : "registry_unreachable";
}
