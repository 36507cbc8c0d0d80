import WebSocket from 'ws';
import { closeSocket } from '../ws';

/**
 * One Polymarket WebSocket channel's connection (market and user channels alike): sends `hello`
 * (the subscription) on every open, keeps it alive with text PINGs, drops the PONGs, and reconnects
 * with doubling backoff until closed. Each other text frame goes to `onFrame`; a throw there is
 * reported, never allowed to take the process down.
 */
export class PolymarketSocket {
  private ws: WebSocket | undefined;
  private ping: NodeJS.Timeout | undefined;
  private closed = false;
  private attempt = 0;
  private opened = false;

  constructor(
    private readonly opts: {
      url: string;
      /** The channel's name in log lines. */
      channel: string;
      hello: () => unknown;
      onFrame: (raw: string) => void;
      onFrameFailed: (raw: string, error: string) => void;
      /** Called on every open (`reconnected`: not the first). */
      onOpen?: (reconnected: boolean) => void;
      pingIntervalMs?: number;
      reconnect?: { initialMs: number; maxMs: number };
      log?: (line: string) => void;
    },
  ) {}

  start(): Promise<void> {
    return this.ws ? Promise.resolve() : this.open();
  }

  /** Sends on the open connection; nothing while it is down (the next `hello` covers it). */
  send(payload: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(payload));
  }

  private open(): Promise<void> {
    const ws = new WebSocket(this.opts.url);
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        const reconnected = this.opened;
        this.opened = true;
        this.attempt = 0;
        ws.send(JSON.stringify(this.opts.hello()));
        this.ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('PING'), this.opts.pingIntervalMs ?? 10_000);
        this.opts.onOpen?.(reconnected);
        resolve();
      });
      ws.once('error', (err) => ws.readyState !== WebSocket.OPEN && reject(err));
      ws.on('message', (data) => {
        const raw = data.toString();
        if (raw === 'PONG') return;
        try {
          this.opts.onFrame(raw);
        } catch (err) {
          // A bug triggered by one frame (here or in a callback) must not take the process down.
          this.opts.onFrameFailed(raw.slice(0, 2000), `handling the frame failed: ${(err as Error).message}`);
        }
      });
      ws.on('close', () => {
        clearInterval(this.ping);
        if (this.closed) return;
        const { initialMs, maxMs } = this.opts.reconnect ?? { initialMs: 500, maxMs: 30_000 };
        const wait = Math.min(maxMs, initialMs * 2 ** this.attempt++);
        this.opts.log?.(`polymarket ${this.opts.channel} channel closed; reconnecting in ${wait} ms`);
        setTimeout(() => void this.open().catch((e: Error) => this.opts.log?.(`${this.opts.channel} channel reconnect failed: ${e.message}`)), wait);
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.ping);
    await closeSocket(this.ws);
  }
}
