import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { desc } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { retrainingRuns } from '../../db/schema';
import { readRiskState } from '../../db/risk-repo';
import { dashboardData, type MarkSource } from '../dashboard';
import type { Metrics } from '../metrics';
import { runConsoleAction, type ConsoleActionPorts } from './actions';
import { ConsoleSessions, crossOrigin, sameSecret, type ConsoleIdentity, type ConsoleToken } from './auth';
import { consoleOverview, lastReconciliation, latestBacktestReport, latestWalkForward, pnlByStrategy, positionDetail, recentConsoleActions, signalPerformance } from './data';
import * as pages from './pages';

export interface ConsoleOptions {
  db: Database;
  /** Postgres LISTEN (postgres.js `sql.listen`): the tables' triggers NOTIFY `kestrel_console` (migration 0011). */
  listen: (channel: string, onNotify: (payload: string) => void) => Promise<{ unlisten(): Promise<void> }>;
  temporalUi: string;
  token: ConsoleToken;
  /** What actions do; without them (or without a token) the console is read-only. */
  actions?: ConsoleActionPorts;
  marks?: MarkSource;
  /** The stack's health() as it is. */
  health?: () => Promise<unknown>;
  metrics?: Metrics;
  partitionOwners?: () => Promise<pages.HealthPanel['partitions']>;
  feedFreshness?: () => pages.HealthPanel['feeds'];
  lastReconciliation?: () => { atMs: number; report: { trigger: string; differences: unknown[]; checked: unknown } } | undefined;
  /** Where `kestrel backtest` writes its reports (default backtest-output). */
  backtestDir?: string;
  nowMs?: () => number;
  sessionTtlMs?: number;
  /** How often the health page is pushed (it changes without any table changing). */
  healthEveryMs?: number;
  log?: (line: string) => void;
}

export interface ConsoleServer {
  readonly readOnly: boolean;
  /** Answers the request if it is the console's (true), else leaves it (false). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Ends the live streams and stops listening. */
  close(): Promise<void>;
}

type View = { kind: 'overview' } | { kind: 'position'; id: string } | { kind: 'charts' } | { kind: 'ops' } | { kind: 'actions' };
interface StreamClient {
  res: ServerResponse;
  view: View;
}

const MAX_BODY_BYTES = 16 * 1024;
const HEARTBEAT_MS = 20_000;
/** Changes within this long are pushed once (a fill writes orders, fills and positions in a burst). */
const PUSH_DEBOUNCE_MS = 200;
const viewKey = (v: View) => (v.kind === 'position' ? `position:${v.id}` : v.kind);

/**
 * The web console: server-rendered pages whose parts the server pushes again over Server-Sent
 * Events when Postgres NOTIFYs a change (health on a timer); actions behind a token, a session
 * cookie and a CSRF token, each recorded in console_actions.
 */
export async function createConsole(opts: ConsoleOptions): Promise<ConsoleServer> {
  const nowMs = opts.nowMs ?? (() => Date.now());
  const log = opts.log ?? (() => {});
  const sessions = new ConsoleSessions(opts.token.token, { ttlMs: opts.sessionTtlMs ?? 12 * 3_600_000, nowMs });
  const readOnly = sessions.readOnly || !opts.actions;
  const clients = new Set<StreamClient>();
  const backtestDir = opts.backtestDir ?? 'backtest-output';

  const fragmentsOf = async (view: View): Promise<Record<string, string> | undefined> => {
    switch (view.kind) {
      case 'overview':
        return pages.overviewFragments(await consoleOverview(opts.db, nowMs(), opts.marks), opts.temporalUi);
      case 'position': {
        const d = await positionDetail(opts.db, view.id);
        return d && pages.positionFragments(d, opts.temporalUi);
      }
      case 'charts':
        return pages.chartsFragments(await pnlByStrategy(opts.db), await signalPerformance(opts.db));
      case 'ops':
        return pages.healthFragments(await healthPanel());
      case 'actions':
        return { 'actions-body': pages.actionRows(await recentConsoleActions(opts.db, 200)) };
    }
  };

  const healthPanel = async (): Promise<pages.HealthPanel> => {
    const guard = <T>(p: Promise<T> | undefined, what: string): Promise<T | undefined> => (p ?? Promise.resolve(undefined)).catch((e: Error) => (log(`console: ${what} failed: ${e.message}`), undefined));
    const [health, risk, partitions, queues, recorded] = await Promise.all([
      guard(opts.health?.(), 'health()').then((h) => h ?? { error: 'health() failed or is not available' }),
      readRiskState(opts.db, nowMs()),
      guard(opts.partitionOwners?.(), 'partition owners'),
      guard(opts.metrics && queueDepths(opts.metrics), 'queue depths'),
      guard(lastReconciliation(opts.db), 'reconciliation'),
    ]);
    const here = opts.lastReconciliation?.();
    return {
      generatedAt: new Date(nowMs()).toISOString(),
      health,
      risk: { mode: risk.mode, dailyPnl: risk.dailyPnl.toFixed(4), consecutiveLosses: risk.consecutiveLosses, tripped: risk.tripped.map((t) => ({ breaker: t.breaker, reason: t.reason, at: new Date(t.atMs).toISOString() })) },
      partitions,
      queues: queues ?? [],
      feeds: opts.feedFreshness?.() ?? [],
      reconciliation: { here: here && { at: new Date(here.atMs).toISOString(), trigger: here.report.trigger, differences: here.report.differences.length, checked: here.report.checked }, lastWithDifferences: recorded },
    };
  };

  const send = (c: StreamClient, fragments: Record<string, string>) => c.res.write(`event: fragments\ndata: ${JSON.stringify(fragments)}\n\n`);
  /** Renders each view followed by some client once, and pushes it to all of them. */
  const push = async (only?: (v: View) => boolean) => {
    const byView = new Map<string, StreamClient[]>();
    for (const c of clients) if (!only || only(c.view)) byView.set(viewKey(c.view), [...(byView.get(viewKey(c.view)) ?? []), c]);
    await Promise.all(
      [...byView.values()].map(async (group) => {
        try {
          const fragments = await fragmentsOf(group[0]!.view);
          if (fragments) for (const c of group) send(c, fragments);
        } catch (e) {
          log(`console: rendering ${viewKey(group[0]!.view)} failed: ${(e as Error).message}`);
        }
      }),
    );
  };
  /** Runs `fn` now, or once more after the run in progress when called during it (bursts never queue up renders). */
  const coalesced = (fn: () => Promise<void>) => {
    let running: Promise<void> | undefined;
    let again = false;
    const run = (): Promise<void> => {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          await fn();
        } while (again);
      })().finally(() => (running = undefined));
      return running;
    };
    return Object.assign(run, { idle: () => running ?? Promise.resolve() });
  };
  const pushChanges = coalesced(() => push((v) => v.kind !== 'ops'));
  const pushHealth = coalesced(() => push((v) => v.kind === 'ops'));
  let pending: NodeJS.Timeout | undefined;
  /** Counts table changes: a page rendered at version v needs no first push over its stream while nothing changed since. */
  let version = 0;
  const changed = () => {
    version++;
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      void pushChanges();
    }, PUSH_DEBOUNCE_MS);
  };
  const listening = await opts.listen('kestrel_console', changed);
  const healthTimer = setInterval(() => void pushHealth(), opts.healthEveryMs ?? 5000);
  const heartbeat = setInterval(() => {
    for (const c of clients) c.res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  healthTimer.unref();
  heartbeat.unref();

  const securityHeaders = (nonce?: string): Record<string, string> => ({
    'x-content-type-options': 'nosniff',
    // same-origin, not no-referrer: with no-referrer a form POST's Origin is "null" and the login's origin check refuses it.
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; ${nonce ? `script-src 'nonce-${nonce}'; ` : ''}style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  });
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', ...securityHeaders() });
    res.end(JSON.stringify(body));
  };
  const html = (res: ServerResponse, status: number, render: (nonce: string) => string, extra: Record<string, string> = {}) => {
    const nonce = randomBytes(16).toString('base64');
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...securityHeaders(nonce), ...extra });
    res.end(render(nonce));
  };
  const redirect = (res: ServerResponse, to: string, extra: Record<string, string> = {}) => {
    res.writeHead(303, { location: to, ...securityHeaders(), ...extra });
    res.end();
  };
  const fail = (res: ServerResponse, e: unknown) => {
    log(`console: ${(e as Error).message}`);
    if (!res.headersSent) json(res, 500, { error: (e as Error).message });
    else res.end();
  };

  const page = async (req: IncomingMessage, res: ServerResponse, who: ConsoleIdentity | undefined, url: URL) => {
    // Read before the page's data: a change while it is read is pushed when its stream connects.
    const renderedAt = version;
    const ctx = (title: string, nonce: string, stream?: string): pages.PageContext => ({ title, operator: who?.operator, readOnly, csrf: who?.csrf ?? '', nonce, stream: stream && `${stream}&v=${renderedAt}`, temporalUi: opts.temporalUi });
    switch (url.pathname) {
      case '/':
      case '/dashboard': {
        const [f, strategies] = await Promise.all([fragmentsOf({ kind: 'overview' }), opts.actions && !readOnly ? opts.actions.strategies().catch(() => []) : Promise.resolve([])]);
        return html(res, 200, (n) => pages.layout(ctx('Positions', n, '/api/stream?view=overview'), pages.overviewBody(f!, strategies)));
      }
      case '/position': {
        const id = url.searchParams.get('id') ?? '';
        const f = await fragmentsOf({ kind: 'position', id });
        if (!f) return html(res, 404, (n) => pages.layout(ctx('No such position', n), `<p>No position ${pages.esc(id)}. <a href="/">All positions</a></p>`));
        return html(res, 200, (n) => pages.layout(ctx(`Position ${id}`, n, `/api/stream?view=position&id=${encodeURIComponent(id)}`), pages.positionBody(f)));
      }
      case '/charts': {
        const [f, retraining] = await Promise.all([fragmentsOf({ kind: 'charts' }), opts.db.select().from(retrainingRuns).orderBy(desc(retrainingRuns.id)).limit(10)]);
        const runs = retraining.map((r) => ({ at: r.createdAt.toISOString(), model: r.modelName, status: r.status, outOfSample: r.outOfSample, reason: r.reason }));
        return html(res, 200, (n) => pages.layout(ctx('P&L and signals', n, '/api/stream?view=charts'), pages.chartsBody(f!, latestBacktestReport(backtestDir), runs, latestWalkForward(backtestDir))));
      }
      case '/ops': {
        const f = await fragmentsOf({ kind: 'ops' });
        return html(res, 200, (n) => pages.layout(ctx('Health', n, '/api/stream?view=ops'), pages.healthBody(f!)));
      }
      case '/actions': {
        const actions = await recentConsoleActions(opts.db, 200);
        return html(res, 200, (n) => pages.layout(ctx('Action log', n, '/api/stream?view=actions'), pages.actionLogBody(actions)));
      }
    }
    if (url.pathname === '/backtest/equity.svg' || url.pathname === '/backtest/drawdown.svg') {
      const report = latestBacktestReport(backtestDir);
      const file = url.pathname.endsWith('equity.svg') ? report?.equity : report?.drawdown;
      if (!file) return json(res, 404, { error: 'no backtest report' });
      res.writeHead(200, { 'content-type': 'image/svg+xml', ...securityHeaders(), 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox" });
      createReadStream(file).on('error', (e) => fail(res, e)).pipe(res);
      return;
    }
    if (url.pathname === '/api/stream') return stream(req, res, url);
    if (url.pathname === '/api/overview') return json(res, 200, await consoleOverview(opts.db, nowMs(), opts.marks));
    if (url.pathname === '/api/position') {
      const d = await positionDetail(opts.db, url.searchParams.get('id') ?? '');
      return d ? json(res, 200, d) : json(res, 404, { error: 'no such position' });
    }
    if (url.pathname === '/api/health-panel') return json(res, 200, await healthPanel());
    if (url.pathname === '/api/dashboard') return json(res, 200, await dashboardData(opts.db, opts.temporalUi, nowMs(), opts.marks));
    json(res, 404, { error: `not found: ${url.pathname}` });
  };

  const stream = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const kind = url.searchParams.get('view');
    const view: View | undefined = kind === 'position' ? { kind, id: url.searchParams.get('id') ?? '' } : kind === 'overview' || kind === 'charts' || kind === 'ops' || kind === 'actions' ? { kind } : undefined;
    if (!view) return json(res, 400, { error: 'view must be overview, position, charts, ops or actions' });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    const client = { res, view };
    clients.add(client);
    req.on('close', () => clients.delete(client));
    // What changed between the page's render and this connection (everything, for a reconnection or a health page).
    if (view.kind === 'ops' || url.searchParams.get('v') !== String(version)) {
      const fragments = await fragmentsOf(view);
      if (fragments) send(client, fragments);
    }
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      let size = 0;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
          req.destroy();
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const action = async (req: IncomingMessage, res: ServerResponse, who: ConsoleIdentity | undefined, name: string) => {
    if (readOnly) return json(res, 403, { outcome: 'rejected', message: 'the console is read-only: no token is configured (KESTREL_CONSOLE_TOKEN or KESTREL_CONSOLE_TOKEN_FILE)' });
    if (!who) return json(res, 401, { outcome: 'rejected', message: 'log in first (or send Authorization: Bearer <token>)' });
    const csrf = sessions.csrfProblem(req, who);
    if (csrf) return json(res, 403, { outcome: 'rejected', message: csrf });
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return json(res, 415, { outcome: 'rejected', message: 'send the action as application/json' });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (e) {
      return json(res, 400, { outcome: 'rejected', message: `bad request body: ${(e as Error).message}` });
    }
    const done = await runConsoleAction(opts.db, opts.actions!, { operator: who.operator, remoteAddress: req.socket.remoteAddress }, name, body);
    json(res, done.status, { outcome: done.outcome, message: done.message, result: done.result });
  };

  const login = async (req: IncomingMessage, res: ServerResponse) => {
    const problem = crossOrigin(req);
    if (problem) return html(res, 403, (n) => pages.loginPage({ nonce: n, error: problem, readOnly }));
    const form = new URLSearchParams(await readBody(req));
    const r = sessions.login(form.get('operator') ?? '', form.get('token') ?? '');
    if ('error' in r) {
      // A wrong token costs the guesser a second.
      await new Promise((resolve) => setTimeout(resolve, r.error === 'wrong token' ? 1000 : 0));
      return html(res, 401, (n) => pages.loginPage({ nonce: n, error: r.error, readOnly }));
    }
    redirect(res, '/', { 'set-cookie': r.cookie });
  };

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const p = url.pathname;
    const ours = p === '/' || p === '/dashboard' || p === '/login' || p === '/logout' || p === '/position' || p === '/charts' || p === '/ops' || p === '/actions' || p.startsWith('/api/') || p.startsWith('/backtest/');
    if (!ours) return false;
    const who = sessions.identify(req);
    const run = async () => {
      if (p === '/login') return req.method === 'POST' ? login(req, res) : html(res, 200, (n) => pages.loginPage({ nonce: n, readOnly }));
      if (p === '/logout') {
        if (req.method !== 'POST') return json(res, 405, { error: 'POST /logout' });
        const form = new URLSearchParams(await readBody(req));
        if (who && who.via === 'cookie' && !sameSecret(form.get('csrf') ?? '', who.csrf)) return json(res, 403, { error: 'missing or wrong CSRF token' });
        return redirect(res, '/login', { 'set-cookie': sessions.logout(req) });
      }
      if (p.startsWith('/api/actions/')) {
        if (req.method !== 'POST') return json(res, 405, { error: 'actions are POSTed' });
        return action(req, res, who, p.slice('/api/actions/'.length));
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: `${req.method} ${p}: read-only path` });
      // With a token configured, nothing is shown without it (the login page aside).
      if (!sessions.readOnly && !who) return p.startsWith('/api/') || p.startsWith('/backtest/') ? json(res, 401, { error: 'log in first (or send Authorization: Bearer <token>)' }) : redirect(res, '/login');
      return page(req, res, who, url);
    };
    run().catch((e: unknown) => fail(res, e));
    return true;
  };

  return {
    readOnly,
    handle,
    async close() {
      clearInterval(healthTimer);
      clearInterval(heartbeat);
      clearTimeout(pending);
      for (const c of clients) c.res.end();
      clients.clear();
      await listening.unlisten().catch(() => {});
      await Promise.all([pushChanges.idle(), pushHealth.idle()]);
    },
  };
}

/** BullMQ jobs per queue and state, as the kestrel_queue_jobs gauge reads them (at call time). */
async function queueDepths(metrics: Metrics): Promise<pages.HealthPanel['queues']> {
  const gauge = metrics.registry.getSingleMetric('kestrel_queue_jobs');
  if (!gauge) return [];
  const { values } = await gauge.get();
  return values.map((v) => ({ queue: String(v.labels.queue), state: String(v.labels.state), jobs: v.value }));
}
