import { failureMessage } from "../../../src/messages.ts";
import { getSettings } from "../../../src/server/config.ts";
import { unsealDetail } from "../../../src/server/sign-in.ts";

export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<Record<string, string | undefined>> };

export default async function SignInErrorPage({ searchParams }: Props) {
  const { reason, detail } = await searchParams;
  // Only a sentence the registry wrote and this dashboard sealed; anything else is ignored.
  const registrySays = unsealDetail(await getSettings(), detail);
  return (
    <main className="narrow">
      <div className="card">
        <h1>Sign-in failed</h1>
        <div className="alert error" role="alert">
          {failureMessage(reason ?? "provider_error")}
        </div>
        {registrySays ? <p className="detail">{registrySays}</p> : null}
        <a className="button" href="/login">
          Back to sign-in
        </a>
      </div>
    </main>
  );
}
