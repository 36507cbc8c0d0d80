CREATE TABLE "exit_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"position_id" text NOT NULL,
	"exit_no" integer NOT NULL,
	"attempt_no" integer NOT NULL,
	"reason" text NOT NULL,
	"urgency" text NOT NULL,
	"order_type" text NOT NULL,
	"limit_price" numeric(12, 4) NOT NULL,
	"timeout_ms" integer NOT NULL,
	"client_order_id" text NOT NULL,
	"filled_size" numeric(24, 6) NOT NULL,
	"outcome" text NOT NULL,
	"attempted_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fills" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"client_order_id" text NOT NULL,
	"seq" integer NOT NULL,
	"price" numeric(12, 4) NOT NULL,
	"size" numeric(24, 6) NOT NULL,
	"liquidity" text NOT NULL,
	"fee" numeric(18, 6) NOT NULL,
	"filled_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"client_order_id" text PRIMARY KEY NOT NULL,
	"position_id" text NOT NULL,
	"venue" text NOT NULL,
	"venue_order_id" text,
	"market_ticker" text NOT NULL,
	"purpose" text NOT NULL,
	"outcome" text NOT NULL,
	"action" text NOT NULL,
	"limit_price" numeric(12, 4) NOT NULL,
	"size" numeric(24, 6) NOT NULL,
	"time_in_force" text NOT NULL,
	"status" text NOT NULL,
	"filled_size" numeric(24, 6) DEFAULT '0' NOT NULL,
	"average_price" numeric(12, 6),
	"fees" numeric(18, 6) DEFAULT '0' NOT NULL,
	"submitted_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "position_exits" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"position_id" text NOT NULL,
	"exit_no" integer NOT NULL,
	"reason" text NOT NULL,
	"urgency" text NOT NULL,
	"requested_size" numeric(24, 6) NOT NULL,
	"filled_size" numeric(24, 6) NOT NULL,
	"average_price" numeric(12, 6),
	"fees" numeric(18, 6) NOT NULL,
	"realized_pnl" numeric(18, 6) NOT NULL,
	"attempts" integer NOT NULL,
	"triggered" jsonb NOT NULL,
	"finished_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "positions" (
	"position_id" text PRIMARY KEY NOT NULL,
	"strategy_id" text NOT NULL,
	"venue" text NOT NULL,
	"market_ticker" text NOT NULL,
	"outcome" text NOT NULL,
	"status" text NOT NULL,
	"entry_price" numeric(12, 4),
	"size" numeric(24, 6) DEFAULT '0' NOT NULL,
	"remaining_size" numeric(24, 6) DEFAULT '0' NOT NULL,
	"realized_pnl" numeric(18, 6) DEFAULT '0' NOT NULL,
	"fees" numeric(18, 6) DEFAULT '0' NOT NULL,
	"state" jsonb NOT NULL,
	"opened_at" timestamp (3) with time zone,
	"closed_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "exit_attempts_uq" ON "exit_attempts" USING btree ("position_id","exit_no","attempt_no");--> statement-breakpoint
CREATE UNIQUE INDEX "fills_order_seq_uq" ON "fills" USING btree ("client_order_id","seq");--> statement-breakpoint
CREATE INDEX "orders_position_idx" ON "orders" USING btree ("position_id");--> statement-breakpoint
CREATE UNIQUE INDEX "position_exits_uq" ON "position_exits" USING btree ("position_id","exit_no");