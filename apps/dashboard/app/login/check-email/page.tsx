import { getSettings } from "../../../src/server/config.ts";

export const dynamic = "force-dynamic";

export default async function CheckEmailPage() {
  const settings = await getSettings();
  // `pnpm start` with no mail server prints the link instead of sending it.
  const printed = settings.email?.smtpUrl === "console";
  return (
    <main className="narrow">
      <div className="card">
        <h1>{printed ? "Find the link in the terminal" : "Check your email"}</h1>
        {printed ? (
          <p data-testid="link-in-terminal">
            No mail server is configured (<code>SMTP_URL</code>), so the sign-in link was printed in
            the terminal where Packr runs, on a line starting with <code>Sign-in link for</code>.
            Open it in this browser within 15 minutes; it works once. Set <code>SMTP_URL</code> to
            send real mail.
          </p>
        ) : (
          <p>
            If the address can sign in, a link is on its way. Open it in this browser within 15
            minutes; it works once.
          </p>
        )}
        <a href="/login">Back to sign-in</a>
      </div>
    </main>
  );
}
