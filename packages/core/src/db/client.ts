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
   * Subscribe to a NOTIFY channel. Resolves once subscribed (the first time).
   */
  listen(channel: string, handlers: ListenHandlers): Promise<void>;
  close(): Promise<void>;
};

export type ListenHandlers = {
  onNotify(payload: string): void;
  /**
   * The subscription is (re)established: anything cached from notifications must be dropped now,
   * since some may have been missed while it was down.
   */
  onListening(): void;
  /** The subscription is down: notifications are not arriving, so stop trusting caches built on them. */
  onLost?(): void;
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
    const listeners: Listener[] = [];
    return {
      db,
      driver: "postgres",
      async listen(channel, handlers) {
        const listener = new Listener(options.url, channel, handlers);
        listeners.push(listener);
        await listener.start();
      },
      close: async () => {
        await Promise.all(listeners.map((l) => l.stop()));
        await client.end({ timeout: 5 });
      },
    };
  }
  if (options.dataDir) await mkdir(path.dirname(options.dataDir), { recursive: true });
  // pg_trgm (trigram matching for npm search) ships with PGlite as a loadable extension; the
  // migration's CREATE EXTENSION needs it loaded first. PostgreSQL has it in its contrib package.
  // (Only PGlite.create loads extensions here; `new PGlite(dir, { extensions })` did not.)
  const client = await PGlite.create({ dataDir: options.dataDir, extensions: { pg_trgm } });
  const pdb = drizzlePglite(client, { schema });
  await migratePglite(pdb, { migrationsFolder: MIGRATIONS });
  return {
    db: pdb as unknown as Database,
    driver: "pglite",
    async listen(channel, handlers) {
      // In-process: notifications cannot be lost, so the subscription never drops.
      await client.listen(channel, handlers.onNotify);
      handlers.onListening();
    },
    close: () => client.close(),
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

/**
 * One LISTEN on its own connection, kept up for the life of the process. postgres-js's own
 * `listen` re-subscribes once after a drop and, if that attempt fails, never again and without a
 * word, leaving caches trusting notifications that no longer come. Here a drop is reported at once
 * (`onLost`), and the subscription is retried with backoff (100 ms doubling to 5 s) until it is
 * back (`onListening`).
 */
class Listener {
  private sql: postgres.Sql | undefined;
  private stopped = false;
  private retryMs = 100;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly handlers: ListenHandlers,
  ) {}

  /** Subscribe; the first attempt's failure is the caller's (a start with no database fails). */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.sql?.end({ timeout: 1 }).catch(() => {});
  }

  private async connect(): Promise<void> {
    const options = {
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: "packr-listen" },
      // Both are postgres-js options its types leave out (its own `listen` is built on them).
      onnotify: (channel: string, payload: string) => {
        if (channel === this.channel) this.handlers.onNotify(payload);
      },
      onclose: (): void => this.dropped(sql),
    };
    const sql: postgres.Sql = postgres(
      this.url,
      options as postgres.Options<Record<string, never>>,
    );
    this.sql = sql;
    await sql`listen ${sql(this.channel)}`;
    if (this.sql !== sql) return;
    this.retryMs = 100;
    this.handlers.onListening();
  }

  private dropped(sql: postgres.Sql): void {
    if (this.stopped || this.sql !== sql) return;
    this.sql = undefined;
    this.handlers.onLost?.();
    void sql.end({ timeout: 0 }).catch(() => {});
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 5_000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.stopped) return;
      this.connect().catch(() => {
        const failed = this.sql;
        this.sql = undefined;
        void failed?.end({ timeout: 0 }).catch(() => {});
        this.scheduleRetry();
      });
    }, delay);
    this.retry.unref();
  }
}
