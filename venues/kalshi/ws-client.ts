import WebSocket from 'ws';
import { closeSocket } from '../ws';
import type { Clock } from '../../domain/clock';
import type { MarketEvent } from '../../domain/market-data/events';
import { SequenceTracker } from '../../domain/market-data/sequence';
import { kalshiToMarketEvent } from './market-events';
import { parseKalshiChannelMessage, type KalshiChannelMessage } from './ws-messages';
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
  log?: (line: string) => void;
  reconnect?: { initialMs: number; maxMs: number };
  /** No frame (message or ping) for this long means the connection is dead. */
  heartbeatTimeoutMs?: number;
  commandTimeoutMs?: number;
}

interface Subscription {
  channels: string[];
  marketTickers: string[];
  /** Server-assigned sids, one per channel, for the current connection. */
  sids: number[];
}

interface Pending {
  /** Replies still expected (a subscribe gets one `subscribed` per channel). */
  remaining: number;
  replies: Record<string, unknown>[];
  resolve: (replies: Record<string, unknown>[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Kalshi WebSocket client. Signs the handshake, subscribes with command ids, tracks `seq` per sid
 * and on a gap marks that subscription's books stale and asks for a snapshot; reconnects with a
 * fresh signature and backoff, then restores every subscription.
 */
export class KalshiWsClient {
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions: Subscription[] = [];
  private sequence = new SequenceTracker({ expectFilteredGaps: false });
  private closedByUser = false;
  private reconnectAttempt = 0;
  private heartbeat: NodeJS.Timeout | undefined;
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
        this.handle(data.toString());
      });
      ws.on('close', (code) => {
        clearTimeout(this.heartbeat);
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`connection closed (${code}) before command ${id} was answered`));
        }
        this.pending.clear();
        if (!this.closedByUser) this.scheduleReconnect(`closed with code ${code}`);
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
    const { initialMs, maxMs } = this.opts.reconnect ?? { initialMs: 500, maxMs: 30_000 };
    const wait = Math.min(maxMs, initialMs * 2 ** this.reconnectAttempt++);
    const markets = [...new Set(this.subscriptions.flatMap((s) => s.marketTickers))];
    if (markets.length) this.opts.onStale?.(markets, `disconnected: ${reason}`);
    this.log(`reconnecting in ${wait} ms (${reason})`);
    setTimeout(() => {
      if (this.closedByUser) return;
      this.open().catch((err: Error) => {
        this.log(`reconnect failed: ${err.message}`);
        this.scheduleReconnect(err.message);
      });
    }, wait);
  }

  private send(cmd: string, params?: Record<string, unknown>, expectedReplies = 1): Promise<Record<string, unknown>[]> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`cannot send ${cmd}: not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`command ${cmd} (id ${id}) timed out`));
      }, this.opts.commandTimeoutMs ?? 10_000);
      this.pending.set(id, { remaining: expectedReplies, replies: [], resolve, reject, timer });
      ws.send(JSON.stringify(params ? { id, cmd, params } : { id, cmd }));
    });
  }

  /** Subscribes `channels` for `marketTickers`; resolves with the sids. Restored after every reconnect. */
  async subscribe(channels: string[], marketTickers: string[]): Promise<number[]> {
    const subscription: Subscription = { channels, marketTickers, sids: [] };
    this.subscriptions.push(subscription);
    await this.activate(subscription);
    return subscription.sids;
  }

  private async activate(subscription: Subscription): Promise<void> {
    // Kalshi answers one `subscribed` per channel, all carrying the command id.
    const replies = await this.send('subscribe', { channels: subscription.channels, market_tickers: subscription.marketTickers }, subscription.channels.length);
    subscription.sids = replies.map((r) => (r.msg as { sid?: number } | undefined)?.sid).filter((sid): sid is number => typeof sid === 'number');
  }

  async unsubscribe(sids: number[]): Promise<void> {
    await this.send('unsubscribe', { sids });
    for (const s of this.subscriptions) s.sids = s.sids.filter((sid) => !sids.includes(sid));
    for (let i = this.subscriptions.length - 1; i >= 0; i--) if (this.subscriptions[i]!.sids.length === 0) this.subscriptions.splice(i, 1);
    for (const sid of sids) this.sequence.reset(sid);
  }

  async updateSubscription(sid: number, action: 'add_markets' | 'delete_markets' | 'get_snapshot', marketTickers: string[]): Promise<void> {
    await this.send('update_subscription', { sids: [sid], market_tickers: marketTickers, action });
    const subscription = this.subscriptions.find((s) => s.sids.includes(sid));
    if (subscription && action === 'add_markets') subscription.marketTickers = [...new Set([...subscription.marketTickers, ...marketTickers])];
    if (subscription && action === 'delete_markets') subscription.marketTickers = subscription.marketTickers.filter((m) => !marketTickers.includes(m));
  }

  private async restoreSubscriptions(): Promise<void> {
    // Only a reconnect has anything to restore; `subscribe` activates new subscriptions itself.
    if (this.counters.connects <= 1) return;
    for (const subscription of this.subscriptions) {
      try {
        await this.activate(subscription);
      } catch (err) {
        this.log(`restoring subscription ${subscription.channels.join(',')} failed: ${(err as Error).message}`);
      }
    }
  }

  private resync(sid: number, reason: string): void {
    const subscription = this.subscriptions.find((s) => s.sids.includes(sid));
    if (!subscription) return;
    this.counters.resyncs++;
    this.opts.onStale?.(subscription.marketTickers, reason);
    this.sequence.reset(sid);
    // Ask for fresh snapshots; if the server refuses, resubscribe from scratch.
    this.updateSubscription(sid, 'get_snapshot', subscription.marketTickers).catch(async (err: Error) => {
      this.log(`get_snapshot for sid ${sid} failed (${err.message}); resubscribing`);
      await this.unsubscribe(subscription.sids).catch(() => {});
      this.subscriptions.push(subscription);
      await this.activate(subscription).catch((e: Error) => this.log(`resubscribe failed: ${e.message}`));
    });
  }

  private handle(raw: string): void {
    this.counters.messages++;
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(raw) as Record<string, unknown>;
      if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') throw new Error('frame has no type');
    } catch (err) {
      this.counters.malformed++;
      this.opts.onMalformed?.(raw, (err as Error).message);
      return;
    }
    const type = frame.type as string;
    const id = typeof frame.id === 'number' ? frame.id : undefined;
    if (id !== undefined && this.pending.has(id)) {
      const p = this.pending.get(id)!;
      if (type === 'error') {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new Error(`Kalshi error ${JSON.stringify(frame.msg)}`));
        return;
      }
      p.replies.push(frame);
      if (--p.remaining <= 0) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.resolve(p.replies);
      }
      return;
    }
    if (type === 'error') {
      this.log(`Kalshi error: ${JSON.stringify(frame.msg)}`);
      return;
    }
    const sid = typeof frame.sid === 'number' ? frame.sid : undefined;
    const seq = typeof frame.seq === 'number' ? frame.seq : undefined;
    if (sid !== undefined && seq !== undefined) {
      // A snapshot starts the sid's numbering afresh (after a resync or a new subscription).
      if (type === 'orderbook_snapshot') this.sequence.reset(sid);
      const verdict = this.sequence.observe(sid, seq);
      if (verdict === 'gap' || verdict === 'regression') {
        this.counters.gaps++;
        this.resync(sid, `seq ${verdict} on sid ${sid} at ${seq}`);
        return;
      }
      if (verdict === 'duplicate') return;
    }
    const event = kalshiToMarketEvent(type, frame.msg, this.opts.clock.nowMs());
    if (event === undefined) {
      const other = parseKalshiChannelMessage(type, frame.msg);
      if (other.ok) this.opts.onOther?.(other.value, sid);
      else {
        this.counters.malformed++;
        this.opts.onMalformed?.(raw, other.error);
      }
    } else if (!event.ok) {
      this.counters.malformed++;
      this.opts.onMalformed?.(raw, event.error);
    } else this.opts.onEvent(event.value);
  }

  async close(): Promise<void> {
    this.closedByUser = true;
    clearTimeout(this.heartbeat);
    await closeSocket(this.ws);
  }

}
