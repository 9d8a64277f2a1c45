type Props = { searchParams: Promise<Record<string, string | undefined>> };

const OUTCOMES: Record<string, { title: string; text: string; ok: boolean }> = {
  approved: {
    title: "You are signed in",
    text: "Your terminal now has its token. You can close this window and return to it.",
    ok: true,
  },
  denied: {
    title: "Sign-in denied",
    text: "The terminal was refused and got no token. If that was a mistake, start the login there again.",
    ok: false,
  },
  invalid: {
    title: "Code not valid",
    text: "This code is wrong, expired or already used. Start the login in your terminal again for a new one.",
    ok: false,
  },
};

export default async function CliAuthDonePage({ searchParams }: Props) {
  const { status } = await searchParams;
  const outcome = OUTCOMES[status ?? ""] ?? OUTCOMES.invalid;
  if (!outcome) return null;
  return (
    <main className="narrow">
      <div className="card">
        <h1>{outcome.title}</h1>
        <div className={`alert ${outcome.ok ? "ok" : "error"}`} role="status">
          {outcome.text}
        </div>
        {outcome.ok ? null : <a href="/cli/auth">Enter another code</a>}
      </div>
    </main>
  );
}
