import type { Clock } from '../../domain/clock';
import type { MarketDataClient } from '../../domain/ports';
import type { MarketEvent } from '../../domain/market-data/events';
import { kalshiEvent } from '../../domain/market-data/kalshi-tickers';
import type { MarketMetadata } from '../../db/market-data-repo';
import { kalshiMarketMetadata } from '../replay/gold-metadata';
import { KALSHI_CAPABILITIES } from './execution';
import type { KalshiRestClient } from './rest-client';
import { KalshiWsClient, type KalshiWsOptions } from './ws-client';
import type { KalshiChannelMessage } from './ws-messages';

/** Which markets the live feed follows (config `marketData.kalshi.*`). Empty lists do not filter. */
export interface KalshiMarketSelection {
  series: readonly string[];
  events: readonly string[];
  /** GET /markets `status` filter ('' = any). */
  status: 'open' | 'unopened' | 'closed' | 'settled' | '';
  maxMarkets: number;
}

type LifecycleMsg = Extract<KalshiChannelMessage, { type: 'market_lifecycle_v2' }>['msg'];

/** The series of a Kalshi market or event ticker is its first segment. */
export const kalshiSeriesOf = (ticker: string): string => ticker.split('-')[0]!;

/** Whether a market (by ticker and event) falls inside the configured series / event filters. */
export function selectsMarket(selection: Pick<KalshiMarketSelection, 'series' | 'events'>, marketTicker: string, eventTicker = kalshiEvent(marketTicker)): boolean {
  if (selection.series.length > 0 && !selection.series.includes(kalshiSeriesOf(eventTicker))) return false;
  if (selection.events.length > 0 && !selection.events.includes(eventTicker)) return false;
  return true;
}

/**
 * The GET /markets queries that discover the selection. Kalshi filters one series per request but
 * takes a comma list of events, so events (when given) are one query and series one query each.
 */
export function discoveryQueries(selection: KalshiMarketSelection): Record<string, string | undefined>[] {
  const status = selection.status || undefined;
  if (selection.events.length > 0) return [{ event_ticker: selection.events.join(','), status }];
  if (selection.series.length > 0) return selection.series.map((series) => ({ series_ticker: series, status }));
  return [{ status }];
}

export type LifecycleAction = 'add' | 'drop' | 'refresh' | 'ignore';

/**
 * What a `market_lifecycle_v2` message means for the feed: a selected market that opens (or is
 * created, when unopened markets are wanted) is added while there is room; a followed market that
 * is determined or settled is dropped (its book is over); any other news about a market followed
 * now or before (its settlement comes after the drop) refreshes its snapshot row.
 */
export function lifecycleAction(
  msg: Pick<LifecycleMsg, 'market_ticker' | 'event_type' | 'additional_metadata'>,
  selection: KalshiMarketSelection,
  following: ReadonlySet<string>,
  followedBefore: ReadonlySet<string> = new Set(),
): LifecycleAction {
  const market = msg.market_ticker;
  if (following.has(market)) return msg.event_type === 'determined' || msg.event_type === 'settled' ? 'drop' : 'refresh';
  if (followedBefore.has(market)) return 'refresh';
  const eventTicker = typeof msg.additional_metadata?.event_ticker === 'string' ? msg.additional_metadata.event_ticker : kalshiEvent(market);
  if (!selectsMarket(selection, market, eventTicker)) return 'ignore';
  const opens = msg.event_type === 'activated' || (msg.event_type === 'created' && (selection.status === 'unopened' || selection.status === ''));
  if (!opens || following.size >= selection.maxMarkets) return 'ignore';
  return 'add';
}

export interface KalshiLiveMarketDataOptions {
  rest: Pick<KalshiRestClient, 'markets'>;
  /** WebSocket endpoint, credentials (Kalshi signs the handshake even for public channels), clock, reconnect and timeouts. */
  ws: Omit<KalshiWsOptions, 'onEvent' | 'onOther' | 'onStale' | 'onMalformed' | 'log'>;
  selection: KalshiMarketSelection;
  /**
   * The exchange's clock: snapshots carry no time and are stamped with it on arrival. Default: the
   * newest exchange time received plus the time since (`seedExchangeMs` until the first event), so
   * a feed that replays another time (the emulator) is stamped in its own time, a live one ≈ wall.
   */
  exchangeClock?: Clock;
  /** The exchange's time now, when known before the first event (the emulator's state endpoint). */
  seedExchangeMs?: number;
  /** A market's current REST row as SCD-2 metadata (the caller stores it: `upsertMarketSnapshot`). */
  onMarketMetadata?: (meta: MarketMetadata, observedAtMs: number) => Promise<unknown>;
  /** Every malformed message, with its raw payload. */
  onMalformed?: (raw: string, error: string) => void;
  log?: (line: string) => void;
}

/** The exchange's time: the newest exchange timestamp seen, moved on by the local clock since it was seen. */
export class ExchangeTimeEstimate implements Clock {
  private anchor: { exchangeMs: number; localMs: number } | undefined;

  constructor(
    private readonly local: Clock,
    seedExchangeMs?: number,
  ) {
    if (seedExchangeMs !== undefined) this.anchor = { exchangeMs: seedExchangeMs, localMs: local.nowMs() };
  }

  /** An exchange timestamp received now; an older one (out of order, or a slower exchange) moves nothing. */
  observe(exchangeMs: number): void {
    if (this.anchor === undefined || exchangeMs > this.nowMs()) this.anchor = { exchangeMs, localMs: this.local.nowMs() };
  }

  nowMs(): number {
    return this.anchor === undefined ? this.local.nowMs() : this.anchor.exchangeMs + (this.local.nowMs() - this.anchor.localMs);
  }
}

const BOOK_CHANNELS = ['orderbook_delta', 'trade'];
// market_lifecycle_v2 is not filtered by market (Kalshi sends every market's news on it).
const CHANNELS = [...BOOK_CHANNELS, 'market_lifecycle_v2'];

/**
 * The live Kalshi market-data feed: discovers the selected markets by REST, subscribes them to
 * `orderbook_delta` + `trade` and follows `market_lifecycle_v2` (markets that open are added, those
 * determined or settled dropped, every change stored as a market snapshot row). Sequence gaps and
 * disconnects become `stale` events for the affected books; the WebSocket client resyncs them.
 */
export class KalshiLiveMarketData implements MarketDataClient {
  readonly capabilities = KALSHI_CAPABILITIES;
  private readonly ws: KalshiWsClient;
  private readonly following = new Set<string>();
  private readonly followedBefore = new Set<string>();
  private readonly lastTs = new Map<string, number>();
  private onEvent: (event: MarketEvent) => void | Promise<void> = () => {};
  /** Events are handed over one at a time, in arrival order, so a slow consumer holds the feed back. */
  private delivering: Promise<unknown> = Promise.resolve();
  /** Lifecycle messages are handled in order (REST fetch, snapshot row, subscription change). */
  private lifecycle: Promise<unknown> = Promise.resolve();
  private closed: (() => void) | undefined;
  private readonly exchangeClock: Clock;
  private readonly estimate: ExchangeTimeEstimate | undefined;
  private readonly feedCounters = { events: 0, staleMarkings: 0, lifecycle: 0, added: 0, dropped: 0, snapshotRows: 0, malformed: 0, failures: 0 };

  constructor(private readonly opts: KalshiLiveMarketDataOptions) {
    this.exchangeClock = opts.exchangeClock ?? (this.estimate = new ExchangeTimeEstimate(opts.ws.clock, opts.seedExchangeMs));
    this.ws = new KalshiWsClient({
      ...opts.ws,
      onEvent: (event) => this.deliver(event),
      onOther: (message) => {
        if (message.type === 'market_lifecycle_v2') this.lifecycle = this.lifecycle.then(() => this.handleLifecycle(message.msg));
      },
      onStale: (markets, reason) => {
        const ts = this.exchangeClock.nowMs();
        for (const m of markets) if (this.following.has(m)) {
          this.feedCounters.staleMarkings++;
          this.deliver({ t: 'stale', m, ts, reason: reason.slice(0, 500) });
        }
      },
      onMalformed: (raw, error) => this.malformed(raw, error),
      log: opts.log,
    });
  }

  /** Feed figures: resyncs and reconnects come from the WebSocket client. */
  get counters() {
    const ws = this.ws.counters;
    return { ...this.feedCounters, markets: this.following.size, messages: ws.messages, gaps: ws.gaps, resyncs: ws.resyncs, connects: ws.connects, reconnects: Math.max(0, ws.connects - 1) };
  }

  /** The markets currently subscribed. */
  markets(): string[] {
    return [...this.following];
  }

  /** Resolves once every message received so far has been delivered and every lifecycle change handled. */
  async settled(): Promise<void> {
    for (;;) {
      const [delivering, lifecycle] = [this.delivering, this.lifecycle];
      await Promise.all([delivering, lifecycle]);
      if (delivering === this.delivering && lifecycle === this.lifecycle) return;
    }
  }

  /**
   * Resolves once every message the exchange sent before this call has been delivered: a no-op
   * command (adding a market already subscribed) is answered after the data sent ahead of it.
   */
  async sync(): Promise<void> {
    const [market] = this.following;
    const sid = this.bookSids()[0];
    // An error reply is answered in order too, so it is as good a barrier as `ok`.
    if (market !== undefined && sid !== undefined) await this.ws.updateSubscription(sid, 'add_markets', [market]).catch((err: Error) => this.opts.log?.(`kalshi feed: sync command failed: ${err.message}`));
    await this.settled();
  }

  /**
   * Connects, discovers and subscribes; resolves with the subscribed markets once the feed is
   * flowing. Use `start` for the MarketDataClient contract (resolves at close).
   */
  async open(onEvent: (event: MarketEvent) => void | Promise<void>): Promise<string[]> {
    this.onEvent = onEvent;
    const markets = await this.discover();
    await this.ws.connect();
    if (markets.length > 0) await this.subscribe(markets);
    else {
      // Nothing to follow yet: listen for markets opening (lifecycle news takes no market filter).
      await this.ws.subscribe(['market_lifecycle_v2'], []);
      this.opts.log?.('kalshi feed: no market matches the selection yet; waiting for one to open');
    }
    this.opts.log?.(`kalshi feed: following ${markets.length} market(s)${markets.length ? `: ${markets.slice(0, 10).join(', ')}${markets.length > 10 ? ', ...' : ''}` : ''}`);
    return markets;
  }

  async start(onEvent: (event: MarketEvent) => void | Promise<void>): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.closed = resolve));
    await this.open(onEvent);
    await closed;
  }

  async close(): Promise<void> {
    await this.ws.close();
    await this.settled();
    this.closed?.();
  }

  private async discover(): Promise<string[]> {
    const { selection } = this.opts;
    const found: string[] = [];
    for (const query of discoveryQueries(selection)) {
      for await (const market of this.opts.rest.markets(query)) {
        if (found.length >= selection.maxMarkets) return found;
        if (!found.includes(market.ticker) && selectsMarket(selection, market.ticker, market.event_ticker)) {
          found.push(market.ticker);
          await this.storeMetadata(kalshiMarketMetadata(market));
        }
      }
    }
    return found;
  }

  private async subscribe(markets: string[]): Promise<void> {
    for (const m of markets) this.following.add(m);
    // One reply (and sid) per channel, in the order asked.
    await this.ws.subscribe(CHANNELS, markets);
  }

  /** The book and trade channels' sids on the current connection (they change with every reconnect). */
  private bookSids(): number[] {
    return BOOK_CHANNELS.map((c) => this.ws.sidOf(c)).filter((sid): sid is number => sid !== undefined);
  }

  private deliver(event: MarketEvent): void {
    // Kalshi snapshots carry no time: they are the book as of their arrival, in the exchange's time.
    if (event.t === 'snapshot') event = { ...event, ts: this.exchangeClock.nowMs() };
    else if (event.t === 'delta' || event.t === 'trade') this.estimate?.observe(event.ts);
    // Within a market time never goes back (trades and deltas are stamped apart, a few ms out of
    // order): books and price history are kept in arrival order, as a replay clamps a recording.
    const last = this.lastTs.get(event.m) ?? -Infinity;
    if (event.ts < last) event = { ...event, ts: last };
    else this.lastTs.set(event.m, event.ts);
    this.feedCounters.events++;
    this.delivering = this.delivering.then(() => this.onEvent(event)).catch((err: Error) => {
      this.feedCounters.failures++;
      this.opts.log?.(`kalshi feed: delivering ${event.t} for ${event.m} failed: ${err.message}`);
    });
  }

  private malformed(raw: string, error: string): void {
    this.feedCounters.malformed++;
    this.opts.onMalformed?.(raw, error);
  }

  private async storeMetadata(meta: MarketMetadata): Promise<void> {
    if (!this.opts.onMarketMetadata) return;
    await this.opts.onMarketMetadata(meta, this.exchangeClock.nowMs());
    this.feedCounters.snapshotRows++;
  }

  private async handleLifecycle(msg: LifecycleMsg): Promise<void> {
    this.feedCounters.lifecycle++;
    const action = lifecycleAction(msg, this.opts.selection, this.following, this.followedBefore);
    if (action === 'ignore') return;
    const market = msg.market_ticker;
    try {
      // The message carries only what changed: the market's full row comes from REST.
      let row: Parameters<typeof kalshiMarketMetadata>[0] | undefined;
      for await (const m of this.opts.rest.markets({ tickers: market })) if (m.ticker === market) row = m;
      if (row) await this.storeMetadata(kalshiMarketMetadata(row));
      else this.opts.log?.(`kalshi feed: lifecycle ${msg.event_type} for ${market}, but GET /markets does not list it`);
      if (action === 'add') await this.addMarket(market);
      if (action === 'drop') await this.dropMarket(market);
    } catch (err) {
      this.feedCounters.failures++;
      this.opts.log?.(`kalshi feed: lifecycle ${msg.event_type} for ${market} failed: ${(err as Error).message}`);
    }
  }

  private async addMarket(market: string): Promise<void> {
    this.following.add(market);
    const sids = this.bookSids();
    if (sids.length === 0) await this.ws.subscribe(BOOK_CHANNELS, [market]);
    for (const sid of sids) await this.ws.updateSubscription(sid, 'add_markets', [market]);
    this.feedCounters.added++;
    this.opts.log?.(`kalshi feed: ${market} opened; subscribed`);
  }

  private async dropMarket(market: string): Promise<void> {
    this.following.delete(market);
    this.followedBefore.add(market);
    for (const sid of this.bookSids()) await this.ws.updateSubscription(sid, 'delete_markets', [market]);
    this.feedCounters.dropped++;
    this.opts.log?.(`kalshi feed: ${market} determined/settled; unsubscribed`);
  }
}
