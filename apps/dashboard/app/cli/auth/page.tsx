import { redirect } from "next/navigation";
import { callRegistry } from "../../../src/server/registry.ts";
import { currentUser } from "../../../src/server/session.ts";
import { decideDevice } from "./actions.ts";

export const dynamic = "force-dynamic";

type Device = {
  userCode: string;
  status: "pending" | "approved" | "denied" | "expired";
  client: string | null;
  provider: string | null;
  expiresAt: string;
};

type Props = { searchParams: Promise<Record<string, string | undefined>> };

/** Codes are typed by people: ignore case, spaces and a missing dash ("abcd efgh" → "ABCD-EFGH"). */
function normalizeCode(raw: string | undefined): string | null {
  if (!raw) return null;
  const compact = raw.toUpperCase().replace(/[^A-Z0-9]/g, "");
  if (compact.length !== 8) return compact.length === 0 ? null : compact;
  return `${compact.slice(0, 4)}-${compact.slice(4)}`;
}

const CLIENT_NAMES: Record<string, string> = { npm: "npm login", "packr-cli": "packr CLI" };

export default async function CliAuthPage({ searchParams }: Props) {
  const q = await searchParams;
  const code = normalizeCode(q.code);
  if (!code) {
    return (
      <main className="narrow">
        <div className="card">
          <h1>Connect a terminal</h1>
          <p className="muted">Enter the code your terminal shows.</p>
          <form method="get" action="/cli/auth">
            <label htmlFor="code">Code</label>
            <input
              id="code"
              name="code"
              placeholder="ABCD-EFGH"
              autoComplete="off"
              autoCapitalize="characters"
              required
            />
            <div className="actions">
              <button type="submit">Continue</button>
            </div>
          </form>
        </div>
      </main>
    );
  }
  const here = `/cli/auth?code=${encodeURIComponent(code)}`;
  const signedIn = await currentUser();
  if (!signedIn) redirect(`/login?next=${encodeURIComponent(here)}`);
  const device = await callRegistry<Device>(`/api/v1/admin/device/${encodeURIComponent(code)}`, {
    session: signedIn.session,
  });
  if (!device.ok || device.data.status === "expired") redirect("/cli/auth/done?status=invalid");
  if (device.data.status !== "pending") redirect(`/cli/auth/done?status=${device.data.status}`);
  const client = CLIENT_NAMES[device.data.client ?? ""] ?? "A command-line client";
  return (
    <main className="narrow">
      <div className="card">
        <h1>Approve this sign-in?</h1>
        <p>
          <strong>{client}</strong> asks to sign in as{" "}
          <strong>{signedIn.user.email ?? signedIn.user.name}</strong>. Check that your terminal
          shows this code:
        </p>
        <div className="code" data-testid="user-code">
          {device.data.userCode}
        </div>
        <p className="muted">Only approve it if you started this sign-in yourself just now.</p>
        <form action={decideDevice}>
          <input type="hidden" name="userCode" value={device.data.userCode} />
          <div className="actions">
            <button type="submit" name="decision" value="approve">
              Approve
            </button>
            <button className="secondary" type="submit" name="decision" value="deny">
              Deny
            </button>
          </div>
        </form>
      </div>
    </main>
  );
}
