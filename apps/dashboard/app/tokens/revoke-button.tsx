"use client";

import { useState } from "react";
import { revokeToken } from "./actions.ts";

/** Revoking is final, so it takes a second, explicit click. */
export function RevokeButton({ id, name }: { id: string; name: string }) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button className="link" type="button" onClick={() => setConfirming(true)}>
        Revoke
      </button>
    );
  }
  return (
    <form action={revokeToken} style={{ display: "flex", gap: "0.5rem", alignItems: "center" }}>
      <input type="hidden" name="id" value={id} />
      <span>Revoke “{name}”? Anything using it stops working.</span>
      <button className="danger" type="submit">
        Yes, revoke
      </button>
      <button className="secondary" type="button" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </form>
  );
}
