import { eq } from "drizzle-orm";
import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import { requirePrincipal } from "../auth/principal.ts";
import type { Role } from "../auth/roles.ts";
import type { ServiceContext } from "../context.ts";
import { users } from "../db/schema/index.ts";
import { describeIssues, PackrError } from "../errors.ts";
import { emitEvent } from "../events/emit-event.ts";
import { checkPassword } from "../users/login.ts";
import { type NpmToken, toNpmToken } from "./list-npm-tokens.ts";
import { resolveTokenTtl } from "./token-expiry.ts";
import { assertGrantable, normalizeTokenScopes } from "./token-rules.ts";

const Permission = z.enum(["read-only", "read-write", "no-access"]);

/** npm 11's granular body and npm 10's `{password, readonly}` (protocol §3.9). */
const NpmCreateTokenBody = z.object({
  name: z.string().max(100).nullish(),
  password: z.string().max(1024).nullish(),
  description: z.string().max(1000).nullish(),
  packages: z.array(z.string().max(214)).max(100).nullish(),
  packages_all: z.boolean().nullish(),
  scopes: z.array(z.string().max(215)).max(50).nullish(),
  orgs: z.array(z.string().max(215)).max(50).nullish(),
  packages_and_scopes_permission: Permission.nullish(),
  orgs_permission: Permission.nullish(),
  expires: z.number().nullish(),
  cidr_whitelist: z.array(z.string()).nullish(),
  bypass_2fa: z.boolean().nullish(),
  readonly: z.boolean().nullish(),
});

/**
 * How npm's token request becomes a Packr token. Packr tokens have one role and an optional list of
 * scopes they may publish to (reads are never narrowed by scope):
 * - `packages_and_scopes_permission` / `orgs_permission` `read-write` → `ci-publish`, `read-only`
 *   (or npm 10's `readonly: true`) → `ci-readonly`; neither given → `ci-publish`.
 * - `scopes` and `orgs` (an org is the scope it owns) become the scope restriction; with both
 *   given, only those whose permission is read-write are publish scopes, and with none of them
 *   read-write the token is `ci-readonly`. `packages_all` or nothing given: no restriction.
 * - `no-access` for everything named, `packages` (per-package restriction) and `cidr_whitelist`
 *   are refused: Packr cannot enforce them, and a restriction must never be silently dropped.
 * - `expires` is in days (npm's unit); its range is checked with the others' by resolveTokenTtl.
 * - `bypass_2fa` and `description` have no Packr meaning.
 */
export function mapNpmTokenRequest(body: z.infer<typeof NpmCreateTokenBody>): {
  role: Role;
  scopes: string[];
  days: number | null;
  name: string;
} {
  if (body.cidr_whitelist && body.cidr_whitelist.length > 0) {
    throw new PackrError(
      "VALIDATION",
      "This registry cannot restrict tokens by IP address (--cidr); create the token without it.",
    );
  }
  if (body.packages && body.packages.length > 0) {
    throw new PackrError(
      "VALIDATION",
      "This registry restricts tokens by scope, not by package: use --scopes @yourscope (or --packages-all).",
    );
  }
  const scopeList = normalizeTokenScopes(body.scopes ?? []);
  const orgList = normalizeTokenScopes(body.orgs ?? []);
  const scopePerm = body.packages_and_scopes_permission ?? null;
  const orgPerm = body.orgs_permission ?? null;
  const named = [
    ...(scopeList.length > 0 || scopePerm ? [{ list: scopeList, perm: scopePerm }] : []),
    ...(orgList.length > 0 || orgPerm ? [{ list: orgList, perm: orgPerm }] : []),
  ];
  if (named.length > 0 && named.every((n) => n.perm === "no-access")) {
    throw new PackrError(
      "VALIDATION",
      "A token with no access to anything would be useless; choose read-only or read-write.",
    );
  }
  const legacyReadonly = body.readonly === true;
  const writes = named.filter(
    (n) => (n.perm ?? (legacyReadonly ? "read-only" : "read-write")) === "read-write",
  );
  const restricted = named.some((n) => n.list.length > 0) && body.packages_all !== true;
  let role: Role;
  let scopes: string[];
  if (named.length === 0) {
    role = legacyReadonly ? "ci-readonly" : "ci-publish";
    scopes = [];
  } else if (writes.length === 0) {
    role = "ci-readonly";
    scopes = restricted ? [...new Set(named.flatMap((n) => n.list))] : [];
  } else {
    role = "ci-publish";
    scopes = restricted ? [...new Set(writes.flatMap((n) => n.list))] : [];
    if (restricted && scopes.length === 0) {
      // read-write was chosen without naming scopes for it while others were named read-only:
      // publishing everywhere would be wider than what was asked.
      throw new PackrError(
        "VALIDATION",
        "Name the scopes the read-write permission applies to (--scopes or --orgs).",
      );
    }
  }
  return {
    role,
    scopes,
    days: body.expires ?? null,
    name: body.name?.trim() || "npm token create",
  };
}

/**
 * `npm token create`. The password npm prompts for is checked for users who have one (a second
 * proof besides the bearer token); accounts that only sign in through the dashboard have none,
 * and their token alone is the proof. The token created obeys assertGrantable like any other and
 * is of kind `ci`. Audited as `token.created`.
 */
export async function createNpmToken(args: {
  ctx: ServiceContext;
  input: { body: unknown };
}): Promise<NpmToken & { token: string }> {
  const { ctx } = args;
  const principal = requirePrincipal(ctx.actor, "create a token");
  const parsed = NpmCreateTokenBody.safeParse(args.input.body ?? {});
  if (!parsed.success) {
    throw new PackrError("VALIDATION", `Invalid token request: ${describeIssues(parsed.error)}`);
  }
  const wanted = mapNpmTokenRequest(parsed.data);
  const ttlMs = resolveTokenTtl(ctx.deps.identity.tokenTtl, {
    days: wanted.days,
    field: "--expires",
  });
  assertGrantable(principal, wanted.role, wanted.scopes);
  const [user] = await ctx.deps.db
    .select({ name: users.name, passwordHash: users.passwordHash })
    .from(users)
    .where(eq(users.id, principal.userId));
  if (user?.passwordHash) {
    // The same check and limits as login: a stolen token must not become a password oracle.
    try {
      await checkPassword(ctx, user.name, parsed.data.password ?? "");
    } catch (err) {
      if (err instanceof PackrError && err.code === "UNAUTHORIZED") {
        throw new PackrError("UNAUTHORIZED", "Incorrect password; npm token create needs yours.");
      }
      throw err;
    }
  }
  return ctx.deps.db.transaction(async (tx) => {
    const issued = await ctx.deps.tokens.issue(tx, {
      kind: "ci",
      name: wanted.name,
      userId: principal.userId,
      role: wanted.role,
      scopes: wanted.scopes,
      createdBy: principal.userId,
      ttlSeconds: ttlMs / 1000,
    });
    await emitAudit(tx, ctx, {
      action: "token.created",
      targetType: "token",
      targetId: issued.id,
      data: {
        kind: "ci",
        name: wanted.name,
        role: wanted.role,
        scopes: wanted.scopes,
        expiresAt: issued.expiresAt.toISOString(),
        via: "npm token create",
      },
    });
    await emitEvent(tx, ctx, {
      type: "token.created",
      userId: principal.userId,
      data: {
        token: {
          id: issued.id,
          name: wanted.name,
          kind: "ci",
          role: wanted.role,
          scopes: wanted.scopes,
          expiresAt: issued.expiresAt.toISOString(),
        },
        via: "npm token create",
      },
    });
    return {
      ...toNpmToken({
        id: issued.id,
        name: wanted.name,
        role: wanted.role,
        scopes: wanted.scopes,
        kind: "ci",
        createdAt: issued.createdAt,
        lastUsedAt: null,
        expiresAt: issued.expiresAt,
      }),
      token: issued.token,
    };
  });
}
