import { describe, expect, it } from "vitest";
import type { Actor } from "../context.ts";
import { PackrError } from "../errors.ts";
import { assertReadAllowed, readPolicyRefusal } from "./read-policy.ts";

const on = { readRequiresAuth: true, registryUrl: "https://npm.acme.dev" };
const off = { readRequiresAuth: false, registryUrl: "https://npm.acme.dev" };

const token: Actor = {
  type: "token",
  tokenId: "tok_1",
  tokenKind: "ci",
  userId: "usr_1",
  userName: "ci",
  userEmail: null,
  isAdmin: false,
  role: "ci-readonly",
  permissions: ["read"],
  scopes: [],
  orgId: null,
};
const session: Actor = {
  type: "session",
  sessionId: "ses_1",
  userId: "usr_1",
  userName: "pia",
  userEmail: null,
  isAdmin: false,
};

describe("readPolicyRefusal (PACKR_READ_REQUIRES_AUTH)", () => {
  it("refuses nobody when the setting is off", () => {
    expect(readPolicyRefusal({ type: "anonymous" }, off)).toBeUndefined();
    const revoked = new PackrError("TOKEN_REVOKED", "This token has been revoked.");
    expect(readPolicyRefusal({ type: "anonymous", authError: revoked }, off)).toBeUndefined();
  });

  it("lets every identified caller through when on: any token, a session, the system", () => {
    for (const actor of [token, session, { type: "system", reason: "dashboard" } as const]) {
      expect(readPolicyRefusal(actor, on)).toBeUndefined();
      expect(() => assertReadAllowed(actor, on)).not.toThrow();
    }
  });

  it("refuses a stranger with 401 and says how to log in to this registry", () => {
    const refusal = readPolicyRefusal({ type: "anonymous" }, on);
    expect(refusal?.code).toBe("UNAUTHORIZED");
    expect(refusal?.status).toBe(401);
    expect(refusal?.message).toContain("npm login --registry=https://npm.acme.dev/");
    expect(refusal?.message).toContain("//npm.acme.dev/:_authToken=<token>");
    expect(refusal?.message).toContain("npmAlwaysAuth: true");
    expect(() => assertReadAllowed({ type: "anonymous" }, on)).toThrow(PackrError);
  });

  it("refuses a rejected credential with its own reason (revoked, expired, forged)", () => {
    const expired = new PackrError("TOKEN_EXPIRED", "Your token expired.");
    expect(readPolicyRefusal({ type: "anonymous", authError: expired }, on)).toBe(expired);
  });
});
