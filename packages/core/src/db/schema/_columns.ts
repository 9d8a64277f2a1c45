import { customType, timestamp } from "drizzle-orm/pg-core";

/** created_at / updated_at, both timezone-aware and defaulted by the database. */
export const timestamps = () => ({
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

export const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * Raw bytes. postgres-js hands back a Buffer and PGlite a Uint8Array; both are Uint8Arrays,
 * which is all callers rely on.
 */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
});

/** A full-text search document; written only by SQL (`to_tsvector`), read only by SQL (`@@`). */
export const tsvector = customType<{ data: string; driverData: string }>({
  dataType: () => "tsvector",
});
