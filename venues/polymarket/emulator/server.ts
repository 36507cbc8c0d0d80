import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmulatorAuth } from './auth';
import { PolymarketEmulatorExchange, type ExchangeOptions } from './exchange';
import { loadPolymarketRecording } from './recording';
import { PolymarketRestApi } from './rest';
import { MARKET_CHANNEL_PATH, PolymarketWsServer, USER_CHANNEL_PATH } from './ws-server';

export interface PolymarketEmulatorOptions extends Omit<ExchangeOptions, 'recording'> {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The recorded market channel (`*.jsonl`, e.g. shared/data/polymarket-ws-samples). */
  dataDir: string;
  /** Recording pace: X× wall time; 0 = manual clock (only `advanceTo` moves it). */
  speed?: number;
  /** Polygon mainnet (137) or Amoy (80002): the EIP-712 domains' chain. */
  chainId?: 137 | 80002;
  /** A heartbeat chain silent this long cancels its key's open orders (the venue: 10 s). */
  heartbeatTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface PolymarketEmulator {
  url: string;
  marketWsUrl: string;
  userWsUrl: string;
  port: number;
  exchange: PolymarketEmulatorExchange;
  rest: PolymarketRestApi;
  ws: PolymarketWsServer;
  nowMs(): number;
  advanceTo(exchangeMs: number): void;
  state(): Record<string, unknown>;
  close(): Promise<void>;
}

const PACE_TICK_MS = 50;

/** Starts the Polymarket CLOB emulator: REST at the root, the market and user channels at /ws/market and /ws/user, one port. */
export async function startPolymarketEmulator(opts: PolymarketEmulatorOptions): Promise<PolymarketEmulator> {
  const log = opts.log ?? (() => {});
  const speed = opts.speed ?? 0;
  if (!Number.isFinite(speed) || speed < 0) throw new Error(`speed must be a number >= 0, got ${speed}`);
  const chainId = opts.chainId ?? 137;
  const exchange = new PolymarketEmulatorExchange({
    recording: loadPolymarketRecording(opts.dataDir),
    startAtMs: opts.startAtMs,
    negRiskMarkets: opts.negRiskMarkets,
    feeRateBps: opts.feeRateBps,
    defaultFeeRateBps: opts.defaultFeeRateBps,
    minOrderSize: opts.minOrderSize,
    confirmAfterMs: opts.confirmAfterMs,
    log,
  });
  const auth = new EmulatorAuth(chainId);
  const startedWallMs = Date.now();
  const state = () => ({
    exchange_time_ms: exchange.nowMs(),
    exchange_time: new Date(exchange.nowMs()).toISOString(),
    speed,
    at_end: exchange.atEnd,
    uptime_ms: Date.now() - startedWallMs,
    markets: exchange.markets.size,
    orders: exchange.orders.size,
    trades: exchange.trades.length,
    rest: rest.counters,
    ws: ws.counters,
  });
  const rest = new PolymarketRestApi(exchange, auth, { chainId, heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? 10_000, log, state });
  const server: Server = createServer((req, res) => void rest.handle(req, res));
  const ws = new PolymarketWsServer(server, exchange, auth, log);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  // Paced playback: the clock follows wall time × speed.
  let pacing: NodeJS.Timeout | undefined;
  if (speed > 0) {
    let lastWall = Date.now();
    pacing = setInterval(() => {
      const wall = Date.now();
      exchange.advanceTo(exchange.nowMs() + (wall - lastWall) * speed);
      lastWall = wall;
      if (exchange.atEnd) clearInterval(pacing);
    }, PACE_TICK_MS);
  }

  let closed = false;
  return {
    url: `http://${host}:${port}`,
    marketWsUrl: `ws://${host}:${port}${MARKET_CHANNEL_PATH}`,
    userWsUrl: `ws://${host}:${port}${USER_CHANNEL_PATH}`,
    port,
    exchange,
    rest,
    ws,
    nowMs: () => exchange.nowMs(),
    advanceTo: (ms) => exchange.advanceTo(ms),
    state,
    async close() {
      if (closed) return;
      closed = true;
      if (pacing) clearInterval(pacing);
      rest.close();
      await ws.close();
      exchange.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
