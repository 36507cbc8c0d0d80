import { toUnits, type MarketEvent, type UnitEvent } from '../domain/market-data/events';
import type { KalshiLiveMarketData } from '../venues/kalshi/data';
import type { LockstepEventSource } from './lockstep-replay';

/** At most this much of a malformed event goes into a log line. */
const RAW_LOG_LIMIT = 500;

/** The events a feed delivered (its clock never goes back within a market), in units, for a lockstep run. */
export class FeedTape {
  private events: UnitEvent[] = [];
  malformed = 0;

  constructor(private readonly log: (line: string) => void) {}

  readonly onEvent = (event: MarketEvent): void => {
    let unit: UnitEvent;
    try {
      unit = toUnits(event);
    } catch (err) {
      this.malformed++;
      this.log(`kalshi feed: event with an invalid price or size (${(err as Error).message}): ${JSON.stringify(event).slice(0, RAW_LOG_LIMIT)}`);
      return;
    }
    this.events.push(unit);
  };

  /** The events at or before `untilMs` (in arrival order); later ones stay for the next call. */
  take(untilMs: number): UnitEvent[] {
    let n = 0;
    while (n < this.events.length && this.events[n]!.ts <= untilMs) n++;
    const taken = this.events.slice(0, n);
    this.events = this.events.slice(n);
    return taken;
  }
}

/**
 * A feed from an exchange whose clock the run moves (the emulator at speed 0) as a lockstep
 * source: each pull moves the exchange clock, waits until everything it sent arrived over the
 * WebSocket, and hands those events over.
 */
export function exchangeLockstepSource(opts: {
  exchange: { nowMs(): number; advanceTo(ms: number): Promise<void>; endMs(): number; nextScheduledMs(): Promise<number | undefined> };
  feed: Pick<KalshiLiveMarketData, 'sync'>;
  tape: FeedTape;
  stepMs: number;
}): LockstepEventSource {
  return {
    startMs: opts.exchange.nowMs(),
    endMs: opts.exchange.endMs(),
    stepMs: opts.stepMs,
    quietUntil: () => opts.exchange.nextScheduledMs(),
    readUntil: async (untilMs) => {
      await opts.exchange.advanceTo(untilMs);
      await opts.feed.sync();
      return opts.tape.take(untilMs);
    },
  };
}
