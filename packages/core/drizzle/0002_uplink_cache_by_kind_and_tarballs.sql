-- uplink_cache was created empty by 0000 and never written: recreate it keyed by (name, kind).
DROP TABLE "uplink_cache";--> statement-breakpoint
CREATE TABLE "uplink_cache" (
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"etag" text,
	"last_modified" text,
	"body" "bytea" NOT NULL,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uplink_cache_name_kind_pk" PRIMARY KEY("name","kind")
);
--> statement-breakpoint
CREATE TABLE "uplink_tarballs" (
	"name" text NOT NULL,
	"version" text NOT NULL,
	"tarball_key" text NOT NULL,
	"size" bigint NOT NULL,
	"integrity" text NOT NULL,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uplink_tarballs_name_version_pk" PRIMARY KEY("name","version")
);
