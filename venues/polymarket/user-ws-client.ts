import { PolymarketSocket } from './socket';

/** API credentials of the user channel (the L2 key the official client derives). */
export interface PolymarketApiCreds {
  key: string;
  secret: string;
  passphrase: string;
}

/**
 * Polymarket user channel: the account's own `order` and `trade` messages for the subscribed
 * markets (condition ids). Authenticates in the subscription message; the connection (PINGs,
 * reconnects with backoff, the subscription again) is PolymarketSocket's. Every message goes to
 * `onMessage` (PolymarketExecutionClient.applyUserMessage parses it); a frame that is not JSON is
 * reported.
 * Messages sent while the connection was down are not replayed by the venue: after a reconnect the
 * owner looks its open orders up (`onReconnect`).
 */
export class PolymarketUserChannel {
  private readonly socket: PolymarketSocket;
  private readonly markets = new Set<string>();
  readonly counters = { connects: 0, messages: 0, malformed: 0 };

  constructor(
    private readonly opts: {
      url: string;
      creds: PolymarketApiCreds;
      markets?: readonly string[];
      onMessage: (msg: unknown) => void;
      onMalformed?: (raw: string, error: string) => void;
      onReconnect?: () => void;
      pingIntervalMs?: number;
      reconnect?: { initialMs: number; maxMs: number };
      log?: (line: string) => void;
    },
  ) {
    for (const m of opts.markets ?? []) this.markets.add(m);
    this.socket = new PolymarketSocket({
      url: opts.url,
      channel: 'user',
      hello: () => ({ auth: { apiKey: opts.creds.key, secret: opts.creds.secret, passphrase: opts.creds.passphrase }, markets: [...this.markets], type: 'user' }),
      onOpen: (reconnected) => {
        this.counters.connects++;
        if (reconnected) this.opts.onReconnect?.();
      },
      onFrame: (raw) => this.handle(raw),
      onFrameFailed: (raw, error) => {
        this.counters.malformed++;
        this.opts.onMalformed?.(raw, error);
      },
      pingIntervalMs: opts.pingIntervalMs,
      reconnect: opts.reconnect,
      log: opts.log,
    });
  }

  start(): Promise<void> {
    return this.socket.start();
  }

  /** Follows more markets (sent on the open connection, and on every reconnect). */
  subscribe(markets: string[]): void {
    const fresh = markets.filter((m) => !this.markets.has(m));
    for (const m of fresh) this.markets.add(m);
    if (fresh.length) this.socket.send({ markets: fresh, operation: 'subscribe' });
  }

  private handle(raw: string): void {
    this.counters.messages++;
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch (err) {
      this.counters.malformed++;
      this.opts.onMalformed?.(raw.slice(0, 2000), `invalid JSON: ${(err as Error).message}`);
      return;
    }
    // The channel sends single objects or arrays of them.
    for (const msg of Array.isArray(payload) ? (payload as unknown[]) : [payload]) {
      try {
        this.opts.onMessage(msg);
      } catch (err) {
        // A bug triggered by one message must not take the connection down.
        this.counters.malformed++;
        this.opts.onMalformed?.(raw.slice(0, 2000), `handling the message failed: ${(err as Error).message}`);
      }
    }
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}
