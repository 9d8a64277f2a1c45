import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.ts";
import * as schema from "./schema/index.ts";

export type Schema = typeof schema;

/** The driver-agnostic database every core function takes: PGlite and postgres-js share it. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Either the database or an open transaction: query helpers accept both. */
export type Queryable = Database | Tx;

export type DatabaseHandle = {
  db: Database;
  driver: "pglite" | "postgres";
  /**
   * Subscribe to a NOTIFY channel. `onListening` runs each time the subscription is (re)established:
   * anything cached from notifications must be dropped then, since some may have been missed.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onListening: () => void,
  ): Promise<void>;
  close(): Promise<void>;
};

const MIGRATIONS = fileURLToPath(new URL("../../drizzle", import.meta.url));
/** Any constant works; it only has to be the same for every Packr instance. */
const MIGRATION_LOCK_KEY = 7_346_271_001;

export type DatabaseOptions =
  | { driver: "postgres"; url: string; maxConnections?: number }
  /** `dataDir` undefined keeps the database in memory (tests). */
  | { driver: "pglite"; dataDir: string | undefined };

/** Open the database and bring its schema up to date; safe to call from many instances at once. */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.driver === "postgres") {
    await migratePostgresLocked(options.url);
    const client = postgres(options.url, {
      max: options.maxConnections ?? 10,
      onnotice: () => {},
    });
    const db = drizzlePostgres(client, { schema }) as unknown as Database;
    return {
      db,
      driver: "postgres",
      async listen(channel, onNotify, onListening) {
        // postgres-js keeps a dedicated connection for LISTEN and re-subscribes after it drops,
        // calling onlisten every time.
        await client.listen(channel, onNotify, onListening);
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  if (options.dataDir) await mkdir(path.dirname(options.dataDir), { recursive: true });
  // Refuse a second process on this data dir before PGlite opens (and could damage) it.
  const lock = options.dataDir ? await lockDataDir(options.dataDir) : undefined;
  try {
    return await openPglite(options.dataDir, lock);
  } catch (err) {
    await lock?.release();
    throw err;
  }
}

async function openPglite(
  dataDir: string | undefined,
  lock: DataDirLock | undefined,
): Promise<DatabaseHandle> {
  // pg_trgm (trigram matching for npm search) ships with PGlite as a loadable extension; the
  // migration's CREATE EXTENSION needs it loaded first. PostgreSQL has it in its contrib package.
  // (Only PGlite.create loads extensions here; `new PGlite(dir, { extensions })` did not.)
  const client = await PGlite.create({ dataDir, extensions: { pg_trgm } });
  const pdb = drizzlePglite(client, { schema });
  await migratePglite(pdb, { migrationsFolder: MIGRATIONS });
  return {
    db: pdb as unknown as Database,
    driver: "pglite",
    async listen(channel, onNotify, onListening) {
      await client.listen(channel, onNotify);
      onListening();
    },
    async close() {
      await client.close();
      await lock?.release();
    },
  };
}

async function migratePostgresLocked(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(drizzlePostgres(client), { migrationsFolder: MIGRATIONS });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}
