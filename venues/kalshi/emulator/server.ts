import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KALSHI_REST_PATH, KALSHI_WS_PATH } from '../config';
import { KalshiEmulatorExchange, type EmulatorAccountSpec } from './exchange';
import { EmulatorFaults, type FaultPlan } from './faults';
import { BASIC_TIER, KalshiRestApi, type EmulatorRateLimits, type ObservedResponse } from './rest';
import type { EmulatorWsControl } from './types';
import { attachKalshiWsServer } from './ws-server';

export interface KalshiEmulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The recorded gold feed (events/ and metadata/). */
  dataDir: string;
  /** Market tickers, or the first N recorded markets (default: all). */
  markets?: string[] | number;
  /** Recording pace: X× wall time; 0 = manual clock (only `advanceTo` moves it). */
  speed?: number;
  /** Exchange time to start at (default: the first recorded message). */
  startAtMs?: number;
  accounts: EmulatorAccountSpec[];
  rateLimits?: EmulatorRateLimits;
  /** Faults to inject from the start (as `POST /_emulator/faults` takes them). */
  faults?: FaultPlan;
  /** Emulator log lines (default: none). */
  log?: (line: string) => void;
  /** Every REST response sent (tests validate them against the OpenAPI). */
  observe?: (response: ObservedResponse) => void;
  /** Recorded silences longer than this are skipped at speed > 0 (default 60 s). */
  maxGapMs?: number;
  pingEveryMs?: number;
}

export interface KalshiEmulator {
  restUrl: string;
  wsUrl: string;
  port: number;
  exchange: KalshiEmulatorExchange;
  ws: EmulatorWsControl;
  faults: EmulatorFaults;
  rest: KalshiRestApi;
  nowMs(): number;
  advanceTo(exchangeMs: number): Promise<void>;
  /** Plays the rest of the recording and every settlement. */
  runToEnd(): Promise<void>;
  state(): Record<string, unknown>;
  close(): Promise<void>;
}

const PACE_TICK_MS = 50;

/** Starts the Kalshi emulator: REST at /trade-api/v2 and the WebSocket at /trade-api/ws/v2 on one port. */
export async function startKalshiEmulator(opts: KalshiEmulatorOptions): Promise<KalshiEmulator> {
  const log = opts.log ?? (() => {});
  const speed = opts.speed ?? 0;
  if (!Number.isFinite(speed) || speed < 0) throw new Error(`speed must be a number >= 0, got ${speed}`);
  const exchange = await KalshiEmulatorExchange.open({ dataDir: opts.dataDir, markets: opts.markets, startAtMs: opts.startAtMs, accounts: opts.accounts, log });
  // The WS server attaches to the HTTP server, which needs the REST API, which needs the faults.
  const wsRef: { current?: EmulatorWsControl } = {};
  const faults = new EmulatorFaults(log, (paused) => exchange.setTradingPaused(paused), () => wsRef.current);
  const startedWallMs = Date.now();
  const state = () => ({
    exchange_time_ms: exchange.nowMs(),
    exchange_time: new Date(exchange.nowMs()).toISOString(),
    speed,
    at_end: exchange.atEnd,
    trading_paused: exchange.tradingPaused,
    uptime_ms: Date.now() - startedWallMs,
    markets: Object.fromEntries([...exchange.markets.values()].map((m) => [m.listed.ticker, m.status])),
    exchange: exchange.counters,
    rest: rest.counters,
    ws: wsRef.current?.counters,
    faults: { pending: faults.pending(), injected: faults.injected },
  });
  const rest = new KalshiRestApi(exchange, faults, { rateLimits: opts.rateLimits ?? BASIC_TIER, observe: opts.observe, state });
  const server: Server = createServer((req, res) => void rest.handle(req, res));
  const ws = (wsRef.current = attachKalshiWsServer(server, exchange, { path: KALSHI_WS_PATH, pingEveryMs: opts.pingEveryMs }));
  if (opts.faults) faults.apply(opts.faults);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';

  // Paced playback: the clock follows wall time × speed; long recorded silences are skipped.
  let pacing: NodeJS.Timeout | undefined;
  let closed = false;
  if (speed > 0) {
    let lastWall = Date.now();
    const tick = async () => {
      if (closed) return;
      const wall = Date.now();
      let target = exchange.nowMs() + (wall - lastWall) * speed;
      lastWall = wall;
      const next = await exchange.nextRecordedMs();
      if (next !== undefined && next - exchange.nowMs() > (opts.maxGapMs ?? 60_000)) target = Math.max(target, next);
      await exchange.advanceTo(Math.min(target, Math.max(exchange.endMs(), next ?? 0)));
      if (!closed && !exchange.atEnd) pacing = setTimeout(() => void tick().catch((e: unknown) => log(`pacing stopped: ${(e as Error).message}`)), PACE_TICK_MS);
    };
    pacing = setTimeout(() => void tick(), PACE_TICK_MS);
  }

  const runToEnd = async () => {
    for (;;) {
      const next = await exchange.nextRecordedMs();
      if (next === undefined) break;
      await exchange.advanceTo(Math.max(next, exchange.endMs()));
    }
    await exchange.advanceTo(Math.max(exchange.nowMs(), exchange.endMs()));
  };

  return {
    restUrl: `http://${host}:${port}${KALSHI_REST_PATH}`,
    wsUrl: `ws://${host}:${port}${KALSHI_WS_PATH}`,
    port,
    exchange,
    ws,
    faults,
    rest,
    nowMs: () => exchange.nowMs(),
    advanceTo: (ms) => exchange.advanceTo(ms),
    runToEnd,
    state,
    async close() {
      if (closed) return;
      closed = true;
      if (pacing) clearTimeout(pacing);
      rest.closeHanging();
      await ws.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await exchange.close();
    },
  };
}
