import { type NextRequest, NextResponse } from "next/server";
import { getSettings } from "../../../../../src/server/config.ts";
import { FLOW_COOKIE, startOAuth } from "../../../../../src/server/sign-in.ts";

export const dynamic = "force-dynamic";

/** Send the browser to the provider, with the flow's state/PKCE/nonce in a sealed cookie. */
export async function GET(req: NextRequest, ctx: { params: Promise<{ provider: string }> }) {
  const settings = await getSettings();
  const { provider } = await ctx.params;
  let started: Awaited<ReturnType<typeof startOAuth>>;
  try {
    started = await startOAuth(settings, provider, req.nextUrl.searchParams.get("next"));
  } catch (err) {
    console.error(
      `starting sign-in with ${provider} failed:`,
      err instanceof Error ? err.message : err,
    );
    return NextResponse.redirect(`${settings.dashboardUrl}/auth/error?reason=provider_error`, 303);
  }
  if (!started) {
    return NextResponse.redirect(`${settings.dashboardUrl}/login?error=unknown_provider`, 303);
  }
  const res = NextResponse.redirect(started.url, 302);
  res.cookies.set(FLOW_COOKIE, started.cookie, {
    httpOnly: true,
    sameSite: "lax",
    secure: settings.secureCookies,
    path: "/api/auth/callback",
    maxAge: 600,
  });
  return res;
}
