import { failureMessage } from "../../../src/messages.ts";

type Props = { searchParams: Promise<Record<string, string | undefined>> };

export default async function SignInErrorPage({ searchParams }: Props) {
  const { reason } = await searchParams;
  return (
    <main className="narrow">
      <div className="card">
        <h1>Sign-in failed</h1>
        <div className="alert error" role="alert">
          {failureMessage(reason ?? "provider_error")}
        </div>
        <a className="button" href="/login">
          Back to sign-in
        </a>
      </div>
    </main>
  );
}
