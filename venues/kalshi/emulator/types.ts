import type { IncomingHttpHeaders } from 'node:http';

/**
 * The seam between the emulator's exchange (markets, books, orders, accounts; served over REST)
 * and its WebSocket server. Message bodies are exactly what Kalshi puts in a WS frame's `msg`
 * (AsyncAPI 2026-03, fixed-point `_dollars` / `_fp` fields); the WS server adds `type`, `sid`,
 * `seq` and routes them to subscribers.
 */

/** Public market-data channels, per market. */
export type EmulatorMarketMessage =
  | { channel: 'orderbook_delta'; type: 'orderbook_delta'; marketTicker: string; msg: Record<string, unknown> }
  | { channel: 'trade'; type: 'trade'; marketTicker: string; msg: Record<string, unknown> }
  | { channel: 'ticker'; type: 'ticker'; marketTicker: string; msg: Record<string, unknown> }
  | { channel: 'market_lifecycle_v2'; type: 'market_lifecycle_v2'; marketTicker: string; msg: Record<string, unknown> };

/** Private channels, per account (API key id). */
export type EmulatorUserMessage =
  | { channel: 'fill'; type: 'fill'; marketTicker: string; msg: Record<string, unknown> }
  | { channel: 'user_orders'; type: 'user_order'; marketTicker: string; msg: Record<string, unknown> }
  | { channel: 'market_positions'; type: 'market_position'; marketTicker: string; msg: Record<string, unknown> };

export type HandshakeVerdict = { ok: true; apiKeyId: string } | { ok: false; status: 401 | 403; message: string };

/** What the WebSocket server needs from the exchange. */
export interface EmulatorExchangeView {
  /** The `msg` of an `orderbook_snapshot` for this market now, or undefined for an unknown market. */
  snapshot(marketTicker: string): Record<string, unknown> | undefined;
  /** Every market the exchange lists (any status). */
  marketTickers(): string[];
  /** Subscribe to market data as the exchange produces it (in exchange order). Returns an unsubscribe. */
  onMarketMessage(listener: (message: EmulatorMarketMessage) => void): () => void;
  /** Subscribe to private messages of every account. Returns an unsubscribe. */
  onUserMessage(listener: (apiKeyId: string, message: EmulatorUserMessage) => void): () => void;
  /** Checks a handshake's KALSHI-ACCESS-* headers (RSA-PSS over timestamp + GET + path). */
  verifyHandshake(headers: IncomingHttpHeaders, path: string): HandshakeVerdict;
  /** Emulator log line (every injected fault is logged). */
  log(line: string): void;
}

/** Faults the WebSocket server injects; the admin endpoint and CLI flags drive them. */
export interface EmulatorWsControl {
  /** Closes every client connection (as a network drop would); returns how many were open. */
  disconnectAll(reason: string): number;
  /** Silently drops the next `n` sequenced data messages (a `seq` gap for the subscriber). */
  dropNextMessages(n: number): void;
  readonly counters: { connections: number; messagesSent: number; messagesDropped: number; disconnects: number };
  close(): Promise<void>;
}
