CREATE TABLE "uplink_analyses" (
	"name" text NOT NULL,
	"version" text NOT NULL,
	"signals" json,
	"typed" json,
	"error" text,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"analyzed_at" timestamp with time zone,
	CONSTRAINT "uplink_analyses_name_version_pk" PRIMARY KEY("name","version")
);
