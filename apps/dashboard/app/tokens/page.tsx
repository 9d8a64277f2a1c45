import { getSettings } from "../../src/server/config.ts";
import { callRegistry } from "../../src/server/registry.ts";
import { requireUser } from "../../src/server/session.ts";
import { CreateTokenForm } from "./create-token-form.tsx";
import { expiryChoices } from "./expiry-choices.ts";
import { RevokeButton } from "./revoke-button.tsx";

export const dynamic = "force-dynamic";

type TokenRow = {
  id: string;
  name: string;
  role: string;
  scopes: string[];
  kind: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
};

const day = (iso: string | null) => (iso ? new Date(iso).toISOString().slice(0, 10) : "—");
/** Expiry to the minute (UTC): a CI token may live 15 minutes. */
const minute = (iso: string | null) =>
  iso ? new Date(iso).toISOString().slice(0, 16).replace("T", " ").concat(" UTC") : "—";

export default async function TokensPage() {
  const { session } = await requireUser("/tokens");
  const list = await callRegistry<{ tokens: TokenRow[] }>("/api/v1/admin/tokens", { session });
  const tokens = list.ok ? list.data.tokens : [];
  const { tokenTtl } = await getSettings();
  return (
    <main>
      <h1>Tokens</h1>
      <CreateTokenForm expiry={expiryChoices(tokenTtl)} />
      <div className="card">
        <h2>Your tokens</h2>
        {list.ok ? null : (
          <div className="alert error" role="alert">
            {list.message}
          </div>
        )}
        {tokens.length === 0 ? (
          <p className="muted">No tokens yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Role</th>
                <th>Scopes</th>
                <th>Created</th>
                <th>Last used</th>
                <th>Expires</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id} data-testid={`token-row-${t.name}`}>
                  <td>
                    {t.name}
                    <div className="muted">{t.kind}</div>
                  </td>
                  <td>{t.role}</td>
                  <td>{t.scopes.length > 0 ? t.scopes.join(", ") : "all"}</td>
                  <td>{day(t.createdAt)}</td>
                  <td>{day(t.lastUsedAt)}</td>
                  <td>{minute(t.expiresAt)}</td>
                  <td>
                    {t.revokedAt ? (
                      <span className="muted">revoked {day(t.revokedAt)}</span>
                    ) : (
                      <RevokeButton id={t.id} name={t.name} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </main>
  );
}
