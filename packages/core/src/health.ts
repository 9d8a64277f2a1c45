import { sql } from "drizzle-orm";
import type { Deps } from "./context.ts";

export type Health = {
  status: "ok" | "degraded";
  database: "ok" | "error";
  storage: "ok" | "error";
};

/** Probe what a request needs: the database answers and the blob store is reachable. */
export async function checkHealth(deps: Pick<Deps, "db" | "blobStore">): Promise<Health> {
  const [database, storage] = await Promise.all([
    deps.db.execute(sql`select 1`).then(
      () => "ok" as const,
      () => "error" as const,
    ),
    deps.blobStore.check().then(
      () => "ok" as const,
      () => "error" as const,
    ),
  ]);
  return { status: database === "ok" && storage === "ok" ? "ok" : "degraded", database, storage };
}
