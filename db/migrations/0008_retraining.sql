CREATE TABLE "retraining_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"model_name" text NOT NULL,
	"status" text NOT NULL,
	"model_version_id" bigint,
	"active_version_id" bigint,
	"in_sample" double precision,
	"out_of_sample" double precision,
	"active_out_of_sample" double precision,
	"train_outcomes" integer NOT NULL,
	"test_outcomes" integer NOT NULL,
	"reason" text NOT NULL,
	"train_from" timestamp (3) with time zone NOT NULL,
	"test_from" timestamp (3) with time zone NOT NULL,
	"test_to" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "retraining_runs_model_idx" ON "retraining_runs" USING btree ("model_name","id");