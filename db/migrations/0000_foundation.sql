CREATE TABLE "config_overrides" (
	"key" text PRIMARY KEY NOT NULL,
	"value_json" text NOT NULL,
	"reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trade_prints" (
	"venue" text NOT NULL,
	"trade_id" text NOT NULL,
	"market_ticker" text NOT NULL,
	"yes_price" numeric(12, 4) NOT NULL,
	"count" numeric(18, 2) NOT NULL,
	"taker_side" text NOT NULL,
	"exchange_ts" timestamp (3) with time zone NOT NULL,
	"batch_id" text NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "trade_prints_venue_trade_id_pk" PRIMARY KEY("venue","trade_id")
);
--> statement-breakpoint
CREATE INDEX "trade_prints_market_ts_idx" ON "trade_prints" USING btree ("market_ticker","exchange_ts");