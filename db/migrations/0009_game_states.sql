CREATE TABLE "game_states" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"league" text NOT NULL,
	"espn_id" text NOT NULL,
	"game_key" text NOT NULL,
	"phase" text NOT NULL,
	"completed" boolean NOT NULL,
	"home_team" text NOT NULL,
	"away_team" text NOT NULL,
	"home_score" integer NOT NULL,
	"away_score" integer NOT NULL,
	"period" integer NOT NULL,
	"clock" text NOT NULL,
	"detail" text NOT NULL,
	"start_time" timestamp (3) with time zone NOT NULL,
	"home_win_probability" double precision,
	"state_hash" text NOT NULL,
	"effective_ts" timestamp (3) with time zone NOT NULL,
	"expiration_ts" timestamp (3) with time zone,
	"row_current_ind" boolean DEFAULT true NOT NULL,
	"state" jsonb NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "game_states_current_uq" ON "game_states" USING btree ("league","espn_id") WHERE "game_states"."row_current_ind";--> statement-breakpoint
CREATE INDEX "game_states_key_idx" ON "game_states" USING btree ("game_key","effective_ts");