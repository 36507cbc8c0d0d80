import { z } from 'zod';
import { decimalString } from '../decimal';

// What crosses Temporal between position workflows and trading activities: decimals as strings.
// The order request and state here are the one order model of every venue (domain/ports.ts).

export const outcomeSchema = z.enum(['yes', 'no']);

export const quoteWireSchema = z.object({
  market: z.string(),
  outcome: outcomeSchema,
  bid: decimalString.optional(),
  bidSize: decimalString,
  ask: decimalString.optional(),
  askSize: decimalString,
  tsMs: z.number().int(),
  stale: z.boolean(),
});
export type QuoteWire = z.infer<typeof quoteWireSchema>;

export const orderRequestWireSchema = z.object({
  clientOrderId: z.string().min(1).max(300),
  positionId: z.string().min(1),
  purpose: z.enum(['entry', 'exit']),
  market: z.string().min(1),
  outcome: outcomeSchema,
  action: z.enum(['buy', 'sell']),
  limitPrice: decimalString,
  size: decimalString,
  tif: z.enum(['gtc', 'ioc', 'fok']),
  /** Rest only: refused if it would take liquidity. */
  postOnly: z.boolean().optional(),
  /** Only reduce the position (exits). */
  reduceOnly: z.boolean().optional(),
});
export type OrderRequestWire = z.infer<typeof orderRequestWireSchema>;

/** A resting order moved to a new limit; `size` is its new total (filled included). */
export const orderAmendmentSchema = z.object({ clientOrderId: z.string().min(1).max(300), limitPrice: decimalString, size: decimalString });

export interface FillWire {
  price: string;
  size: string;
  liquidity: 'taker' | 'maker';
  fee: string;
  tsMs: number;
}

/** The one order model every venue answers with (see ExecutionClient in domain/ports.ts). */
export interface OrderStateWire {
  clientOrderId: string;
  /** The venue's own id, once the venue has the order. */
  venueOrderId?: string;
  status: 'resting' | 'filled' | 'canceled' | 'rejected';
  size: string;
  filled: string;
  averagePrice?: string;
  fees: string;
  fills: FillWire[];
  rejectReason?: string;
}

// What position logic records (activities persist it; the backtester keeps it in memory).
export interface PositionRecord {
  positionId: string;
  strategyId: string;
  market: string;
  outcome: 'yes' | 'no';
  status: string;
  entryPrice?: string;
  size: string;
  remainingSize: string;
  realizedPnl: string;
  fees: string;
  state: Record<string, unknown>;
  openedAtMs?: number;
  closedAtMs?: number;
  provenance?: { strategyVersionId?: number; modelVersionId?: number; signalId?: string };
}

export interface ExitAttemptRecord {
  positionId: string;
  exitNo: number;
  attemptNo: number;
  reason: string;
  urgency: string;
  orderType: string;
  limitPrice: string;
  timeoutMs: number;
  clientOrderId: string;
  filledSize: string;
  outcome: string;
  attemptedAtMs: number;
}

export interface PositionExitRecord {
  positionId: string;
  exitNo: number;
  reason: string;
  urgency: string;
  requestedSize: string;
  filledSize: string;
  averagePrice?: string;
  fees: string;
  realizedPnl: string;
  attempts: number;
  triggered: unknown[];
  finishedAtMs: number;
}

