"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { getSettings } from "../../src/server/config.ts";
import { callRegistry } from "../../src/server/registry.ts";
import { requireUser } from "../../src/server/session.ts";

export type CreateTokenState =
  | { kind: "idle" }
  | { kind: "created"; name: string; role: string; token: string; npmrc: string }
  | { kind: "error"; message: string };

const CreateTokenForm = z.object({
  name: z.string().trim().min(1, "Give the token a name.").max(100),
  role: z.enum(["ci-readonly", "ci-publish", "maintainer", "admin"]),
  scopes: z.string().max(2000),
  /** A duration from the form's choices (`15m`, `30d`); the registry checks its range. */
  expiresIn: z.string().max(20),
  kind: z.enum(["ci", "personal"]),
});

/**
 * Create a token through the registry (which decides what the caller may hand out). The secret is
 * returned to this one render only, never stored or put in a URL.
 */
export async function createToken(
  _prev: CreateTokenState,
  formData: FormData,
): Promise<CreateTokenState> {
  const { session } = await requireUser("/tokens");
  const parsed = CreateTokenForm.safeParse(Object.fromEntries(formData));
  if (!parsed.success) {
    return { kind: "error", message: parsed.error.issues[0]?.message ?? "Check the form." };
  }
  const f = parsed.data;
  const scopes = f.scopes
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const res = await callRegistry<{ token: string; name: string; role: string }>(
    "/api/v1/admin/tokens",
    {
      method: "POST",
      session,
      body: {
        name: f.name,
        role: f.role,
        kind: f.kind,
        ...(scopes.length > 0 ? { scopes } : {}),
        ...(f.expiresIn === "" ? {} : { expiresIn: f.expiresIn }),
      },
    },
  );
  if (!res.ok) return { kind: "error", message: res.message };
  const { registryUrl } = await getSettings();
  const host = registryUrl.replace(/^https?:/, "");
  revalidatePath("/tokens");
  return {
    kind: "created",
    name: res.data.name,
    role: res.data.role,
    token: res.data.token,
    npmrc: `${host}/:_authToken=${res.data.token}`,
  };
}

export async function revokeToken(formData: FormData): Promise<void> {
  const { session } = await requireUser("/tokens");
  const id = String(formData.get("id") ?? "");
  await callRegistry(`/api/v1/admin/tokens/${encodeURIComponent(id)}`, {
    method: "DELETE",
    session,
  });
  revalidatePath("/tokens");
}
