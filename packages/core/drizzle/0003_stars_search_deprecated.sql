CREATE TABLE "package_search" (
	"package_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"scope" text,
	"version" text NOT NULL,
	"description" text,
	"keywords" text[] NOT NULL,
	"author" text,
	"publisher" json,
	"maintainers" json NOT NULL,
	"maintainer_names" text[] NOT NULL,
	"links" json NOT NULL,
	"quality" double precision NOT NULL,
	"deprecated" text,
	"stars" integer DEFAULT 0 NOT NULL,
	"published_at" timestamp with time zone NOT NULL,
	"document" "tsvector" NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "package_stars" (
	"package_id" text NOT NULL,
	"user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "package_stars_package_id_user_id_pk" PRIMARY KEY("package_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "packages" ADD COLUMN "deprecated" text;--> statement-breakpoint
ALTER TABLE "package_search" ADD CONSTRAINT "package_search_package_id_packages_id_fk" FOREIGN KEY ("package_id") REFERENCES "public"."packages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "package_stars" ADD CONSTRAINT "package_stars_package_id_packages_id_fk" FOREIGN KEY ("package_id") REFERENCES "public"."packages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "package_stars" ADD CONSTRAINT "package_stars_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "package_search_document_idx" ON "package_search" USING gin ("document");--> statement-breakpoint
CREATE INDEX "package_stars_user_idx" ON "package_stars" USING btree ("user_id");