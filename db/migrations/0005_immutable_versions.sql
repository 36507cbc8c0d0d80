-- Versions are immutable: the database itself refuses to change or delete them (not only the code).
-- Status changes are appended to the *_status logs, which are append-only too.
CREATE OR REPLACE FUNCTION kestrel_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable: % refused (create a new version instead)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER strategy_versions_immutable BEFORE UPDATE OR DELETE ON strategy_versions FOR EACH ROW EXECUTE FUNCTION kestrel_refuse_change();
--> statement-breakpoint
CREATE TRIGGER model_versions_immutable BEFORE UPDATE OR DELETE ON model_versions FOR EACH ROW EXECUTE FUNCTION kestrel_refuse_change();
--> statement-breakpoint
CREATE TRIGGER strategy_version_status_append_only BEFORE UPDATE OR DELETE ON strategy_version_status FOR EACH ROW EXECUTE FUNCTION kestrel_refuse_change();
--> statement-breakpoint
CREATE TRIGGER model_version_status_append_only BEFORE UPDATE OR DELETE ON model_version_status FOR EACH ROW EXECUTE FUNCTION kestrel_refuse_change();
