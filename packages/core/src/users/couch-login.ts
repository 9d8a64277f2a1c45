import { z } from "zod";
import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";
import {
  couchRev,
  findUserByName,
  type LoginResult,
  loginWithPassword,
  signUpWithPassword,
} from "./login.ts";

const CouchUserBody = z.object({
  name: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  email: z.string().max(320).optional(),
});

/**
 * npm's legacy login (`PUT /-/user/org.couchdb.user:<name>[/-rev/<rev>]`), with CouchDB's
 * semantics so npm and yarn walk their documented paths (protocol §4.1, §4.3):
 * - unknown user → sign-up, when the sign-up policy allows it (only `open` does: a typed-in
 *   email proves nothing for an allow-list);
 * - existing user, no revision → 409, unless the request already carries the user's Basic
 *   credentials (pnpm 12 sends them up front); npm and yarn then fetch the user document and
 *   retry with `/-rev/<rev>` and Basic auth;
 * - with a revision → the Basic credentials (or the body's password) must match.
 */
export async function couchLogin(args: {
  ctx: ServiceContext;
  input: {
    urlName: string;
    body: unknown;
    rev: string | undefined;
    basic: { name: string; password: string } | undefined;
  };
}): Promise<LoginResult> {
  const { ctx, input } = args;
  const parsed = CouchUserBody.safeParse(input.body);
  if (!parsed.success) {
    throw new PackrError("VALIDATION", "A login body needs a name and a password.");
  }
  const body = parsed.data;
  if (body.name !== input.urlName) {
    throw new PackrError(
      "VALIDATION",
      `The user in the URL (${input.urlName}) does not match the body (${body.name}).`,
    );
  }
  const user = await findUserByName(ctx, body.name);
  if (!user) {
    if (input.rev !== undefined)
      throw new PackrError("UNAUTHORIZED", "Incorrect username or password.");
    return signUpWithPassword({
      ctx,
      input: {
        name: body.name,
        password: body.password,
        email: body.email,
      },
    });
  }
  const basicMatches = input.basic?.name === body.name;
  if (input.rev === undefined && !basicMatches) {
    // npm and yarn answer this by fetching the user document and retrying with Basic auth.
    throw new PackrError(
      "CONFLICT",
      `User ${body.name} already exists; sign in with its password.`,
    );
  }
  if (input.rev !== undefined && input.rev !== couchRev(user)) {
    throw new PackrError("CONFLICT", `The user document of ${body.name} changed; log in again.`);
  }
  const password = basicMatches && input.basic ? input.basic.password : body.password;
  return loginWithPassword({ ctx, input: { name: body.name, password, tokenName: "npm login" } });
}
