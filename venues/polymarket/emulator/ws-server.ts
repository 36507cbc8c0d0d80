import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { EmulatorAuth } from './auth';
import type { ExchangeEvent, PolymarketEmulatorExchange } from './exchange';

export const MARKET_CHANNEL_PATH = '/ws/market';
export const USER_CHANNEL_PATH = '/ws/user';

const ids = z.array(z.string().min(1).max(100)).max(10_000);
const marketHello = z.object({ type: z.string().regex(/^market$/i), assets_ids: ids });
const userHello = z.object({ type: z.string().regex(/^user$/i), auth: z.object({ apiKey: z.string(), secret: z.string(), passphrase: z.string() }), markets: ids.optional() });
const operation = z.object({ operation: z.enum(['subscribe', 'unsubscribe']), assets_ids: ids.optional(), markets: ids.optional() });

interface Client {
  ws: WebSocket;
  channel: 'market' | 'user';
  /** Market channel: asset ids; user channel: condition ids (empty: every market). */
  topics: Set<string> | undefined;
  owner?: string;
}

/**
 * The CLOB's two WebSocket channels on the emulator's port. Market (`/ws/market`): the first
 * message subscribes asset ids and is answered with their `book`s (as one array, like the venue),
 * then every recorded `price_change`, `tick_size_change`, `last_trade_price` and `book` of those
 * assets as the clock plays; `{operation: 'subscribe'}` adds assets (with fresh books). User
 * (`/ws/user`): the first message carries the API key's credentials; then the key's `order` and
 * `trade` messages for the subscribed markets. Text `PING` is answered `PONG`.
 */
export class PolymarketWsServer {
  readonly counters = { connections: 0, refused: 0, sent: 0 };
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: () => void;

  constructor(
    server: Server,
    private readonly exchange: PolymarketEmulatorExchange,
    private readonly auth: EmulatorAuth,
    private readonly log: (line: string) => void,
  ) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.unsubscribe = exchange.subscribe((e) => this.publish(e));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    const channel = path === MARKET_CHANNEL_PATH ? 'market' : path === USER_CHANNEL_PATH ? 'user' : undefined;
    if (!channel) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    socket.on('error', (err) => this.log(`ws: upgrade socket error: ${err.message}`));
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, channel));
  }

  private accept(ws: WebSocket, channel: 'market' | 'user'): void {
    this.counters.connections++;
    const client: Client = { ws, channel, topics: undefined };
    this.clients.add(client);
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', (err) => this.log(`ws: ${channel} client error: ${err.message}`));
    ws.on('message', (data) => {
      const textData = String(data);
      if (textData === 'PING') return ws.send('PONG');
      let msg: unknown;
      try {
        msg = JSON.parse(textData);
      } catch {
        return this.refuse(client, 'INVALID MESSAGE: not JSON');
      }
      if (client.topics === undefined) this.hello(client, msg);
      else this.operate(client, msg);
    });
  }

  private refuse(client: Client, reason: string): void {
    this.counters.refused++;
    this.send(client, reason);
    client.ws.close(1008, reason.slice(0, 120));
  }

  private hello(client: Client, msg: unknown): void {
    if (client.channel === 'market') {
      const p = marketHello.safeParse(msg);
      if (!p.success) return this.refuse(client, 'INVALID MESSAGE: expected {"type":"market","assets_ids":[...]}');
      client.topics = new Set(p.data.assets_ids);
      this.sendBooks(client, p.data.assets_ids);
      return;
    }
    const p = userHello.safeParse(msg);
    if (!p.success) return this.refuse(client, 'INVALID MESSAGE: expected {"type":"user","auth":{...},"markets":[...]}');
    const who = this.auth.verifyCreds({ key: p.data.auth.apiKey, secret: p.data.auth.secret, passphrase: p.data.auth.passphrase });
    if (!who) return this.refuse(client, 'INVALID AUTH');
    client.owner = who.key;
    client.topics = new Set(p.data.markets ?? []);
  }

  private operate(client: Client, msg: unknown): void {
    const p = operation.safeParse(msg);
    if (!p.success) return this.refuse(client, 'INVALID OPERATION: expected {"operation":"subscribe"|"unsubscribe",…}');
    const named = (client.channel === 'market' ? p.data.assets_ids : p.data.markets) ?? [];
    for (const id of named) {
      if (p.data.operation === 'subscribe') client.topics!.add(id);
      else client.topics!.delete(id);
    }
    if (client.channel === 'market' && p.data.operation === 'subscribe') this.sendBooks(client, named);
  }

  private sendBooks(client: Client, assets: readonly string[]): void {
    const books = assets.flatMap((a) => {
      const book = this.exchange.bookSummary(a);
      if (!book) return [];
      // The channel's `book` leaves out two fields of the REST summary (its hash still covers them).
      const { min_order_size: _minOrderSize, neg_risk: _negRisk, ...message } = book;
      return [{ event_type: 'book', ...message }];
    });
    if (books.length) this.send(client, books);
  }

  private publish(e: ExchangeEvent): void {
    for (const client of this.clients) {
      if (client.topics === undefined) continue;
      if (e.kind === 'market' && client.channel === 'market' && e.assets.some((a) => client.topics!.has(a))) this.send(client, e.message);
      if (e.kind === 'user' && client.channel === 'user' && client.owner === e.owner && (client.topics!.size === 0 || client.topics!.has(e.market))) this.send(client, e.message);
    }
  }

  private send(client: Client, payload: unknown): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    this.counters.sent++;
    client.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  async close(): Promise<void> {
    this.unsubscribe();
    // Terminated, not closed: a client that never answers the close handshake must not hold the emulator up.
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
