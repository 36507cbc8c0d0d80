import { z } from 'zod';
import { Dec } from '../decimal';
import { evaluateExits, exitConfigSchema, type ExitConfig, type TriggeredExit } from './exits';
import type { QuoteWire } from './wire';

const decimalText = z.string().regex(/^-?\d+(\.\d+)?$/, { message: 'must be a decimal string' });

/**
 * What an open position hands the worker with each quote read so that a book update can wake it
 * (instead of waiting for its next poll): its exit view and settings, for `watchForMs`. The worker
 * re-runs the same `evaluateExits` on every book update of the market.
 */
export const exitWatchWireSchema = z.object({
  positionId: z.string().min(1),
  closeTimeMs: z.number(),
  entryPrice: decimalText,
  originalSize: decimalText,
  remainingSize: decimalText,
  highWaterBid: decimalText,
  partialStagesDone: z.number().int().nonnegative(),
  modelProbability: decimalText.optional(),
  /** Raw exit settings, as the position input carries them. */
  exitConfig: z.record(z.string(), z.unknown()).optional(),
  /** The registration lapses after this long without a fresh quote read (the position stopped watching). */
  watchForMs: z.number().int().positive(),
});
export type ExitWatchWire = z.input<typeof exitWatchWireSchema>;

/** One position's watch: the exit evaluation of the workflow, on quotes the worker sees first. */
export class PositionExitWatch {
  readonly positionId: string;
  readonly expiresAtMs: number;
  private readonly config: ExitConfig;
  private readonly wire: z.output<typeof exitWatchWireSchema>;
  /** The highest bid seen, here or by the position: the trailing stop's high-water mark. */
  highWaterBid: Dec;

  constructor(wire: ExitWatchWire, registeredAtMs: number) {
    this.wire = exitWatchWireSchema.parse(wire);
    this.config = exitConfigSchema.parse(this.wire.exitConfig ?? {});
    this.positionId = this.wire.positionId;
    this.highWaterBid = new Dec(this.wire.highWaterBid);
    this.expiresAtMs = registeredAtMs + this.wire.watchForMs;
  }

  /** The exits this quote would trigger (empty: none, or the quote is stale and decides nothing). */
  check(quote: QuoteWire, nowMs: number): TriggeredExit[] {
    if (quote.stale) return [];
    const bid = quote.bid ? new Dec(quote.bid) : undefined;
    if (bid && bid.gt(this.highWaterBid)) this.highWaterBid = bid;
    const w = this.wire;
    return evaluateExits(
      { entryPrice: new Dec(w.entryPrice), originalSize: new Dec(w.originalSize), remainingSize: new Dec(w.remainingSize), highWaterBid: this.highWaterBid, partialStagesDone: w.partialStagesDone, circuitBreakerTripped: false, rebalanceRequested: false },
      { nowMs, bid, bidSize: new Dec(quote.bidSize), ask: quote.ask ? new Dec(quote.ask) : undefined, closeTimeMs: w.closeTimeMs, modelProbability: w.modelProbability ? new Dec(w.modelProbability) : undefined },
      this.config,
    ).triggered;
  }
}
