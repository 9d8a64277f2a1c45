-- audit_events is append-only: the database refuses UPDATE, DELETE and TRUNCATE, whatever the
-- route or the SQL. The one update allowed is the chainer's: setting chain_seq, prev_hash and hash
-- once, on a row that has none yet, with every other column unchanged (audit/audit-chain.ts).
-- Plain PL/pgSQL and row/statement triggers: the same SQL runs on PGlite and PostgreSQL.
CREATE OR REPLACE FUNCTION packr_audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
   IF OLD.hash IS NULL AND OLD.prev_hash IS NULL AND OLD.chain_seq IS NULL
     AND NEW.hash IS NOT NULL AND NEW.chain_seq IS NOT NULL
     AND NEW.id = OLD.id
     AND NEW.org_id IS NOT DISTINCT FROM OLD.org_id
     AND NEW.actor_type = OLD.actor_type
     AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
     AND NEW.actor_name IS NOT DISTINCT FROM OLD.actor_name
     AND NEW.action = OLD.action
     AND NEW.target_type IS NOT DISTINCT FROM OLD.target_type
     AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
     AND NEW.data::text = OLD.data::text
     AND NEW.request_id IS NOT DISTINCT FROM OLD.request_id
     AND NEW.ip IS NOT DISTINCT FROM OLD.ip
     AND NEW.created_at = OLD.created_at
   THEN
    RETURN NEW;
   END IF;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only: % is refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_only
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION packr_audit_events_guard();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION packr_audit_events_guard();
