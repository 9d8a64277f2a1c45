import { eq } from "drizzle-orm";
import type { Deps } from "../context.ts";
import type { Queryable } from "../db/client.ts";
import { tokens } from "../db/schema/index.ts";
import type { CommittedEvent, EventActor } from "../events/emit-event.ts";
import { liveDistTags } from "../packages/dist-tag-rules.ts";
import { tarballUrl } from "../packages/packument.ts";
import type { PackageSubject } from "./hook-reach.ts";

/**
 * The one JSON body every receiver of an event gets (and every retry re-sends, byte for byte):
 *
 * - `id`: the event's id, the same for every hook it reaches (deliveries have their own id, in
 *   `X-Packr-Delivery` / `webhook-id`).
 * - `actor`: `{type: "user" | "token" | "system", name, token?}` — the person's name, and for a
 *   token the token's name; never a secret, never a JWT.
 * - `registry`: the registry's public URL.
 * - `package`: for package events, `{name, version, distTags, tarball}` — the version the event is
 *   about (null when it is about several or none), the package's dist-tags at fan-out, and that
 *   version's tarball URL.
 * - `org`: `{slug}` for org events and packages of an org.
 * - `target`: what a token or org event is about (`{type: "token", id, name, kind}`, `{type:
 *   "user", name}`); `data`: the event's details.
 */
export type EventPayload = {
  id: string;
  type: string;
  createdAt: string;
  actor: { type: "user" | "token" | "system"; name: string | null; token?: string };
  registry: string;
  package?: {
    name: string;
    version: string | null;
    distTags: Record<string, string>;
    tarball: string | null;
  };
  org?: { slug: string };
  target?: Record<string, unknown>;
  data: Record<string, unknown>;
};

async function payloadActor(db: Queryable, actor: EventActor): Promise<EventPayload["actor"]> {
  if (actor.type === "token") {
    const [t] = await db
      .select({ name: tokens.name })
      .from(tokens)
      .where(eq(tokens.id, actor.tokenId))
      .limit(1);
    return { type: "token", name: actor.name, ...(t ? { token: t.name } : {}) };
  }
  if (actor.type === "user") return { type: "user", name: actor.name };
  if (actor.type === "system") return { type: "system", name: actor.name };
  return { type: "system", name: null };
}

/** Keys the token events' data may carry to receivers: a description of the token, no secret. */
const TOKEN_FIELDS = ["id", "name", "kind", "role", "scopes", "expiresAt"] as const;

/** Build the body of a committed event (at fan-out, once for every hook it reaches). */
export async function buildEventPayload(
  deps: Pick<Deps, "db" | "publicUrl">,
  event: CommittedEvent,
  about: { pkg: PackageSubject | null; orgSlug: string | null },
): Promise<EventPayload> {
  const registry = deps.publicUrl();
  const payload: EventPayload = {
    id: event.id,
    type: event.type,
    createdAt: event.occurredAt,
    actor: await payloadActor(deps.db, event.actor),
    registry,
    data: event.data,
  };
  if (about.pkg) {
    const name = about.pkg.name;
    const scope = about.pkg.scope;
    const basename = name.split("/").pop() ?? name;
    payload.package = {
      name,
      version: event.version,
      distTags: await liveDistTags(deps.db, about.pkg.id),
      tarball: event.version
        ? tarballUrl(registry, { name, scope, basename }, event.version)
        : null,
    };
  }
  if (about.orgSlug) payload.org = { slug: about.orgSlug };
  if (event.type.startsWith("token.")) {
    const token = (event.data.token ?? {}) as Record<string, unknown>;
    // Only the described fields, whatever a caller put in data: a token event never carries a secret.
    payload.target = {
      type: "token",
      ...Object.fromEntries(TOKEN_FIELDS.filter((k) => k in token).map((k) => [k, token[k]])),
    };
    payload.data = Object.fromEntries(
      Object.entries(event.data).filter(([k]) => k !== "token" && k !== "secret"),
    );
  } else if (typeof event.data.user === "string") {
    payload.target = { type: "user", name: event.data.user };
  }
  return payload;
}
