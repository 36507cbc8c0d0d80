import WebSocket from 'ws';
import { closeSocket } from '../ws';
import type { MarketEvent } from '../../domain/market-data/events';
import type { MarketDataClient, VenueCapabilities } from '../../domain/ports';
import { parsePolymarketMessage } from './messages';

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

/**
 * Polymarket market channel: subscribes asset ids, keeps the connection alive with text PINGs,
 * reconnects with backoff and re-subscribes. Every (re)subscription starts with `book` snapshots,
 * which is Polymarket's only resync (there are no sequence numbers); `resync(asset)` forces one by
 * re-subscribing that asset.
 */
export class PolymarketMarketDataClient implements MarketDataClient {
  readonly capabilities = POLYMARKET_CAPABILITIES;
  private ws: WebSocket | undefined;
  private readonly assets = new Set<string>();
  private onEvent: (event: MarketEvent) => void = () => {};
  private ping: NodeJS.Timeout | undefined;
  private closed = false;
  private attempt = 0;
  readonly counters = { connects: 0, messages: 0, malformed: 0, tickSizeChanges: 0 };

  constructor(
    private readonly opts: {
      url: string;
      /** Asset (token) ids to follow from the start; `subscribe` adds more. */
      assets?: readonly string[];
      pingIntervalMs?: number;
      reconnect?: { initialMs: number; maxMs: number };
      onMalformed?: (raw: string, error: string) => void;
      log?: (line: string) => void;
    },
  ) {
    for (const id of opts.assets ?? []) this.assets.add(id);
  }

  /** Connects and delivers the configured assets' events until closed. */
  async start(onEvent: (event: MarketEvent) => void): Promise<void> {
    this.onEvent = onEvent;
    if (!this.ws) await this.open();
  }

  /** Follows more assets (sent on the open connection, and on every reconnect). */
  subscribe(instrumentIds: string[]): void {
    const fresh = instrumentIds.filter((id) => !this.assets.has(id));
    for (const id of instrumentIds) this.assets.add(id);
    if (fresh.length) this.send({ assets_ids: fresh, operation: 'subscribe' });
  }

  /** Re-subscribing an asset makes the venue send a fresh `book`. */
  resync(assetId: string): void {
    this.send({ assets_ids: [assetId], operation: 'unsubscribe' });
    this.send({ assets_ids: [assetId], operation: 'subscribe' });
  }

  private send(payload: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(payload));
  }

  private open(): Promise<void> {
    const ws = new WebSocket(this.opts.url);
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        this.counters.connects++;
        this.attempt = 0;
        ws.send(JSON.stringify({ assets_ids: [...this.assets], type: 'market' }));
        this.ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('PING'), this.opts.pingIntervalMs ?? 10_000);
        resolve();
      });
      ws.once('error', (err) => ws.readyState !== WebSocket.OPEN && reject(err));
      ws.on('message', (data) => {
        const raw = data.toString();
        try {
          this.handle(raw);
        } catch (err) {
          // A bug triggered by one frame (here or in the event callback) must not take the process down.
          this.counters.malformed++;
          this.opts.onMalformed?.(raw.slice(0, 2000), `handling the frame failed: ${(err as Error).message}`);
        }
      });
      ws.on('close', () => {
        clearInterval(this.ping);
        if (this.closed) return;
        const { initialMs, maxMs } = this.opts.reconnect ?? { initialMs: 500, maxMs: 30_000 };
        const wait = Math.min(maxMs, initialMs * 2 ** this.attempt++);
        this.opts.log?.(`polymarket market channel closed; reconnecting in ${wait} ms`);
        setTimeout(() => void this.open().catch((e: Error) => this.opts.log?.(`reconnect failed: ${e.message}`)), wait);
      });
    });
  }

  private handle(raw: string): void {
    if (raw === 'PONG') return;
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
    for (const msg of Array.isArray(payload) ? payload : [payload]) {
      const parsed = parsePolymarketMessage(msg);
      if (!parsed.ok) {
        this.counters.malformed++;
        this.opts.onMalformed?.(raw, parsed.error);
        continue;
      }
      if (parsed.value.kind === 'events') for (const e of parsed.value.events) this.onEvent(e);
      else if (parsed.value.kind === 'tick_size') this.counters.tickSizeChanges++;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.ping);
    await closeSocket(this.ws);
  }
}
