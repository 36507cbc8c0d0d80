import assert from 'node:assert/strict';
import { Agent, get as httpGet } from 'node:http';
import { startMetricsServer } from '../../observability/metrics';
import type { PositionInput } from '../../workflows/position';
import { uniqueName } from '../support/harness';
import { useStack } from '../support/stack';
import { level, waitFor } from '../support/wait';
import { positionQuery, positionWorkflow, requestExitUpdate } from '../../workflows/position';

describe('metrics and health endpoints (real services)', function () {
  this.timeout(60_000);
  const stack = useStack();

  it('exposes orders, exit attempts, positions, queues, staleness and breakers as Prometheus metrics', async () => {
    const m = uniqueName('MET');
    const s = stack();
    s.books.state(m).book.applySnapshot([level('0.50', 100)], [level('0.48', 100)], Date.now());
    s.books.state(m).receivedAtMs = Date.now();
    const input: PositionInput = { strategyId: 'metrics-test', market: m, outcome: 'yes', closeTimeMs: Date.now() + 3_600_000, entry: { limitPrice: '0.52', size: '10', timeoutMs: 500 }, cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 } };
    const handle = await s.temporal.workflow.start(positionWorkflow, { args: [input], taskQueue: s.config.temporal.taskQueue, workflowId: `position/metrics/${m}` });
    await waitFor(() => handle.query(positionQuery), (x) => x.status === 'open', 'open');
    await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
    await handle.result();

    const server = await startMetricsServer({ port: 0, metrics: s.metrics, health: s.health });
    try {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
      assert.ok(value(/^kestrel_orders\{purpose="entry",status="filled"\} (\d+)$/m) >= 1, text);
      assert.ok(value(/^kestrel_exit_attempts\{urgency="CRITICAL",outcome="filled"\} (\d+)$/m) >= 1);
      assert.ok(value(/^kestrel_positions\{status="closed"\} (\d+)$/m) >= 1);
      assert.ok(Number.isFinite(value(/^kestrel_realized_pnl_dollars\{strategy="metrics-test"\} (-?[\d.]+)$/m)));
      assert.match(text, /^kestrel_queue_jobs\{queue="[^"]+",state="waiting"\} \d+$/m);
      assert.match(text, new RegExp(`^kestrel_book_staleness_seconds\\{market="${m}"\\} [\\d.]+$`, 'm'));
      assert.match(text, /^kestrel_breaker_tripped\{scope="paper",breaker="none",mode="ACTIVE"\} 1$/m);
      for (const name of ['kestrel_signals_total', 'kestrel_signals_recorded', 'kestrel_signal_outcomes', 'kestrel_strategy_runs', 'kestrel_retraining_runs']) assert.match(text, new RegExp(`^# TYPE ${name} (gauge|counter)$`, 'm'));
      const health = await fetch(`${server.url}/health`);
      assert.equal(health.status, 200);
      const body = (await health.json()) as { ok: boolean; checks: Record<string, string> };
      assert.deepEqual(body.checks, { postgres: 'ok', redis: 'ok', temporal: 'ok', temporalWorker: 'RUNNING' });
      assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    } finally {
      await server.close();
    }
  });

  it('closes while a client keeps polling on a keep-alive connection (a dashboard tab left open)', async () => {
    const s = stack();
    let inFlight = 0;
    const server = await startMetricsServer({ port: 0, metrics: s.metrics, health: s.health, dashboard: async () => {
      inFlight++;
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return { ok: true };
    } });
    let polling = true;
    let answered = 0;
    // Like a browser tab: one keep-alive socket, the next request sent as soon as the last is answered.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<void>((resolve, reject) => {
        httpGet(`${server.url}/api/dashboard`, { agent }, (res) => res.resume().on('end', resolve).on('error', reject)).on('error', reject);
      });
    const poller = (async () => {
      while (polling) {
        try {
          await get();
          answered++;
        } catch {
          return; // the server went away: what a closing server should look like to a client
        }
      }
    })();
    await waitFor(() => answered, (n) => n >= 3, 'the poller to be answered a few times');
    await waitFor(() => inFlight, (n) => n === 1, 'a request in flight when close() is called', 5000, 1);
    const answeredBeforeClose = answered;
    await server.close(); // before the fix this never resolved: each answer kept the socket alive for the next poll
    polling = false;
    await poller;
    agent.destroy();
    assert.equal(server.server.listening, false);
    assert.ok(answered > answeredBeforeClose, 'the request in flight at close() was still answered');
  });
});
