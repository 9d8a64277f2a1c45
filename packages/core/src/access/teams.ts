import { requireToken } from "../auth/policy.ts";
import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";

/**
 * npm access grant / revoke and team listings (`/-/team/<scope>/<team>/package`): Packr has no
 * teams yet (they arrive with orgs, issue #4). A clear 400, after the usual 401 for no token, so
 * npm prints why instead of a bare 404.
 */
export function refuseTeams(args: { ctx: ServiceContext; input: { action: string } }): never {
  requireToken(args.ctx.actor, args.input.action);
  throw new PackrError(
    "VALIDATION",
    "Teams are not available on this registry yet (npm access grant/revoke, npm team); they arrive with orgs. Package maintainers (npm owner add) have read-write access.",
  );
}
