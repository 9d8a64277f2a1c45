CREATE TABLE "version_analyses" (
	"package_id" text NOT NULL,
	"version" text NOT NULL,
	"signals" json NOT NULL,
	"capabilities" text[] NOT NULL,
	"terms" text[] NOT NULL,
	"dependency_names" text[] NOT NULL,
	"analyzed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "version_analyses_package_id_version_pk" PRIMARY KEY("package_id","version")
);
--> statement-breakpoint
ALTER TABLE "version_analyses" ADD CONSTRAINT "version_analyses_package_id_packages_id_fk" FOREIGN KEY ("package_id") REFERENCES "public"."packages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "version_analyses_capabilities_idx" ON "version_analyses" USING gin ("capabilities");--> statement-breakpoint
CREATE INDEX "version_analyses_terms_idx" ON "version_analyses" USING gin ("terms");--> statement-breakpoint
CREATE INDEX "version_analyses_dependency_names_idx" ON "version_analyses" USING gin ("dependency_names");