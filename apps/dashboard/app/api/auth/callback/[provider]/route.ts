import { type NextRequest, NextResponse } from "next/server";
import { getSettings } from "../../../../../src/server/config.ts";
import { cookieAttributes, SESSION_COOKIE } from "../../../../../src/server/session.ts";
import { FLOW_COOKIE, finishMagicLink, finishOAuth } from "../../../../../src/server/sign-in.ts";

export const dynamic = "force-dynamic";

/** Where every provider (and the magic link) returns: on success a session cookie, else an error page. */
export async function GET(req: NextRequest, ctx: { params: Promise<{ provider: string }> }) {
  const settings = await getSettings();
  const { provider } = await ctx.params;
  // The URL the provider redirected to, as the browser saw it (the redirect_uri must match).
  const currentUrl = new URL(`${req.nextUrl.pathname}${req.nextUrl.search}`, settings.dashboardUrl);
  const result =
    provider === "email"
      ? await finishMagicLink(settings, currentUrl.searchParams.get("token"))
      : await finishOAuth(settings, provider, currentUrl, req.cookies.get(FLOW_COOKIE)?.value);
  const res = result.ok
    ? NextResponse.redirect(`${settings.dashboardUrl}${result.next}`, 303)
    : NextResponse.redirect(
        `${settings.dashboardUrl}/auth/error?reason=${result.reason}${
          result.detail ? `&detail=${encodeURIComponent(result.detail)}` : ""
        }`,
        303,
      );
  res.cookies.set(FLOW_COOKIE, "", { path: "/api/auth/callback", maxAge: 0 });
  if (result.ok) {
    res.cookies.set(SESSION_COOKIE, result.session, await cookieAttributes(result.expiresAt));
  }
  return res;
}
