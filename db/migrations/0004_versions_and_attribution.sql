CREATE TABLE "model_version_status" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model_version_id" bigint NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"changed_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"version" text NOT NULL,
	"parameters" jsonb NOT NULL,
	"metrics" jsonb NOT NULL,
	"parameters_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "strategy_version_status" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"strategy_version_id" bigint NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"changed_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "strategy_versions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"strategy_name" text NOT NULL,
	"version" text NOT NULL,
	"config" jsonb NOT NULL,
	"config_hash" text NOT NULL,
	"created_by" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "market_snapshot_id" bigint;--> statement-breakpoint
ALTER TABLE "positions" ADD COLUMN "strategy_version_id" bigint;--> statement-breakpoint
ALTER TABLE "positions" ADD COLUMN "model_version_id" bigint;--> statement-breakpoint
ALTER TABLE "positions" ADD COLUMN "signal_id" text;--> statement-breakpoint
ALTER TABLE "model_version_status" ADD CONSTRAINT "model_version_status_model_version_id_model_versions_id_fk" FOREIGN KEY ("model_version_id") REFERENCES "public"."model_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "strategy_version_status" ADD CONSTRAINT "strategy_version_status_strategy_version_id_strategy_versions_id_fk" FOREIGN KEY ("strategy_version_id") REFERENCES "public"."strategy_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_version_status_idx" ON "model_version_status" USING btree ("model_version_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_name_version_uq" ON "model_versions" USING btree ("model_name","version");--> statement-breakpoint
CREATE INDEX "strategy_version_status_idx" ON "strategy_version_status" USING btree ("strategy_version_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "strategy_versions_name_version_uq" ON "strategy_versions" USING btree ("strategy_name","version");