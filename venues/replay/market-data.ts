import type { MarketEvent } from '../../domain/market-data/events';
import type { MarketDataClient, VenueCapabilities } from '../../domain/ports';
import { parsePolymarketMessage } from '../polymarket/messages';
import type { MalformedLine } from './gold-feed';
import { replayPolymarketJsonl } from './polymarket-samples';
import { replayKalshiRecording, type ReplayPace, type ReplayStats } from './replay-source';

const REPLAY_CAPABILITIES: VenueCapabilities = {
  venue: 'replay',
  sequencedMarketData: true,
  bookUpdates: 'deltas',
  orderTypes: [],
  amend: false,
  batchOrders: false,
  idempotentClientOrderIds: false,
  trading: false,
};

/**
 * The recorded Kalshi gold feed as a market-data client: the same port a live venue feed uses, so a
 * replay and the live feed enter the pipeline the same way. `start` resolves when the recording ends.
 */
export class GoldReplayMarketData implements MarketDataClient {
  readonly capabilities = REPLAY_CAPABILITIES;
  private readonly abort = new AbortController();
  stats: ReplayStats = { messages: 0, events: 0, malformed: 0, skippedTypes: 0, outOfOrder: 0 };

  constructor(private readonly opts: { dataDir: string; markets: string[]; pace: ReplayPace; onMalformed?: (bad: MalformedLine) => void }) {}

  async start(onEvent: (event: MarketEvent) => void | Promise<void>): Promise<void> {
    this.stats = await replayKalshiRecording({ ...this.opts, emit: async (e) => void (await onEvent(e)), signal: this.abort.signal });
  }

  async close(): Promise<void> {
    this.abort.abort();
  }
}

/** Recorded Polymarket market-channel messages (JSONL files) as a market-data client. */
export class PolymarketSampleMarketData implements MarketDataClient {
  readonly capabilities: VenueCapabilities = { ...REPLAY_CAPABILITIES, sequencedMarketData: false, bookUpdates: 'levels' };
  private closed = false;
  readonly counters = { messages: 0, events: 0, malformed: 0 };

  constructor(private readonly opts: { files: string[]; onMalformed?: (bad: MalformedLine) => void }) {}

  async start(onEvent: (event: MarketEvent) => void | Promise<void>): Promise<void> {
    for (const file of this.opts.files) {
      const events: MarketEvent[] = [];
      const malformed = (bad: MalformedLine) => {
        this.counters.malformed++;
        this.opts.onMalformed?.(bad);
      };
      replayPolymarketJsonl(
        file,
        (msg) => {
          this.counters.messages++;
          const parsed = parsePolymarketMessage(msg);
          if (!parsed.ok) return malformed({ lineNo: this.counters.messages, raw: JSON.stringify(msg).slice(0, 2000), error: parsed.error });
          if (parsed.value.kind === 'events') events.push(...parsed.value.events);
        },
        malformed,
      );
      for (const event of events) {
        if (this.closed) return;
        this.counters.events++;
        await onEvent(event);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
