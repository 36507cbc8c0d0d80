ALTER TABLE "price_history" ALTER COLUMN "cumulative_volume" SET DATA TYPE numeric(24, 6);--> statement-breakpoint
ALTER TABLE "price_history_daily" ALTER COLUMN "volume" SET DATA TYPE numeric(24, 6);--> statement-breakpoint
ALTER TABLE "trade_prints" ALTER COLUMN "count" SET DATA TYPE numeric(24, 6);