import { BookStore } from '../../domain/market-data/book-store';
import type { MarketEvent } from '../../domain/market-data/events';
import type { MarketDataClient, VenueCapabilities } from '../../domain/ports';
import { PolymarketBookSync, type ResyncBackoff } from './book-sync';
import { parsePolymarketMessage } from './messages';
import { PolymarketSocket } from './socket';

export const POLYMARKET_CAPABILITIES: VenueCapabilities = {
  venue: 'polymarket',
  sequencedMarketData: false,
  bookUpdates: 'levels',
  orderTypes: ['limit', 'ioc', 'fok', 'post_only'],
  amend: false,
  batchOrders: true,
  idempotentClientOrderIds: false,
  // Order placement needs EIP-712 signing, which Kestrel does not implement yet.
  trading: false,
};

/** How long the channel must be quiet before the open timestamp batches are checked (a burst arrives within milliseconds). */
const QUIET_MS = 50;

/**
 * Polymarket market channel: subscribes asset ids, keeps the connection alive with text PINGs,
 * reconnects with backoff and re-subscribes. Every (re)subscription starts with `book` snapshots,
 * which is Polymarket's only resync (there are no sequence numbers); `resync(asset)` forces one by
 * re-subscribing that asset.
 *
 * The messages also run through a PolymarketBookSync of the client's own (a mirror of the books):
 * when it finds a followed asset's book inconsistent with what the venue reports, the client emits
 * a `stale` event for it (downstream books stop trusting it) and re-subscribes it, once per asset
 * with the sync's backoff. Batches are checked when the asset's next timestamp arrives or when the
 * channel has been quiet for QUIET_MS.
 */
export class PolymarketMarketDataClient implements MarketDataClient {
  readonly capabilities = POLYMARKET_CAPABILITIES;
  private readonly socket: PolymarketSocket;
  private readonly assets = new Set<string>();
  private onEvent: (event: MarketEvent) => void = () => {};
  private quiet: NodeJS.Timeout | undefined;
  private lastTs = 0;
  private readonly mirror: PolymarketBookSync;
  readonly counters = { connects: 0, messages: 0, malformed: 0, tickSizeChanges: 0, resyncs: 0 };

  constructor(
    private readonly opts: {
      url: string;
      /** Asset (token) ids to follow from the start; `subscribe` adds more. */
      assets?: readonly string[];
      pingIntervalMs?: number;
      reconnect?: { initialMs: number; maxMs: number };
      onMalformed?: (raw: string, error: string) => void;
      log?: (line: string) => void;
      resyncBackoff?: ResyncBackoff;
    },
  ) {
    for (const id of opts.assets ?? []) this.assets.add(id);
    this.socket = new PolymarketSocket({
      url: opts.url,
      channel: 'market',
      hello: () => ({ assets_ids: [...this.assets], type: 'market' }),
      onOpen: () => this.counters.connects++,
      onFrame: (raw) => this.handle(raw),
      onFrameFailed: (raw, error) => {
        this.counters.malformed++;
        this.opts.onMalformed?.(raw, error);
      },
      pingIntervalMs: opts.pingIntervalMs,
      reconnect: opts.reconnect,
      log: opts.log,
    });
    this.mirror = new PolymarketBookSync(new BookStore({ historyCapacity: 1, sampleMs: Number.MAX_SAFE_INTEGER }), {
      requestResync: (assetId, reason) => this.staleAndResync(assetId, reason),
      clock: { nowMs: () => Date.now() },
      backoff: opts.resyncBackoff,
    });
  }

  /** A followed asset's book went wrong: downstream stops trusting it, and the venue is asked for a fresh `book`. */
  private staleAndResync(assetId: string, reason: string): void {
    if (!this.assets.has(assetId)) return;
    this.counters.resyncs++;
    this.opts.log?.(`polymarket ${assetId}: ${reason}; resubscribing`);
    this.onEvent({ t: 'stale', m: assetId, ts: this.lastTs, reason: reason.slice(0, 500) });
    this.resync(assetId);
  }

  /** Connects and delivers the configured assets' events until closed. */
  async start(onEvent: (event: MarketEvent) => void): Promise<void> {
    this.onEvent = onEvent;
    await this.socket.start();
  }

  /** Follows more assets (sent on the open connection, and on every reconnect). */
  subscribe(instrumentIds: string[]): void {
    const fresh = instrumentIds.filter((id) => !this.assets.has(id));
    for (const id of instrumentIds) this.assets.add(id);
    if (fresh.length) this.socket.send({ assets_ids: fresh, operation: 'subscribe' });
  }

  /** Re-subscribing an asset makes the venue send a fresh `book`. */
  resync(assetId: string): void {
    this.socket.send({ assets_ids: [assetId], operation: 'unsubscribe' });
    this.socket.send({ assets_ids: [assetId], operation: 'subscribe' });
  }

  private handle(raw: string): void {
    this.counters.messages++;
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch (err) {
      this.counters.malformed++;
      this.opts.onMalformed?.(raw, `invalid JSON: ${(err as Error).message}`);
      return;
    }
    // The channel sends single objects or arrays of them.
    for (const msg of Array.isArray(payload) ? (payload as unknown[]) : [payload]) {
      this.mirror.handle(msg);
      const parsed = parsePolymarketMessage(msg);
      if (!parsed.ok) {
        this.counters.malformed++;
        this.opts.onMalformed?.(raw, parsed.error);
        continue;
      }
      if (parsed.value.kind === 'events') {
        for (const e of parsed.value.events) {
          this.lastTs = Math.max(this.lastTs, e.ts);
          this.onEvent(e);
        }
      } else if (parsed.value.kind === 'tick_size') this.counters.tickSizeChanges++;
    }
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => this.mirror.flush(), QUIET_MS);
  }

  async close(): Promise<void> {
    clearTimeout(this.quiet);
    await this.socket.close();
  }
}
