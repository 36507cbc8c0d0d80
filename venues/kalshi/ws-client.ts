import WebSocket from 'ws';
import { closeSocket } from '../ws';
import type { Clock } from '../../domain/clock';
import type { MarketEvent } from '../../domain/market-data/events';
import { SequenceTracker } from '../../domain/market-data/sequence';
import { kalshiToMarketEvent } from './market-events';
import { MAX_TICKER_LENGTH, parseKalshiChannelMessage, type KalshiChannelMessage } from './ws-messages';
import { kalshiAuthHeaders, type KalshiCredentials } from './signing';

export interface KalshiWsOptions {
  /** e.g. wss://external-api-ws.kalshi.com/trade-api/ws/v2 */
  url: string;
  credentials?: KalshiCredentials;
  clock: Clock;
  onEvent: (event: MarketEvent) => void;
  /** Channels other than book/trade: ticker, fill, market_lifecycle_v2 typed; the rest as `other`. */
  onOther?: (message: KalshiChannelMessage, sid: number | undefined) => void;
  /** Books of these markets can no longer be trusted until their resync snapshot arrives. */
  onStale?: (marketTickers: string[], reason: string) => void;
  onMalformed?: (raw: string, error: string) => void;
  /** The connection dropped (not by `close`); a reconnect is on its way. */
  onDisconnect?: (reason: string) => void;
  /** After a reconnect, the subscriptions were sent again; `failed` of them could not be restored. */
  onRestored?: (failed: number) => void;
  log?: (line: string) => void;
  reconnect?: { initialMs: number; maxMs: number };
  /** No frame (message or ping) for this long means the connection is dead. */
  heartbeatTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export interface KalshiSubscribeOptions {
  /** Ask Kalshi for NO levels in YES terms (`use_yes_price`); they are converted back to NO bid prices. */
  useYesPrice?: boolean;
}

interface Subscription {
  channels: string[];
  marketTickers: string[];
  /** Server-assigned sids, one per channel, for the current connection. */
  sids: number[];
  useYesPrice: boolean;
}

interface Pending {
  /** Replies still expected (a subscribe gets one `subscribed` per channel). */
  remaining: number;
  /** A data message carrying the command's id also answers it (`get_snapshot` is answered by snapshots). */
  answeredByData: boolean;
  /** Sees each reply as it arrives, before frames queued behind it are handled. */
  onReply?: (reply: Record<string, unknown>) => void;
  replies: Record<string, unknown>[];
  resolve: (replies: Record<string, unknown>[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Frame types that only answer commands; any other frame carrying a command's id is data as well. */
const COMMAND_REPLY_TYPES = new Set(['subscribed', 'unsubscribed', 'ok', 'error']);
/** Raw frames handed to `onMalformed` are cut to this many characters. */
const MAX_REPORTED_RAW_CHARS = 2000;

const truncateRaw = (raw: string) => (raw.length > MAX_REPORTED_RAW_CHARS ? `${raw.slice(0, MAX_REPORTED_RAW_CHARS)}… (${raw.length} chars)` : raw);

/** A sid or seq as sent, if it is one: a non-negative safe integer. */
const sequenceNumber = (value: unknown): number | undefined => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined);

/** The sid a subscribe reply names: `subscribed` has it in `msg`, the `ok` of a merged subscribe at the top level. */
function replySid(reply: Record<string, unknown>): number | undefined {
  const inMsg = (reply.msg as { sid?: unknown } | undefined)?.sid;
  if (typeof inMsg === 'number') return inMsg;
  return typeof reply.sid === 'number' ? reply.sid : undefined;
}

/**
 * Kalshi WebSocket client. Signs the handshake, subscribes with command ids, tracks `seq` per sid
 * (the rule of domain/market-data/sequence.ts, shared with the replayer) and on a gap marks the
 * books of every subscription on that sid stale and asks for a snapshot; reconnects with a fresh
 * signature and backoff, then restores every subscription. Nothing a frame carries can throw out of
 * the socket listener: failures are counted as malformed with the (truncated) raw frame.
 */
export class KalshiWsClient {
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions: Subscription[] = [];
  private sequence = new SequenceTracker({ expectFilteredGaps: false });
  private closedByUser = false;
  private reconnectAttempt = 0;
  /** One pending reconnect at most: a failed attempt reports through both its promise and its socket's close. */
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Which channel each sid of the current connection carries (from the `subscribed` replies). */
  private readonly channelBySid = new Map<number, string>();
  /** Markets whose book message was refused and whose snapshot was asked for, until it arrives. */
  private readonly awaitingSnapshot = new Set<string>();
  readonly counters = { connects: 0, messages: 0, malformed: 0, gaps: 0, resyncs: 0 };

  constructor(private readonly opts: KalshiWsOptions) {}

  private log(line: string): void {
    this.opts.log?.(line);
  }

  async connect(): Promise<void> {
    this.closedByUser = false;
    await this.open();
  }

  private open(): Promise<void> {
    const path = new URL(this.opts.url).pathname;
    const headers = this.opts.credentials ? kalshiAuthHeaders(this.opts.credentials, this.opts.clock.nowMs(), 'GET', path) : {};
    const ws = new WebSocket(this.opts.url, { headers });
    this.ws = ws;
    this.sequence = new SequenceTracker({ expectFilteredGaps: false });
    this.channelBySid.clear();
    this.awaitingSnapshot.clear();
    return new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        this.counters.connects++;
        this.reconnectAttempt = 0;
        this.armHeartbeat();
        resolve();
        void this.restoreSubscriptions();
      });
      ws.once('error', (err) => {
        if (ws.readyState !== WebSocket.OPEN) reject(err);
      });
      ws.on('ping', () => this.armHeartbeat()); // `ws` answers pings with pongs itself
      ws.on('message', (data) => {
        this.armHeartbeat();
        const raw = data.toString();
        try {
          this.handle(raw);
        } catch (err) {
          // A bug triggered by one frame (here or in a callback) must not take the process down.
          this.reportMalformed(raw, `handling the frame failed: ${(err as Error).message}`);
        }
      });
      ws.on('close', (code) => {
        clearTimeout(this.heartbeat);
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`connection closed (${code}) before command ${id} was answered`));
        }
        this.pending.clear();
        // Only the current socket's end matters: an older one was replaced already.
        if (!this.closedByUser && ws === this.ws) {
          this.notify(() => this.opts.onDisconnect?.(`closed with code ${code}`));
          this.scheduleReconnect(`closed with code ${code}`);
        }
      });
    });
  }

  private armHeartbeat(): void {
    clearTimeout(this.heartbeat);
    const timeout = this.opts.heartbeatTimeoutMs ?? 30_000;
    this.heartbeat = setTimeout(() => {
      this.log(`no frames for ${timeout} ms; dropping the connection`);
      this.ws?.terminate();
    }, timeout);
  }

  private scheduleReconnect(reason: string): void {
    if (this.reconnectTimer || this.closedByUser) return;
    const { initialMs, maxMs } = this.opts.reconnect ?? { initialMs: 500, maxMs: 30_000 };
    const wait = Math.min(maxMs, initialMs * 2 ** this.reconnectAttempt++);
    const markets = [...new Set(this.subscriptions.flatMap((s) => s.marketTickers))];
    if (markets.length) this.opts.onStale?.(markets, `disconnected: ${reason}`);
    this.log(`reconnecting in ${wait} ms (${reason})`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closedByUser) return;
      this.open().catch((err: Error) => {
        this.log(`reconnect failed: ${err.message}`);
        this.scheduleReconnect(err.message);
      });
    }, wait);
  }

  private send(
    cmd: string,
    params?: Record<string, unknown>,
    expect: { replies?: number; answeredByData?: boolean; onReply?: Pending['onReply'] } = {},
  ): Promise<Record<string, unknown>[]> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`cannot send ${cmd}: not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`command ${cmd} (id ${id}) timed out`));
      }, this.opts.commandTimeoutMs ?? 10_000);
      this.pending.set(id, { remaining: expect.replies ?? 1, answeredByData: expect.answeredByData ?? false, onReply: expect.onReply, replies: [], resolve, reject, timer });
      ws.send(JSON.stringify(params ? { id, cmd, params } : { id, cmd }));
    });
  }

  /** Subscribes `channels` for `marketTickers`; resolves with the sids. Restored after every reconnect. */
  async subscribe(channels: string[], marketTickers: string[], options: KalshiSubscribeOptions = {}): Promise<number[]> {
    const subscription: Subscription = { channels, marketTickers, sids: [], useYesPrice: options.useYesPrice ?? false };
    this.subscriptions.push(subscription);
    await this.activate(subscription);
    return subscription.sids;
  }

  private async activate(subscription: Subscription): Promise<void> {
    // Kalshi answers one reply per channel, all carrying the command id: `subscribed` for a new
    // subscription, `ok` when the markets were merged into an existing one.
    // No markets named: every market (the lifecycle channel takes no market filter anyway).
    const params: Record<string, unknown> = { channels: subscription.channels, ...(subscription.marketTickers.length > 0 ? { market_tickers: subscription.marketTickers } : {}) };
    if (subscription.useYesPrice) params.use_yes_price = true;
    // Sids are taken as each reply arrives: the first snapshot can be in the same chunk as the
    // reply, and its sid must already be known (for stale marking and the YES-terms form).
    subscription.sids = [];
    await this.send('subscribe', params, {
      replies: subscription.channels.length,
      onReply: (reply) => {
        const sid = replySid(reply);
        if (sid === undefined) return;
        if (!subscription.sids.includes(sid)) subscription.sids.push(sid);
        const channel = (reply.msg as { channel?: unknown } | undefined)?.channel;
        if (typeof channel === 'string') this.channelBySid.set(sid, channel);
      },
    });
  }

  async unsubscribe(sids: number[]): Promise<void> {
    await this.send('unsubscribe', { sids });
    for (const s of this.subscriptions) s.sids = s.sids.filter((sid) => !sids.includes(sid));
    for (let i = this.subscriptions.length - 1; i >= 0; i--) if (this.subscriptions[i]!.sids.length === 0) this.subscriptions.splice(i, 1);
    for (const sid of sids) this.sequence.reset(sid);
  }

  async updateSubscription(sid: number, action: 'add_markets' | 'delete_markets' | 'get_snapshot', marketTickers: string[]): Promise<void> {
    await this.send('update_subscription', { sids: [sid], market_tickers: marketTickers, action }, { answeredByData: action === 'get_snapshot' });
    const subscription = this.subscriptions.find((s) => s.sids.includes(sid));
    if (subscription && action === 'add_markets') subscription.marketTickers = [...new Set([...subscription.marketTickers, ...marketTickers])];
    if (subscription && action === 'delete_markets') subscription.marketTickers = subscription.marketTickers.filter((m) => !marketTickers.includes(m));
  }

  private async restoreSubscriptions(): Promise<void> {
    // Only a reconnect has anything to restore; `subscribe` activates new subscriptions itself.
    if (this.counters.connects <= 1) return;
    let failed = 0;
    for (const subscription of this.subscriptions) {
      try {
        await this.activate(subscription);
      } catch (err) {
        failed++;
        this.log(`restoring subscription ${subscription.channels.join(',')} failed: ${(err as Error).message}`);
      }
    }
    if (!this.closedByUser) this.notify(() => this.opts.onRestored?.(failed));
  }

  /** A callback's failure is logged: it must not break the socket's own handling. */
  private notify(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log(`connection callback threw: ${(err as Error).message}`);
    }
  }

  /** The sid that carries `channel` on the current connection (sids change with every reconnect). */
  sidOf(channel: string): number | undefined {
    for (const [sid, c] of this.channelBySid) if (c === channel) return sid;
    return undefined;
  }

  private resync(sid: number, reason: string): void {
    const channel = this.channelBySid.get(sid);
    if (channel !== undefined && channel !== 'orderbook_delta') {
      // Lost trades or lifecycle news cannot be asked for again, and no book depends on them.
      this.sequence.reset(sid);
      this.log(`${reason}: messages lost on the ${channel} channel (no snapshot to resync)`);
      return;
    }
    // Merged subscribes share a sid: every subscription on it has lost messages.
    const affected = this.subscriptions.filter((s) => s.sids.includes(sid));
    if (affected.length === 0) return;
    const markets = [...new Set(affected.flatMap((s) => s.marketTickers))];
    this.counters.resyncs++;
    this.opts.onStale?.(markets, reason);
    this.sequence.reset(sid);
    // Ask for fresh snapshots; if the server refuses, resubscribe from scratch.
    this.updateSubscription(sid, 'get_snapshot', markets).catch(async (err: Error) => {
      this.log(`get_snapshot for sid ${sid} failed (${err.message}); resubscribing`);
      await this.unsubscribe([...new Set(affected.flatMap((s) => s.sids))]).catch(() => {});
      for (const subscription of affected) {
        if (!this.subscriptions.includes(subscription)) this.subscriptions.push(subscription);
        await this.activate(subscription).catch((e: Error) => this.log(`resubscribe failed: ${e.message}`));
      }
    });
  }

  /**
   * A book message of one market was refused: that book missed an update, so it alone is marked
   * stale and its snapshot asked for (once until it arrives, however many messages are refused).
   */
  private resyncMarket(sid: number | undefined, msg: unknown, error: string): void {
    const market = (msg as { market_ticker?: unknown } | null | undefined)?.market_ticker;
    if (typeof market !== 'string' || market.length > MAX_TICKER_LENGTH) return;
    const follows = (s: Subscription) => s.channels.includes('orderbook_delta') && (s.marketTickers.length === 0 || s.marketTickers.includes(market));
    if (!this.subscriptions.some(follows)) return;
    this.notify(() => this.opts.onStale?.([market], `refused book message: ${error}`.slice(0, 400)));
    // Without a usable sid the snapshot cannot be asked for on it: the market's next snapshot re-bases it.
    if (sid === undefined || !this.subscriptions.some((s) => s.sids.includes(sid) && follows(s)) || this.awaitingSnapshot.has(market)) return;
    this.awaitingSnapshot.add(market);
    this.counters.resyncs++;
    this.updateSubscription(sid, 'get_snapshot', [market]).catch((err: Error) => {
      this.awaitingSnapshot.delete(market);
      this.log(`get_snapshot for ${market} failed: ${err.message}`);
    });
  }

  private usesYesPrice(sid: number | undefined): boolean {
    return sid !== undefined && this.subscriptions.some((s) => s.useYesPrice && s.sids.includes(sid));
  }

  private reportMalformed(raw: string, error: string): void {
    this.counters.malformed++;
    try {
      this.opts.onMalformed?.(truncateRaw(raw), error);
    } catch (err) {
      this.log(`onMalformed threw: ${(err as Error).message}`);
    }
  }

  /** Records one reply (or answering data message) of a pending command; resolves it when complete. */
  private answer(id: number, pending: Pending, frame: Record<string, unknown>): void {
    pending.replies.push(frame);
    pending.onReply?.(frame);
    if (--pending.remaining > 0) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(pending.replies);
  }

  /** Whether a sid-numbered frame is in order; a gap or regression starts a resync of that sid. */
  private inSequence(sid: number, seq: number, type: string): boolean {
    const verdict = this.sequence.observe(sid, seq, type === 'orderbook_snapshot');
    if (verdict === 'gap' || verdict === 'regression') {
      this.counters.gaps++;
      this.resync(sid, `seq ${verdict} on sid ${sid} at ${seq}`);
      return false;
    }
    return verdict !== 'duplicate';
  }

  private handle(raw: string): void {
    this.counters.messages++;
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(raw) as Record<string, unknown>;
      if (typeof frame !== 'object' || frame === null || Array.isArray(frame) || typeof frame.type !== 'string') throw new Error('frame has no type');
    } catch (err) {
      this.reportMalformed(raw, (err as Error).message);
      return;
    }
    const type = frame.type as string;
    const id = typeof frame.id === 'number' ? frame.id : undefined;
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (type === 'error') {
      if (pending) {
        this.pending.delete(id!);
        clearTimeout(pending.timer);
        pending.reject(new Error(`Kalshi error ${JSON.stringify(frame.msg)}`));
      } else this.log(`Kalshi error: ${JSON.stringify(frame.msg)}`);
      return;
    }
    const isReply = COMMAND_REPLY_TYPES.has(type);
    const isBook = type === 'orderbook_snapshot' || type === 'orderbook_delta';
    const sid = sequenceNumber(frame.sid);
    const seq = sequenceNumber(frame.seq);
    // A number that is not a sequence number cannot be checked, and book messages must be numbered
    // (spec: sid and seq are required): such a frame is refused rather than applied unchecked.
    if ((frame.sid !== undefined && sid === undefined) || (frame.seq !== undefined && seq === undefined) || (isBook && (sid === undefined || seq === undefined))) {
      if (pending) this.answer(id!, pending, frame);
      this.reportMalformed(raw, `frame has an invalid or missing sid/seq (sid ${String(frame.sid)}, seq ${String(frame.seq)})`);
      if (isBook) this.resyncMarket(sid, frame.msg, 'book message without a valid sid/seq');
      return;
    }
    // Replies that carry a seq (an `ok` to update_subscription) use up a number of their sid too;
    // `unsubscribed` ends its sid, so there is nothing left to check.
    const ordered = sid === undefined || seq === undefined || type === 'unsubscribed' || this.inSequence(sid, seq, type);
    if (pending && (isReply || pending.answeredByData)) this.answer(id!, pending, frame);
    // A data message is data whatever id it carries: it still goes to the book.
    if ((isReply && pending) || !ordered) return;
    const event = kalshiToMarketEvent(type, frame.msg, this.opts.clock.nowMs(), { noInYesTerms: this.usesYesPrice(sid) });
    if (event === undefined) {
      const other = parseKalshiChannelMessage(type, frame.msg);
      if (other.ok) this.opts.onOther?.(other.value, sid);
      else this.reportMalformed(raw, other.error);
    } else if (!event.ok) {
      this.reportMalformed(raw, event.error);
      if (isBook) this.resyncMarket(sid, frame.msg, event.error);
    } else {
      if (event.value.t === 'snapshot') this.awaitingSnapshot.delete(event.value.m);
      this.opts.onEvent(event.value);
    }
  }

  async close(): Promise<void> {
    this.closedByUser = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearTimeout(this.heartbeat);
    await closeSocket(this.ws);
  }

}
