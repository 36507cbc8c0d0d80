import type { UnitEvent } from '../domain/market-data/events';
import type { BinaryOrderBook } from '../domain/market-data/order-book';
import { PositionExitWatch, type ExitWatchWire } from '../domain/trading/exit-watch';
import { quoteFromBook } from '../domain/trading/quote';
import type { QuoteWire } from '../domain/trading/wire';

/** A watch that fired: which book event woke which position, and when (wall clock). */
export interface ExitWatchTrigger {
  positionId: string;
  market: string;
  reasons: string[];
  /** Exchange time of the market's first event in the batch that fired it (the earliest it can have been sent). */
  eventTsMs: number;
  firedAtMs: number;
}

export interface ExitWatchDeps {
  book(market: string): BinaryOrderBook | undefined;
  /** Wakes the position workflow (the exitCheck signal) with the quote that triggered and the highest bid the watch saw. */
  wake(positionId: string, payload: { highBid?: string; quote?: QuoteWire }): Promise<void>;
  nowMs(): number;
  /** At most one wake per position in this interval: Temporal advises ≤ ~5 signals/s per workflow. */
  minWakeIntervalMs: number;
  log?: (line: string) => void;
}

/**
 * Exits triggered by pushed book events instead of polling: each open position registers its exit
 * view with every quote it reads (the getQuote activity); every applied book batch re-evaluates the
 * positions on its markets, and one whose exit conditions now hold is woken at once. A watch is
 * one-shot (the position's next quote read renews it) and lapses if not renewed.
 */
export class ExitWatch {
  private readonly byMarket = new Map<string, Map<string, { outcome: 'yes' | 'no'; watch: PositionExitWatch }>>();
  private readonly lastWakeMs = new Map<string, number>();
  private readonly listeners = new Set<(trigger: ExitWatchTrigger) => void>();
  readonly counters = { registered: 0, woken: 0, throttled: 0, wakeFailures: 0 };

  constructor(private readonly deps: ExitWatchDeps) {}

  register(market: string, outcome: 'yes' | 'no', wire: ExitWatchWire): void {
    const watch = new PositionExitWatch(wire, this.deps.nowMs());
    let watches = this.byMarket.get(market);
    if (!watches) this.byMarket.set(market, (watches = new Map()));
    watches.set(watch.positionId, { outcome, watch });
    this.counters.registered++;
  }

  /** Whether the position has a live registration (it read a quote recently and was not woken since). */
  watching(market: string, positionId: string): boolean {
    const entry = this.byMarket.get(market)?.get(positionId);
    return entry !== undefined && this.deps.nowMs() <= entry.watch.expiresAtMs;
  }

  onTrigger(listener: (trigger: ExitWatchTrigger) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** After a batch is applied to the books: the positions on its markets whose exits now hold are woken. */
  onApplied(events: readonly UnitEvent[]): void {
    if (this.byMarket.size === 0) return;
    const firstTs = new Map<string, number>();
    for (const e of events) if (this.byMarket.has(e.m) && !firstTs.has(e.m)) firstTs.set(e.m, e.ts);
    const now = this.deps.nowMs();
    for (const [market, eventTsMs] of firstTs) {
      const watches = this.byMarket.get(market)!;
      const book = this.deps.book(market);
      for (const [positionId, { outcome, watch }] of watches) {
        if (now > watch.expiresAtMs) {
          watches.delete(positionId);
          continue;
        }
        const quote = quoteFromBook(book, market, outcome);
        const reasons = watch.check(quote, now).map((t) => t.reason);
        if (reasons.length === 0) continue;
        if (now - (this.lastWakeMs.get(positionId) ?? -Infinity) < this.deps.minWakeIntervalMs) {
          this.counters.throttled++;
          continue;
        }
        watches.delete(positionId);
        this.lastWakeMs.set(positionId, now);
        this.counters.woken++;
        const trigger: ExitWatchTrigger = { positionId, market, reasons, eventTsMs, firedAtMs: now };
        for (const listener of this.listeners) listener(trigger);
        this.deps.wake(positionId, { highBid: watch.highWaterBid.toFixed(4), quote }).catch((err: Error) => {
          // The workflow may have finished meanwhile; its next poll is the fallback either way.
          this.counters.wakeFailures++;
          this.deps.log?.(`exit watch: waking ${positionId} failed: ${err.message}`);
        });
      }
      if (watches.size === 0) this.byMarket.delete(market);
    }
    if (this.lastWakeMs.size > 10_000) for (const [id, at] of this.lastWakeMs) if (now - at > this.deps.minWakeIntervalMs) this.lastWakeMs.delete(id);
  }
}
