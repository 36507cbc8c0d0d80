CREATE TABLE "signal_configs" (
	"hash" text PRIMARY KEY NOT NULL,
	"config" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signal_outcomes" (
	"signal_id" bigint NOT NULL,
	"horizon_ms" integer NOT NULL,
	"due_at" timestamp (3) with time zone NOT NULL,
	"resolved_at" timestamp (3) with time zone,
	"price_after" numeric(12, 5),
	"move" numeric(12, 5),
	"correct" boolean,
	"resolved_by" text,
	CONSTRAINT "signal_outcomes_signal_id_horizon_ms_pk" PRIMARY KEY("signal_id","horizon_ms")
);
--> statement-breakpoint
CREATE TABLE "signals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"signal_key" text NOT NULL,
	"type" text NOT NULL,
	"market_ticker" text NOT NULL,
	"markets" text[] NOT NULL,
	"category" text NOT NULL,
	"direction" text,
	"strength" double precision NOT NULL,
	"confidence" double precision NOT NULL,
	"priority" text NOT NULL,
	"fired_at" timestamp (3) with time zone NOT NULL,
	"mid_at_fire" numeric(12, 5),
	"inputs" jsonb NOT NULL,
	"config_hash" text NOT NULL,
	"actionable" boolean DEFAULT false NOT NULL,
	"source" text NOT NULL,
	"detected_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "signals_signal_key_unique" UNIQUE("signal_key")
);
--> statement-breakpoint
CREATE TABLE "strategy_runs" (
	"workflow_id" text PRIMARY KEY NOT NULL,
	"strategy_version_id" bigint NOT NULL,
	"venue" text NOT NULL,
	"feed" text NOT NULL,
	"signal_types" text[] NOT NULL,
	"categories" text[] NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"stopped_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "signal_outcomes" ADD CONSTRAINT "signal_outcomes_signal_id_signals_id_fk" FOREIGN KEY ("signal_id") REFERENCES "public"."signals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "signals" ADD CONSTRAINT "signals_config_hash_signal_configs_hash_fk" FOREIGN KEY ("config_hash") REFERENCES "public"."signal_configs"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "signal_outcomes_pending_idx" ON "signal_outcomes" USING btree ("due_at") WHERE "signal_outcomes"."resolved_at" is null;--> statement-breakpoint
CREATE INDEX "signals_fired_idx" ON "signals" USING btree ("fired_at");--> statement-breakpoint
CREATE INDEX "signals_market_idx" ON "signals" USING btree ("market_ticker","fired_at");--> statement-breakpoint
CREATE INDEX "strategy_runs_status_idx" ON "strategy_runs" USING btree ("status");