import { redirect } from "next/navigation";
import { failureMessage } from "../../src/messages.ts";
import { getSettings } from "../../src/server/config.ts";
import { enabledProviders } from "../../src/server/providers.ts";
import { currentUser } from "../../src/server/session.ts";
import { safeNext } from "../../src/server/signed.ts";
import { requestMagicLink } from "./actions.ts";

export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<Record<string, string | undefined>> };

export default async function LoginPage({ searchParams }: Props) {
  const q = await searchParams;
  const next = safeNext(q.next);
  if (await currentUser()) redirect(next);
  const providers = enabledProviders(await getSettings());
  const oauth = providers.filter((p) => p.id !== "email");
  const hasEmail = providers.some((p) => p.id === "email");
  const error = failureMessage(q.error);
  return (
    <main className="narrow">
      <div className="card">
        <h1>Sign in to Packr</h1>
        {q.signedOut ? <div className="alert ok">You are signed out.</div> : null}
        {error ? (
          <div className="alert error" role="alert">
            {error}
          </div>
        ) : null}
        {providers.length === 0 ? (
          <p className="muted">
            No sign-in provider is configured. Set the settings of one (see the README's provider
            table), or run <code>pnpm start</code>, which enables email links printed to its log.
          </p>
        ) : null}
        <div className="providers">
          {oauth.map((p) => (
            <a
              key={p.id}
              className="button secondary"
              href={`/api/auth/signin/${p.id}?next=${encodeURIComponent(next)}`}
            >
              Continue with {p.label}
            </a>
          ))}
        </div>
        {hasEmail ? (
          <>
            {oauth.length > 0 ? <div className="divider">or</div> : null}
            <form action={requestMagicLink}>
              <input type="hidden" name="next" value={next} />
              <label htmlFor="email">Email address</label>
              <input id="email" name="email" type="email" required autoComplete="email" />
              <div className="actions">
                <button type="submit">Email me a sign-in link</button>
              </div>
            </form>
          </>
        ) : null}
      </div>
    </main>
  );
}
