import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { describeIssues } from '../../../domain/validation';
import { closeSocket } from '../../ws';
import type { EmulatorExchangeView, EmulatorMarketMessage, EmulatorUserMessage, EmulatorWsControl } from './types';

/**
 * The emulator's Kalshi WebSocket endpoint (AsyncAPI 2026-03): signed handshake, subscribe /
 * unsubscribe / update_subscription / list_subscriptions with Kalshi's replies and error codes,
 * per-sid `seq`, heartbeat pings, and the faults the admin endpoint injects.
 *
 * `seq`: one counter per sid across all its markets, on orderbook_snapshot/_delta, trade and
 * market_lifecycle_v2 messages (ticker and the private channels carry none, as on Kalshi). An `ok`
 * reports the sid's last seq without using a number, so a client's gap check is not tripped by a
 * reply it consumes elsewhere; `unsubscribed` is the sid's last message and takes the next one.
 */

/** Kalshi's WS error codes (AsyncAPI `errorCodes`); `msg` of an error reply is the name, as Kalshi sends it. */
const ERROR_NAMES = {
  1: 'Unable to process message',
  2: 'Params required',
  3: 'Channels required',
  4: 'Subscription IDs required',
  5: 'Unknown command',
  6: 'Already subscribed',
  7: 'Unknown subscription ID',
  8: 'Unknown channel name',
  10: 'Channel error',
  11: 'Invalid parameter',
  12: 'Exactly one subscription ID is required',
  13: 'Unsupported action',
  14: 'Market Ticker required',
  15: 'Action required',
  16: 'Market not found',
  17: 'Internal error',
  19: 'shard_factor must be > 0',
  20: 'shard_factor is required when shard_key is set',
  21: 'shard_key must be >= 0 and < shard_factor',
  22: 'shard_factor must be <= 100',
} as const;
type ErrorCode = keyof typeof ERROR_NAMES;

interface ChannelRule {
  /** Its messages carry a per-sid `seq` (Kalshi: orderbook, trade, lifecycle, order groups; not ticker or the private feeds). */
  sequenced: boolean;
  /** market_ticker(s): required, optional (none = every market), or not a filter (always every market). */
  markets: 'required' | 'optional' | 'unfiltered';
}

const CHANNELS: Record<string, ChannelRule> = {
  orderbook_delta: { sequenced: true, markets: 'required' },
  trade: { sequenced: true, markets: 'optional' },
  ticker: { sequenced: false, markets: 'optional' },
  market_lifecycle_v2: { sequenced: true, markets: 'unfiltered' },
  fill: { sequenced: false, markets: 'optional' },
  user_orders: { sequenced: false, markets: 'optional' },
  market_positions: { sequenced: false, markets: 'optional' },
  // Valid Kalshi channels the emulator has no data for (no multivariate collections, RFQs or order
  // groups): subscribing succeeds, as on Kalshi, and they stay silent.
  multivariate: { sequenced: false, markets: 'unfiltered' },
  communications: { sequenced: false, markets: 'unfiltered' },
  order_group_updates: { sequenced: true, markets: 'unfiltered' },
};

interface Subscription {
  sid: number;
  channel: string;
  /** undefined: every market. */
  markets: Set<string> | undefined;
  /** Last `seq` used on this sid (one counter across all its markets). */
  seq: number;
  /** `skip_ticker_ack`: `ok` replies leave out the market list. */
  skipTickerAck: boolean;
}

class ClientConnection {
  readonly subscriptions = new Map<number, Subscription>();
  private nextSid = 1;
  awaitingPong = false;
  /** Being dropped (fault, slow reader, missed pong): send nothing more. */
  dropped = false;

  constructor(
    readonly ws: WebSocket,
    readonly apiKeyId: string,
    readonly number: number,
  ) {}

  get label(): string {
    return `connection #${this.number} (key ${this.apiKeyId})`;
  }

  allocateSid(): number {
    return this.nextSid++;
  }

  subscriptionOn(channel: string): Subscription | undefined {
    for (const sub of this.subscriptions.values()) if (sub.channel === channel) return sub;
    return undefined;
  }
}

/** A refused command: answered with Kalshi's `error` reply carrying the command id. */
class CommandError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly marketTicker?: string,
  ) {
    super(detail);
  }
}

export interface KalshiWsServerOptions {
  path: string;
  /** Kalshi pings every 10 s; a client that has not answered the previous ping by the next is dropped. */
  pingEveryMs?: number;
  /** A client whose unsent data exceeds this is too slow to keep up and is dropped (default 4 MiB). */
  maxBufferedBytes?: number;
  /** Largest command frame accepted; a bigger one closes that connection (default 1 MiB). */
  maxFrameBytes?: number;
}

export interface KalshiWsCounters {
  /** Connections accepted since start. */
  connections: number;
  /** Data messages (channel messages, not command replies) written to sockets. */
  messagesSent: number;
  /** Sequenced data messages skipped by `dropNextMessages`. */
  messagesDropped: number;
  /** Connections the server dropped: injected disconnects, slow readers, missed pongs. */
  disconnects: number;
  slowClientDrops: number;
  missedPongDrops: number;
  handshakesRefused: number;
  /** Commands answered with an error (malformed frames included). */
  commandErrors: number;
}

const tickerList = z.array(z.string().min(1)).min(1);
const sidList = z.array(z.number().int().positive()).min(1);
const UPDATE_ACTIONS = ['add_markets', 'delete_markets', 'get_snapshot'] as const;
type UpdateAction = (typeof UPDATE_ACTIONS)[number];

/** At most this much of a bad frame goes into the log. */
const RAW_LOG_LIMIT = 500;
const clip = (raw: string) => (raw.length > RAW_LOG_LIMIT ? `${raw.slice(0, RAW_LOG_LIMIT)}… (${raw.length} chars)` : raw);
const unique = <T>(items: readonly T[]): T[] => [...new Set(items)];
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class KalshiWsServer implements EmulatorWsControl {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<ClientConnection>();
  private readonly stopListening: (() => void)[] = [];
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxBufferedBytes: number;
  private dropRemaining = 0;
  private closing: Promise<void> | undefined;
  readonly counters: KalshiWsCounters = {
    connections: 0,
    messagesSent: 0,
    messagesDropped: 0,
    disconnects: 0,
    slowClientDrops: 0,
    missedPongDrops: 0,
    handshakesRefused: 0,
    commandErrors: 0,
  };

  constructor(
    private readonly server: Server,
    private readonly view: EmulatorExchangeView,
    private readonly opts: KalshiWsServerOptions,
  ) {
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes ?? 1024 * 1024 });
    server.on('upgrade', this.onUpgrade);
    this.stopListening.push(view.onMarketMessage((m) => this.fanOutMarket(m)));
    this.stopListening.push(view.onUserMessage((key, m) => this.fanOutUser(key, m)));
    this.heartbeat = setInterval(() => this.pingAll(), opts.pingEveryMs ?? 10_000);
    this.heartbeat.unref();
  }

  // ---- connections ----

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', (err) => this.view.log(`ws: upgrade socket error: ${err.message}`));
    const pathname = new URL(req.url ?? '/', 'http://emulator').pathname;
    if (pathname !== this.opts.path) {
      // Leave other paths to other upgrade handlers; with none, nobody would ever answer.
      if (this.server.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404, `no WebSocket endpoint at ${pathname}`);
      return;
    }
    let verdict: ReturnType<EmulatorExchangeView['verifyHandshake']>;
    try {
      verdict = this.view.verifyHandshake(req.headers, pathname);
    } catch (err) {
      this.view.log(`ws: handshake check failed: ${(err as Error).message}`);
      refuseUpgrade(socket, 500, 'handshake check failed');
      return;
    }
    if (!verdict.ok) {
      this.counters.handshakesRefused++;
      this.view.log(`ws: handshake refused (${verdict.status}): ${verdict.message}`);
      refuseUpgrade(socket, verdict.status, verdict.message);
      return;
    }
    const { apiKeyId } = verdict;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, apiKeyId));
  };

  private accept(ws: WebSocket, apiKeyId: string): void {
    const conn = new ClientConnection(ws, apiKeyId, ++this.counters.connections);
    this.connections.add(conn);
    this.view.log(`ws: ${conn.label} opened`);
    ws.on('message', (data: Buffer) => this.handleFrame(conn, data.toString('utf8')));
    ws.on('pong', () => {
      conn.awaitingPong = false;
    });
    ws.on('error', (err) => this.view.log(`ws: ${conn.label} error: ${err.message}`));
    ws.on('close', (code) => {
      this.connections.delete(conn);
      this.view.log(`ws: ${conn.label} closed (${code})`);
    });
  }

  private pingAll(): void {
    for (const conn of this.connections) {
      if (!this.isLive(conn)) continue;
      if (conn.awaitingPong) {
        this.counters.missedPongDrops++;
        this.drop(conn, 'no pong since the last heartbeat ping');
        continue;
      }
      conn.awaitingPong = true;
      conn.ws.ping('heartbeat');
    }
  }

  /** Ends a connection as a network failure would: no close handshake. */
  private drop(conn: ClientConnection, reason: string): void {
    conn.dropped = true;
    this.counters.disconnects++;
    this.view.log(`ws: dropping ${conn.label}: ${reason}`);
    conn.ws.terminate();
  }

  // ---- sending ----

  private isLive(conn: ClientConnection): boolean {
    return !conn.dropped && conn.ws.readyState === conn.ws.OPEN;
  }

  private send(conn: ClientConnection, frame: Record<string, unknown>): boolean {
    if (!this.isLive(conn)) return false;
    if (conn.ws.bufferedAmount > this.maxBufferedBytes) {
      this.dropSlowReader(conn);
      return false;
    }
    conn.ws.send(JSON.stringify(frame));
    return true;
  }

  private dropSlowReader(conn: ClientConnection): void {
    conn.dropped = true;
    this.counters.disconnects++;
    this.counters.slowClientDrops++;
    this.view.log(`ws: dropping ${conn.label}: ${conn.ws.bufferedAmount} bytes unsent (limit ${this.maxBufferedBytes}); the client is not reading`);
    // The close frame queues behind the unread data, so the socket is cut shortly after regardless.
    conn.ws.close(1008, 'too slow: send buffer limit exceeded');
    setTimeout(() => conn.ws.terminate(), 1000).unref();
  }

  /** A channel message on `sub`: `{type, sid, seq?, msg}`, with `id` when it answers a command. */
  private sendData(conn: ClientConnection, sub: Subscription, type: string, msg: Record<string, unknown>, commandId?: number): void {
    if (!this.isLive(conn)) return;
    const frame: Record<string, unknown> = commandId === undefined ? {} : { id: commandId };
    frame.type = type;
    frame.sid = sub.sid;
    if (CHANNELS[sub.channel]!.sequenced) {
      frame.seq = ++sub.seq;
      // The number is spent either way, so the subscriber sees a gap.
      if (this.dropRemaining > 0) {
        this.dropRemaining--;
        this.counters.messagesDropped++;
        return;
      }
    }
    frame.msg = msg;
    if (this.send(conn, frame)) this.counters.messagesSent++;
  }

  private reply(conn: ClientConnection, commandId: number | undefined, frame: Record<string, unknown>): void {
    this.send(conn, commandId === undefined ? frame : { id: commandId, ...frame });
  }

  private replyError(conn: ClientConnection, commandId: number | undefined, error: CommandError, raw: string): void {
    this.counters.commandErrors++;
    this.view.log(`ws: ${conn.label} error ${error.code} (${ERROR_NAMES[error.code]}: ${error.detail}) for ${clip(raw)}`);
    const msg: Record<string, unknown> = { code: error.code, msg: ERROR_NAMES[error.code] };
    if (error.marketTicker !== undefined) msg.market_ticker = error.marketTicker;
    this.reply(conn, commandId, { type: 'error', msg });
  }

  private replyOk(conn: ClientConnection, commandId: number | undefined, sub: Subscription): void {
    // `seq` reports where the sid stands without using a number (it is a reply, not data).
    const frame: Record<string, unknown> = { sid: sub.sid };
    if (sub.seq > 0) frame.seq = sub.seq;
    frame.type = 'ok';
    if (!sub.skipTickerAck && sub.markets) frame.msg = { market_tickers: [...sub.markets] };
    this.reply(conn, commandId, frame);
  }

  private sendSnapshots(conn: ClientConnection, sub: Subscription, marketTickers: readonly string[], commandId?: number): void {
    for (const ticker of marketTickers) {
      const snapshot = this.view.snapshot(ticker);
      if (snapshot === undefined) {
        this.view.log(`ws: no order book for ${ticker}; no snapshot sent on sid ${sub.sid} of ${conn.label}`);
        continue;
      }
      this.sendData(conn, sub, 'orderbook_snapshot', snapshot, commandId);
    }
  }

  // ---- fan-out ----

  private fanOutMarket(message: EmulatorMarketMessage): void {
    try {
      for (const conn of this.connections) this.deliver(conn, message);
    } catch (err) {
      this.view.log(`ws: delivering ${message.type} for ${message.marketTicker} failed: ${(err as Error).message}`);
    }
  }

  private fanOutUser(apiKeyId: string, message: EmulatorUserMessage): void {
    try {
      for (const conn of this.connections) if (conn.apiKeyId === apiKeyId) this.deliver(conn, message);
    } catch (err) {
      this.view.log(`ws: delivering ${message.type} for ${apiKeyId} failed: ${(err as Error).message}`);
    }
  }

  private deliver(conn: ClientConnection, message: EmulatorMarketMessage | EmulatorUserMessage): void {
    const sub = conn.subscriptionOn(message.channel);
    if (sub && (sub.markets === undefined || sub.markets.has(message.marketTicker))) this.sendData(conn, sub, message.type, message.msg);
  }

  // ---- commands ----

  private handleFrame(conn: ClientConnection, raw: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(raw);
    } catch (err) {
      this.replyError(conn, undefined, new CommandError(1, `not JSON: ${(err as Error).message}`), raw);
      return;
    }
    if (!isPlainObject(frame)) {
      this.replyError(conn, undefined, new CommandError(1, 'a command is a JSON object'), raw);
      return;
    }
    const idValid = frame.id === undefined || (typeof frame.id === 'number' && Number.isSafeInteger(frame.id) && frame.id >= 0);
    // An id of 0 counts as no id (AsyncAPI `commandId`).
    const id = idValid && typeof frame.id === 'number' && frame.id > 0 ? frame.id : undefined;
    try {
      if (!idValid) throw new CommandError(11, `id must be a non-negative integer, got ${JSON.stringify(frame.id)}`);
      if (frame.params !== undefined && !isPlainObject(frame.params)) throw new CommandError(11, 'params must be an object');
      const params = frame.params;
      switch (frame.cmd) {
        case 'subscribe':
          return this.subscribe(conn, id, requireParams(params), raw);
        case 'unsubscribe':
          return this.unsubscribe(conn, id, requireParams(params), raw);
        case 'update_subscription':
          return this.updateSubscription(conn, id, requireParams(params));
        case 'list_subscriptions':
          return this.reply(conn, id, { type: 'ok', msg: [...conn.subscriptions.values()].map((s) => ({ channel: s.channel, sid: s.sid })) });
        default:
          throw typeof frame.cmd === 'string' ? new CommandError(5, `unknown command ${frame.cmd}`) : new CommandError(1, 'cmd is missing or not a string');
      }
    } catch (err) {
      const error = err instanceof CommandError ? err : new CommandError(17, `${(err as Error).message}`);
      if (!(err instanceof CommandError)) this.view.log(`ws: internal error handling ${clip(raw)}: ${(err as Error).stack ?? String(err)}`);
      this.replyError(conn, id, error, raw);
    }
  }

  /** The markets a command names, validated; undefined when it names none. */
  private requestedMarkets(params: Record<string, unknown>): string[] | undefined {
    if (params.market_id !== undefined || params.market_ids !== undefined) {
      throw new CommandError(11, 'the emulator addresses markets by market_ticker(s) only');
    }
    const { market_ticker: single, market_tickers: many } = params;
    if (single !== undefined && many !== undefined) throw new CommandError(11, 'market_ticker and market_tickers are mutually exclusive');
    let tickers: string[];
    if (single !== undefined) {
      if (typeof single !== 'string' || single === '') throw new CommandError(11, 'market_ticker must be a non-empty string');
      tickers = [single];
    } else if (many !== undefined) {
      const parsed = tickerList.safeParse(many);
      if (!parsed.success) throw new CommandError(11, `market_tickers: ${describeIssues(parsed.error.issues, 3)}`);
      tickers = unique(parsed.data);
    } else return undefined;
    const known = new Set(this.view.marketTickers());
    const unknown = tickers.find((t) => !known.has(t));
    if (unknown !== undefined) throw new CommandError(16, `no market ${unknown}`, unknown);
    return tickers;
  }

  private subscribe(conn: ClientConnection, id: number | undefined, params: Record<string, unknown>, raw: string): void {
    if (params.channels === undefined || (Array.isArray(params.channels) && params.channels.length === 0)) {
      throw new CommandError(3, 'subscribe needs a non-empty channels array');
    }
    const channelsParsed = z.array(z.string()).safeParse(params.channels);
    if (!channelsParsed.success) throw new CommandError(11, `channels: ${describeIssues(channelsParsed.error.issues, 3)}`);
    const channels = unique(channelsParsed.data);
    const unknownChannel = channels.find((c) => !Object.hasOwn(CHANNELS, c));
    if (unknownChannel !== undefined) throw new CommandError(8, `no channel ${unknownChannel}`);
    if (params.skip_ticker_ack !== undefined && typeof params.skip_ticker_ack !== 'boolean') throw new CommandError(11, 'skip_ticker_ack must be a boolean');
    checkSharding(params);
    const markets = this.requestedMarkets(params);
    const needsMarkets = channels.find((c) => CHANNELS[c]!.markets === 'required');
    if (needsMarkets !== undefined && markets === undefined) throw new CommandError(14, `${needsMarkets} needs market_ticker or market_tickers`);

    // One reply per channel: `subscribed`, `ok` (merged into this connection's subscription), or an error.
    for (const channel of channels) {
      const wanted = CHANNELS[channel]!.markets === 'unfiltered' ? undefined : markets;
      const existing = conn.subscriptionOn(channel);
      if (existing) {
        this.mergeSubscription(conn, id, existing, wanted, raw);
        continue;
      }
      const sub: Subscription = {
        sid: conn.allocateSid(),
        channel,
        markets: wanted && new Set(wanted),
        seq: 0,
        skipTickerAck: params.skip_ticker_ack === true,
      };
      conn.subscriptions.set(sub.sid, sub);
      this.reply(conn, id, { type: 'subscribed', msg: { channel, sid: sub.sid } });
      if (channel === 'orderbook_delta') this.sendSnapshots(conn, sub, wanted ?? []);
    }
  }

  private mergeSubscription(conn: ClientConnection, id: number | undefined, sub: Subscription, wanted: string[] | undefined, raw: string): void {
    const added = sub.markets && wanted ? wanted.filter((m) => !sub.markets!.has(m)) : [];
    if (added.length === 0) {
      this.replyError(conn, id, new CommandError(6, `${sub.channel} is already subscribed as sid ${sub.sid}`), raw);
      return;
    }
    for (const m of added) sub.markets!.add(m);
    this.replyOk(conn, id, sub);
    if (sub.channel === 'orderbook_delta') this.sendSnapshots(conn, sub, added);
  }

  private unsubscribe(conn: ClientConnection, id: number | undefined, params: Record<string, unknown>, raw: string): void {
    if (params.sids === undefined || (Array.isArray(params.sids) && params.sids.length === 0)) throw new CommandError(4, 'unsubscribe needs a non-empty sids array');
    const parsed = sidList.safeParse(params.sids);
    if (!parsed.success) throw new CommandError(11, `sids: ${describeIssues(parsed.error.issues, 3)}`);
    for (const sid of unique(parsed.data)) {
      const sub = conn.subscriptions.get(sid);
      if (!sub) {
        this.replyError(conn, id, new CommandError(7, `no sid ${sid} on this connection`), raw);
        continue;
      }
      conn.subscriptions.delete(sid);
      // The sid's last message, numbered in its stream.
      this.reply(conn, id, { sid, seq: ++sub.seq, type: 'unsubscribed' });
    }
  }

  private updateSubscription(conn: ClientConnection, id: number | undefined, params: Record<string, unknown>): void {
    if (params.action === undefined) throw new CommandError(15, 'update_subscription needs an action');
    if (!UPDATE_ACTIONS.includes(params.action as UpdateAction)) throw new CommandError(13, `action must be one of ${UPDATE_ACTIONS.join(', ')}`);
    const action = params.action as UpdateAction;
    const sid = singleSid(params);
    const sub = conn.subscriptions.get(sid);
    if (!sub) throw new CommandError(7, `no sid ${sid} on this connection`);
    const markets = this.requestedMarkets(params);
    if (markets === undefined) throw new CommandError(14, `${action} needs market_ticker or market_tickers`);

    if (action === 'get_snapshot') {
      if (sub.channel !== 'orderbook_delta') throw new CommandError(13, `get_snapshot is for orderbook_delta, sid ${sub.sid} is ${sub.channel}`);
      const outside = markets.find((m) => !sub.markets!.has(m));
      if (outside !== undefined) throw new CommandError(16, `${outside} is not in sid ${sub.sid}`, outside);
      this.replyOk(conn, id, sub);
      this.sendSnapshots(conn, sub, markets, id);
      return;
    }
    if (!sub.markets) throw new CommandError(10, `sid ${sub.sid} (${sub.channel}) covers every market; it has no market list to change`);
    if (action === 'add_markets') {
      const added = markets.filter((m) => !sub.markets!.has(m));
      for (const m of added) sub.markets.add(m);
      this.replyOk(conn, id, sub);
      if (sub.channel === 'orderbook_delta') this.sendSnapshots(conn, sub, added);
      return;
    }
    for (const m of markets) sub.markets.delete(m);
    this.replyOk(conn, id, sub);
  }

  // ---- faults and lifecycle ----

  disconnectAll(reason: string): number {
    const open = [...this.connections].filter((c) => !c.dropped);
    this.view.log(`ws fault: disconnecting all ${open.length} connection(s): ${reason}`);
    for (const conn of open) this.drop(conn, `injected disconnect: ${reason}`);
    return open.length;
  }

  dropNextMessages(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`dropNextMessages needs a non-negative integer, got ${n}`);
    this.dropRemaining += n;
    this.view.log(`ws fault: dropping the next ${n} sequenced message(s) (${this.dropRemaining} pending)`);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.server.off('upgrade', this.onUpgrade);
    clearInterval(this.heartbeat);
    for (const stop of this.stopListening) stop();
    await Promise.all(
      [...this.connections].map(async (conn) => {
        // A client that does not answer the close handshake is cut off.
        const force = setTimeout(() => conn.ws.terminate(), 1000);
        await closeSocket(conn.ws);
        clearTimeout(force);
      }),
    );
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function requireParams(params: Record<string, unknown> | undefined): Record<string, unknown> {
  if (params === undefined) throw new CommandError(2, 'this command needs params');
  return params;
}

/** update_subscription names exactly one sid, as `sid` or as a one-element `sids`. */
function singleSid(params: Record<string, unknown>): number {
  const { sid, sids } = params;
  if ((sid === undefined) === (sids === undefined)) throw new CommandError(12, 'give either sid or sids, not both or neither');
  if (sids !== undefined && !(Array.isArray(sids) && sids.length === 1)) throw new CommandError(12, 'sids must hold exactly one subscription id');
  const value = sid ?? (sids as unknown[])[0];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new CommandError(11, `a sid is a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

/** communications fan-out sharding (shard_factor 1–100, 0 ≤ shard_key < shard_factor); the emulator has one shard. */
function checkSharding(params: Record<string, unknown>): void {
  const { shard_factor: factor, shard_key: key } = params;
  if (factor !== undefined) {
    if (typeof factor !== 'number' || !Number.isSafeInteger(factor)) throw new CommandError(11, 'shard_factor must be an integer');
    if (factor <= 0) throw new CommandError(19, `shard_factor ${factor}`);
    if (factor > 100) throw new CommandError(22, `shard_factor ${factor}`);
  }
  if (key === undefined) return;
  if (factor === undefined) throw new CommandError(20, 'shard_key without shard_factor');
  if (typeof key !== 'number' || !Number.isSafeInteger(key)) throw new CommandError(11, 'shard_key must be an integer');
  if (key < 0 || key >= (factor as number)) throw new CommandError(21, `shard_key ${key} with shard_factor ${String(factor)}`);
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Serves Kalshi's WebSocket protocol at `opts.path` on `server` (upgrades on other paths are left
 * alone). The returned control injects faults and closes the endpoint.
 */
export function attachKalshiWsServer(server: Server, view: EmulatorExchangeView, opts: KalshiWsServerOptions): EmulatorWsControl & { readonly counters: KalshiWsCounters } {
  return new KalshiWsServer(server, view, opts);
}
