import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import type { BookStore } from '../domain/market-data/book-store';
import type { ConsoleServer } from './console/server';

export interface MetricsSources {
  db: Database;
  books: BookStore;
  queues: () => Queue[];
}

/**
 * Prometheus metrics. Counters that happen in this process (ingested events, signals) are counted
 * as they happen; everything recorded in Postgres (orders, fills, exit attempts, P&L, breakers) is
 * read at scrape time, so the numbers agree with the database whichever process wrote them.
 */
export function createMetrics(sources: MetricsSources) {
  const registry = new Registry();
  const ingestedEvents = new Counter({ name: 'kestrel_market_events_ingested_total', help: 'Market events applied to books', labelNames: ['partition'], registers: [registry] });
  const signals = new Counter({ name: 'kestrel_signals_total', help: 'Signals detected, by type and whether they were actionable (sent on to strategies)', labelNames: ['type', 'actionable'], registers: [registry] });
  new Gauge({
    name: 'kestrel_queue_jobs',
    help: 'BullMQ jobs by queue and state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of sources.queues()) {
        const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed');
        for (const [state, n] of Object.entries(counts)) this.set({ queue: q.name, state }, n);
      }
    },
  });
  new Gauge({
    name: 'kestrel_book_staleness_seconds',
    help: 'Seconds since market data last arrived, per market (stale books report -1)',
    labelNames: ['market'],
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const [market, s] of sources.books.markets) {
        if (!Number.isFinite(s.receivedAtMs)) continue;
        this.set({ market }, s.book.stale ? -1 : (now - s.receivedAtMs) / 1000);
      }
    },
  });
  const fromDb = (name: string, help: string, labelNames: string[], query: ReturnType<typeof sql>, value: string) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await sources.db.execute<Record<string, string | number>>(query);
        for (const row of rows) this.set(Object.fromEntries(labelNames.map((l) => [l, String(row[l])])), Number(row[value]));
      },
    });
  fromDb('kestrel_orders', 'Orders by purpose and status', ['purpose', 'status'], sql`select purpose, status, count(*)::int as n from orders group by 1, 2`, 'n');
  fromDb('kestrel_fills', 'Fills by liquidity', ['liquidity'], sql`select liquidity, count(*)::int as n from fills group by 1`, 'n');
  fromDb('kestrel_exit_attempts', 'Exit attempts by urgency and outcome', ['urgency', 'outcome'], sql`select urgency, split_part(outcome, ':', 1) as outcome, count(*)::int as n from exit_attempts group by 1, 2`, 'n');
  fromDb('kestrel_positions', 'Positions by status', ['status'], sql`select status, count(*)::int as n from positions group by 1`, 'n');
  fromDb('kestrel_signals_recorded', 'Signals persisted by type and whether they were sent to strategies', ['type', 'actionable'], sql`select type, actionable::text as actionable, count(*)::int as n from signals group by 1, 2`, 'n');
  fromDb('kestrel_signal_outcomes', 'Resolved signal outcomes by type, horizon and result (right / wrong / flat)', ['type', 'horizon_ms', 'result'], sql`select s.type, o.horizon_ms::text as horizon_ms, case when o.correct then 'right' when not o.correct then 'wrong' else 'flat' end as result, count(*)::int as n from signal_outcomes o join signals s on s.id = o.signal_id where o.resolved_at is not null group by 1, 2, 3`, 'n');
  fromDb('kestrel_strategy_runs', 'Strategy runs by status and feed', ['status', 'feed'], sql`select status, feed, count(*)::int as n from strategy_runs group by 1, 2`, 'n');
  fromDb('kestrel_retraining_runs', 'Retraining runs by model and decision', ['model', 'status'], sql`select model_name as model, status, count(*)::int as n from retraining_runs group by 1, 2`, 'n');
  fromDb('kestrel_realized_pnl_dollars', 'Realized P&L by strategy (fees included)', ['strategy'], sql`select strategy_id as strategy, coalesce(sum(realized_pnl), 0)::float8 as v from positions group by 1`, 'v');
  new Gauge({
    name: 'kestrel_breaker_tripped',
    help: 'Circuit breakers currently tripped (1) per scope, and the trading mode (mode label, value 1)',
    labelNames: ['scope', 'breaker', 'mode'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await sources.db.execute<{ scope: string; state: { mode: string; tripped: { breaker: string }[] } }>(sql`select scope, state from risk_state`);
      for (const r of rows) {
        this.set({ scope: r.scope, breaker: 'none', mode: r.state.mode }, 1);
        for (const t of r.state.tripped) this.set({ scope: r.scope, breaker: t.breaker, mode: r.state.mode }, 1);
      }
    },
  });
  const venueFeeDifferences = new Counter({ name: 'kestrel_venue_fee_differences_total', help: 'Fills whose venue-reported fee differs from our fee formula by more than $0.0001', labelNames: ['venue'], registers: [registry] });
  return { registry, ingestedEvents, signals, venueFeeDifferences };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** How long close() lets in-flight requests finish before dropping their connections. */
const CLOSE_GRACE_MS = 5000;

/**
 * Serves /metrics (Prometheus text) and /health (JSON; 503 when a check fails) without a token, for
 * scrapers and load balancers (they carry counts and check results, no positions or actions), and
 * the web console (observability/console) for everything else; `dashboard` alone serves
 * /api/dashboard (JSON) when there is no console.
 */
export async function startMetricsServer(opts: { port: number; host?: string; metrics: Metrics; health: () => Promise<{ ok: boolean; checks: Record<string, unknown> }>; dashboard?: () => Promise<unknown>; console?: ConsoleServer }): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  let closing = false;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      // Once closing, answer and drop the socket: a console tab on keep-alive would hold it open forever.
      res.writeHead(status, closing ? { 'content-type': type, connection: 'close' } : { 'content-type': type });
      res.end(body);
    };
    if (path === '/metrics') {
      opts.metrics.registry.metrics().then((text) => reply(200, opts.metrics.registry.contentType, text), (e: Error) => reply(500, 'text/plain', `metrics failed: ${e.message}`));
    } else if (path === '/health') {
      opts.health().then((h) => reply(h.ok ? 200 : 503, 'application/json', JSON.stringify(h)), (e: Error) => reply(503, 'application/json', JSON.stringify({ ok: false, error: e.message })));
    } else if (closing) {
      reply(503, 'text/plain', 'shutting down');
    } else if (opts.console?.handle(req, res)) {
      // answered by the console
    } else if (opts.dashboard && path === '/api/dashboard') {
      opts.dashboard().then((d) => reply(200, 'application/json', JSON.stringify(d)), (e: Error) => reply(500, 'application/json', JSON.stringify({ error: e.message })));
    } else reply(404, 'text/plain', `not found: try /metrics, /health${opts.console ? ' or / (console)' : ''}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const close = async () => {
    closing = true;
    // Live streams first: an open Server-Sent Events response never ends on its own.
    await opts.console?.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // A handler that never answers must not hold shutdown hostage.
      setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
    });
  };
  return { server, url: `http://${address.address}:${address.port}`, close };
}
