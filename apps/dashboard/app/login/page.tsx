import { redirect } from "next/navigation";
import { failureMessage } from "../../src/messages.ts";
import { getSettings } from "../../src/server/config.ts";
import { enabledProviders } from "../../src/server/providers.ts";
import { currentUser } from "../../src/server/session.ts";
import { safeNext } from "../../src/server/signed.ts";
import { requestMagicLink, signInWithPassword } from "./actions.ts";

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
        {providers.length > 0 ? <div className="divider">or</div> : null}
        {/* Local accounts: the first-start `admin` and accounts made with npm adduser. */}
        <form action={signInWithPassword} aria-label="Sign in with a password">
          <input type="hidden" name="next" value={next} />
          <label htmlFor="username">Username</label>
          <input id="username" name="username" required autoComplete="username" />
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            required
            autoComplete="current-password"
          />
          <div className="actions">
            <button type="submit">Sign in with password</button>
          </div>
          <p className="muted">
            For accounts with a Packr password, such as <code>admin</code> (its password is printed
            when Packr first starts).
          </p>
        </form>
      </div>
    </main>
  );
}
