import type { Actor } from "../context.ts";
import { PackrError } from "../errors.ts";

/**
 * PACKR_READ_REQUIRES_AUTH, "private by login": a registry that answers nothing to a stranger.
 * Any identified caller passes (a valid token of any role, a dashboard session, the system); an
 * anonymous one is refused with 401. A presented credential that was refused (revoked, expired,
 * forged, malformed) is refused with its own reason, exactly like no credential at all.
 *
 * This decides only whether the caller may use the registry at all; what they may read then is
 * still `assertCanRead`'s business (restricted packages and so on), so a token's role and scopes
 * mean the same with the setting on or off.
 *
 * Returns the refusal rather than throwing it, because the registry asks on every request and
 * answers the refusal itself (one branch on the hot path, no exception).
 */
export function readPolicyRefusal(
  actor: Actor,
  policy: { readRequiresAuth: boolean; registryUrl: string },
): PackrError | undefined {
  if (!policy.readRequiresAuth || actor.type !== "anonymous") return undefined;
  if (actor.authError) return actor.authError;
  const host = hostOf(policy.registryUrl);
  return new PackrError(
    "UNAUTHORIZED",
    `This registry is private: log in to use it. Run npm login --registry=${policy.registryUrl}/ or put a token in .npmrc (//${host}/:_authToken=<token>); yarn also needs npmAlwaysAuth: true.`,
  );
}

/** `readPolicyRefusal` for callers that throw: core verbs and route middleware. */
export function assertReadAllowed(
  actor: Actor,
  policy: { readRequiresAuth: boolean; registryUrl: string },
): void {
  const refusal = readPolicyRefusal(actor, policy);
  if (refusal) throw refusal;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "<registry host>";
  }
}
