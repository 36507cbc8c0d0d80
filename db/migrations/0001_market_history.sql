CREATE TABLE "market_snapshots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"venue" text NOT NULL,
	"market_ticker" text NOT NULL,
	"event_ticker" text,
	"status" text NOT NULL,
	"attributes" jsonb NOT NULL,
	"attributes_hash" text NOT NULL,
	"effective_ts" timestamp (3) with time zone NOT NULL,
	"expiration_ts" timestamp (3) with time zone,
	"row_current_ind" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "price_history" (
	"market_ticker" text NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"source" text NOT NULL,
	"yes_bid" numeric(12, 4),
	"yes_ask" numeric(12, 4),
	"last_price" numeric(12, 4),
	"cumulative_volume" numeric(20, 2) NOT NULL,
	CONSTRAINT "price_history_market_ticker_ts_source_pk" PRIMARY KEY("market_ticker","ts","source")
);
--> statement-breakpoint
CREATE TABLE "price_history_daily" (
	"market_ticker" text NOT NULL,
	"day" date NOT NULL,
	"source" text NOT NULL,
	"open_mid" numeric(12, 4),
	"high_mid" numeric(12, 4),
	"low_mid" numeric(12, 4),
	"close_mid" numeric(12, 4),
	"last_price" numeric(12, 4),
	"volume" numeric(20, 2) NOT NULL,
	"points" integer NOT NULL,
	CONSTRAINT "price_history_daily_market_ticker_day_source_pk" PRIMARY KEY("market_ticker","day","source")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "market_snapshots_current_uq" ON "market_snapshots" USING btree ("venue","market_ticker") WHERE "market_snapshots"."row_current_ind";--> statement-breakpoint
CREATE INDEX "market_snapshots_market_idx" ON "market_snapshots" USING btree ("venue","market_ticker","effective_ts");--> statement-breakpoint
CREATE INDEX "price_history_ts_idx" ON "price_history" USING btree ("ts");