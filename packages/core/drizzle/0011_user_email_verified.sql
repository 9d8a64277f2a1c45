ALTER TABLE "users" ADD COLUMN "email_verified" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
-- Accounts without a password were made by a sign-in that stored its email only when the provider
-- called it verified: keep linking them. npm adduser accounts (with a password) stay unverified;
-- the admin's PACKR_ADMIN_EMAIL is marked again at every start.
UPDATE "users" SET "email_verified" = true WHERE "email" IS NOT NULL AND "password_hash" IS NULL;
