"use client";

import { useActionState, useState } from "react";
import { type CreateTokenState, createToken } from "./actions.ts";
import type { ExpiryChoice } from "./expiry-choices.ts";

const ROLES = [
  { id: "ci-readonly", label: "ci-readonly — install only" },
  { id: "ci-publish", label: "ci-publish — install and publish" },
  { id: "maintainer", label: "maintainer — also unpublish, tags" },
  { id: "admin", label: "admin — everything" },
];

export function CreateTokenForm({
  expiry,
}: {
  expiry: { choices: ExpiryChoice[]; selected: string };
}) {
  const [state, action, pending] = useActionState<CreateTokenState, FormData>(createToken, {
    kind: "idle",
  });
  return (
    <div className="card">
      <h2>Create a token</h2>
      {state.kind === "error" ? (
        <div className="alert error" role="alert">
          {state.message}
        </div>
      ) : null}
      {state.kind === "created" ? <NewToken state={state} /> : null}
      <form action={action}>
        <label htmlFor="name">Name</label>
        <input
          id="name"
          name="name"
          placeholder="github-actions-release"
          required
          maxLength={100}
        />
        <div className="row">
          <div>
            <label htmlFor="role">Role</label>
            <select id="role" name="role" defaultValue="ci-readonly">
              {ROLES.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.label}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="kind">Kind</label>
            <select id="kind" name="kind" defaultValue="ci">
              <option value="ci">CI</option>
              <option value="personal">Personal</option>
            </select>
          </div>
        </div>
        <div className="row">
          <div>
            <label htmlFor="scopes">Scopes (optional)</label>
            <input id="scopes" name="scopes" placeholder="@acme, @acme-tools" />
          </div>
          <div>
            <label htmlFor="expiresIn">Expires</label>
            <select id="expiresIn" name="expiresIn" defaultValue={expiry.selected}>
              {expiry.choices.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="actions">
          <button type="submit" disabled={pending}>
            {pending ? "Creating…" : "Create token"}
          </button>
        </div>
      </form>
    </div>
  );
}

function NewToken({ state }: { state: Extract<CreateTokenState, { kind: "created" }> }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async (what: string, text: string) => {
    await navigator.clipboard.writeText(text);
    setCopied(what);
  };
  return (
    <div className="alert ok" data-testid="new-token">
      <strong>
        Token “{state.name}” ({state.role}) created. Copy it now: it is not shown again.
      </strong>
      <pre className="secret" data-testid="token-value">
        {state.token}
      </pre>
      <button className="secondary" type="button" onClick={() => copy("token", state.token)}>
        {copied === "token" ? "Copied" : "Copy token"}
      </button>
      <p style={{ marginBottom: 0 }}>For a project's or CI job's .npmrc:</p>
      <pre className="secret" data-testid="npmrc-line">
        {state.npmrc}
      </pre>
      <button className="secondary" type="button" onClick={() => copy("npmrc", state.npmrc)}>
        {copied === "npmrc" ? "Copied" : "Copy .npmrc line"}
      </button>
    </div>
  );
}
