-- Custom migration: drizzle-kit cannot express extensions or operator-class indexes.
-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. PGlite loads
-- it from @electric-sql/pglite/contrib/pg_trgm (packages/core/src/db/client.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
-- Prefix and typo-tolerant name matching for npm search (similarity / word_similarity).
CREATE INDEX IF NOT EXISTS "package_search_name_trgm_idx" ON "package_search" USING gin ("name" gin_trgm_ops);
