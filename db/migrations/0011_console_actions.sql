CREATE TABLE "console_actions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"remote_address" text,
	"action" text NOT NULL,
	"target" text,
	"params" jsonb NOT NULL,
	"outcome" text NOT NULL,
	"message" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "console_actions_at_idx" ON "console_actions" USING btree ("at");--> statement-breakpoint
-- The web console pushes changes to its pages (Server-Sent Events) when these tables change: one
-- NOTIFY per statement (not per row), payload the table's name; Postgres folds repeats within a transaction.
CREATE FUNCTION "kestrel_console_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('kestrel_console', TG_TABLE_NAME);
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "positions_console_notify" AFTER INSERT OR UPDATE OR DELETE ON "positions" FOR EACH STATEMENT EXECUTE FUNCTION "kestrel_console_notify"();
--> statement-breakpoint
CREATE TRIGGER "orders_console_notify" AFTER INSERT OR UPDATE OR DELETE ON "orders" FOR EACH STATEMENT EXECUTE FUNCTION "kestrel_console_notify"();
--> statement-breakpoint
CREATE TRIGGER "fills_console_notify" AFTER INSERT OR UPDATE OR DELETE ON "fills" FOR EACH STATEMENT EXECUTE FUNCTION "kestrel_console_notify"();
--> statement-breakpoint
CREATE TRIGGER "exit_attempts_console_notify" AFTER INSERT OR UPDATE OR DELETE ON "exit_attempts" FOR EACH STATEMENT EXECUTE FUNCTION "kestrel_console_notify"();
--> statement-breakpoint
CREATE TRIGGER "position_exits_console_notify" AFTER INSERT OR UPDATE OR DELETE ON "position_exits" FOR EACH STATEMENT EXECUTE FUNCTION "kestrel_console_notify"();
--> statement-breakpoint
CREATE TRIGGER "risk_state_console_notify" AFTER INSERT OR UPDATE OR DELETE ON "risk_state" FOR EACH STATEMENT EXECUTE FUNCTION "kestrel_console_notify"();
--> statement-breakpoint
CREATE TRIGGER "strategy_runs_console_notify" AFTER INSERT OR UPDATE OR DELETE ON "strategy_runs" FOR EACH STATEMENT EXECUTE FUNCTION "kestrel_console_notify"();
--> statement-breakpoint
CREATE TRIGGER "console_actions_console_notify" AFTER INSERT ON "console_actions" FOR EACH STATEMENT EXECUTE FUNCTION "kestrel_console_notify"();
