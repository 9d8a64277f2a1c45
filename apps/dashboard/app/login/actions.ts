"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { getSettings } from "../../src/server/config.ts";
import { sendMagicLink } from "../../src/server/mailer.ts";
import { magicLinkUrl } from "../../src/server/sign-in.ts";

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
  const url = magicLinkUrl(settings, parsed.data.email, parsed.data.next ?? null);
  try {
    await sendMagicLink(settings, parsed.data.email, url);
  } catch (err) {
    console.error("sending the sign-in mail failed:", err instanceof Error ? err.message : err);
    redirect("/login?error=mail_failed");
  }
  redirect("/login/check-email");
}
