CREATE TABLE "reconciliation_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"venue" text NOT NULL,
	"trigger" text NOT NULL,
	"kind" text NOT NULL,
	"market" text,
	"client_order_id" text,
	"action" text NOT NULL,
	"details" jsonb NOT NULL,
	"at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "reconciliation_events_at_idx" ON "reconciliation_events" USING btree ("at");