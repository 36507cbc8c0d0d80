import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { AlertRateLimiter, type Alert } from '../../domain/alerts';
import { KalshiRestClient } from '../../venues/kalshi/rest-client';
import { createAlerter, smtpChannel, webhookChannel } from '../../observability/alerts';
import { createLogger } from '../../observability/logger';
import { checkStaleData } from '../../workers/stale-data-watch';
import { openDatabase } from '../../db/client';
import { upsertMarketSnapshot } from '../../db/market-data-repo';
import { eq } from 'drizzle-orm';
import { positions } from '../../db/schema';
import { BookStore } from '../../domain/market-data/book-store';
import { startStack, type Stack } from '../../runtime/stack';
import type { PositionInput } from '../../workflows/position';
import { getHarness, uniqueName } from '../support/harness';
import { level, waitFor } from '../support/wait';
import { positionQuery, positionWorkflow, requestExitUpdate } from '../../workflows/position';

/** A local webhook receiver (what Slack or Discord would get). */
async function webhookReceiver(): Promise<{ url: string; bodies: { text: string; content: string; kestrel: Alert & { suppressedBefore: number } }[]; server: Server }> {
  const bodies: { text: string; content: string; kestrel: Alert & { suppressedBefore: number } }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(data));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
}

/** A local SMTP server that keeps every message it receives. */
async function smtpReceiver(): Promise<{ port: number; messages: string[]; server: SMTPServer }> {
  const messages: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString()));
      stream.on('end', () => {
        messages.push(data);
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.server.address() as AddressInfo).port, messages, server };
}

function captureLogs(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write: (chunk: Buffer, _enc, cb) => (chunks.push(chunk.toString()), cb()) }), text: () => chunks.join('') };
}

describe('alerts (webhook + SMTP, rate-limited) and structured logs without secrets', function () {
  this.timeout(90_000);

  it('rate-limits per key and reports what it held back', () => {
    const limiter = new AlertRateLimiter({ maxPerWindow: 2, windowMs: 1000 });
    const sent = [0, 10, 20, 30, 1015, 1030].map((t) => limiter.admit('k', t));
    assert.deepEqual(sent.map((s) => s.send), [true, true, false, false, true, true]);
    assert.deepEqual(sent[4], { send: true, suppressedBefore: 2 });
    assert.deepEqual(limiter.admit('other', 30), { send: true, suppressedBefore: 0 }, 'keys are limited separately');
  });

  it('stale-data watch: alerts for a market this process was receiving, with open positions, gone quiet before its close', async () => {
    const harness = await getHarness();
    const handle = openDatabase(harness.databaseUrl, { max: 1 });
    try {
      const now = Date.now();
      const books = new BookStore({ historyCapacity: 10, sampleMs: 1000 });
      const [quiet, fresh, closed, unseen] = ['QUIET', 'FRESH', 'CLOSED', 'UNSEEN'].map((p) => uniqueName(p));
      books.state(quiet!).receivedAtMs = now - 20_000;
      books.state(fresh!).receivedAtMs = now - 1_000;
      books.state(closed!).receivedAtMs = now - 20_000;
      for (const m of [quiet!, fresh!, closed!, unseen!]) {
        await upsertMarketSnapshot(handle.db, { venue: 'sim', marketTicker: m, status: 'active', attributes: { close_time: new Date(m === closed ? now - 60_000 : now + 3_600_000).toISOString() } }, now);
        await handle.db.insert(positions).values({ positionId: `position/stale/${m}`, strategyId: 'stale-test', venue: 'sim', marketTicker: m, outcome: 'yes', status: 'open', state: {} });
      }
      const alerts: string[] = [];
      const stale = await checkStaleData({ db: handle.db, books, clock: { nowMs: () => now }, staleDataMs: 15_000, alert: (a) => alerts.push(`${a.kind} ${a.key} ${a.title}`) });
      assert.deepEqual(stale, [quiet]);
      assert.deepEqual(alerts, [`stale_data ${quiet} market data for ${quiet} is stale`]);
    } finally {
      // Other suites count open positions in the shared database against their risk limits.
      await handle.db.delete(positions).where(eq(positions.strategyId, 'stale-test'));
      await handle.close();
    }
  });

  it('delivers to a local webhook and a local SMTP server, at most N per window per key', async () => {
    const hook = await webhookReceiver();
    const smtp = await smtpReceiver();
    let now = 1_000_000;
    const logs = captureLogs();
    const alerter = createAlerter({
      channels: [webhookChannel(hook.url), smtpChannel({ host: '127.0.0.1', port: smtp.port, secure: false, from: 'kestrel@localhost', to: ['ops@example.com'] })],
      limiter: new AlertRateLimiter({ maxPerWindow: 2, windowMs: 60_000 }),
      clock: { nowMs: () => now },
      logger: createLogger({ level: 'info', destination: logs.stream }),
    });
    try {
      for (let i = 0; i < 5; i++) alerter({ kind: 'breaker', severity: 'critical', title: 'circuit breaker daily_loss tripped', detail: `loss #${i}`, key: 'daily_loss' });
      await alerter.flush();
      now += 61_000;
      alerter({ kind: 'breaker', severity: 'critical', title: 'circuit breaker daily_loss tripped', detail: 'again', key: 'daily_loss' });
      await alerter.flush();
      assert.equal(hook.bodies.length, 3);
      assert.match(hook.bodies[0]!.text, /^\[kestrel CRITICAL\] circuit breaker daily_loss tripped\nloss #0/);
      assert.equal(hook.bodies[0]!.content, hook.bodies[0]!.text, 'Discord reads content, Slack reads text');
      assert.equal(hook.bodies[2]!.kestrel.suppressedBefore, 3);
      assert.match(hook.bodies[2]!.text, /\+3 similar alerts suppressed/);
      await waitFor(() => smtp.messages.length, (n) => n === 3, 'three emails');
      assert.match(smtp.messages[0]!, /Subject: \[kestrel CRITICAL\] circuit breaker daily_loss tripped/);
      assert.match(smtp.messages[0]!, /To: ops@example.com/);
      assert.equal(logs.text().split('\n').filter((l) => l.includes('"msg":"ALERT')).length, 6, 'every alert is logged, sent or not');
    } finally {
      hook.server.close();
      await new Promise<void>((r) => smtp.server.close(() => r()));
    }
  });

  it('a real position closing at a large loss alerts through the stack, and no log line holds the Kalshi key material', async () => {
    const harness = await getHarness();
    const hook = await webhookReceiver();
    const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-secrets-'));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const keyPath = path.join(dir, 'kalshi-test-key.pem');
    writeFileSync(keyPath, pem);
    const keyId = `key-id-${uniqueName('secret')}`;
    const logs = captureLogs();
    let stack: Stack | undefined;
    // A venue that refuses every signed request, so the credentials are used and the failure is logged.
    const venue = createServer((req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'unauthorized', message: 'bad signature', echoed: req.headers['kalshi-access-key'] } })));
    await new Promise<void>((r) => venue.listen(0, '127.0.0.1', r));
    try {
      const config = harness.config({ 'alerts.webhookUrl': hook.url, 'alerts.largeLossDollars': '0.01', 'logging.level': 'trace' });
      stack = await startStack(config, { workflowBundle: harness.workflowBundle, logger: createLogger({ level: 'trace', destination: logs.stream }), env: { ...process.env, KALSHI_API_KEY_ID: keyId, KALSHI_PRIVATE_KEY_PATH: keyPath } });
      assert.equal(stack.kalshiCredentials?.apiKeyId, keyId);

      const m = uniqueName('ALRT');
      stack.books.state(m).book.applySnapshot([level('0.40', 100)], [level('0.50', 100)], Date.now());
      stack.books.state(m).receivedAtMs = Date.now();
      const input: PositionInput = { strategyId: 'alerts-test', market: m, outcome: 'yes', closeTimeMs: Date.now() + 3_600_000, entry: { limitPrice: '0.51', size: '10', timeoutMs: 500 }, cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 } };
      const handle = await stack.temporal.workflow.start(positionWorkflow, { args: [input], taskQueue: config.temporal.taskQueue, workflowId: `position/alerts/${m}` });
      await waitFor(() => handle.query(positionQuery), (x) => x.status === 'open', 'open');
      await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
      await handle.result();
      const alert = await waitFor(() => hook.bodies.find((b) => b.kestrel.kind === 'large_loss'), Boolean, 'large-loss alert');
      assert.match(alert!.text, new RegExp(`large loss on position/alerts/${m}`));
      assert.match(alert!.text, /realized P&L -1\.\d{4}/, 'bought 10 at 0.50, sold at 0.40, plus fees');

      const kalshi = new KalshiRestClient({ baseUrl: `http://127.0.0.1:${(venue.address() as AddressInfo).port}/trade-api/v2`, credentials: stack.kalshiCredentials, clock: { nowMs: () => Date.now() }, limits: { read: { refillPerSecond: 100, capacity: 100 }, write: { refillPerSecond: 100, capacity: 100 } }, maxRetries: 0 });
      const failure = await kalshi.balance().then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(failure, 'the venue refused');
      stack.logger.error({ err: failure, credentials: stack.kalshiCredentials }, 'kalshi balance failed');
    } finally {
      await stack?.shutdown();
      hook.server.close();
      venue.close();
    }
    const text = logs.text();
    assert.ok(text.length > 0 && text.includes('kalshi credentials loaded'), 'logs were captured');
    assert.ok(text.includes('"workflowId":"position/alerts/'), 'activity logs carry the workflow id');
    for (const secret of [keyId, keyPath, pem.split('\n')[1]!, pem.split('\n')[5]!]) assert.ok(!text.includes(secret), `a log line holds secret material: ${secret.slice(0, 12)}…`);
  });
});
