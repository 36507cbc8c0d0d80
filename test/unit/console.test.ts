import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { latestWalkForward } from '../../observability/console/data';
import { chartsBody } from '../../observability/console/pages';
import type { IncomingMessage } from 'node:http';
import type { Database } from '../../db/client';
import { runConsoleAction, type ConsoleActionPorts } from '../../observability/console/actions';
import { ConsoleSessions, loadConsoleToken, SESSION_COOKIE } from '../../observability/console/auth';
import { timeSeriesSvg, timeTicks } from '../../observability/console/charts';

const TOKEN = 'a-console-token-of-32-characters';
const request = (headers: Record<string, string>) => ({ headers: { host: '127.0.0.1:9464', ...headers } }) as unknown as IncomingMessage;

describe('console token', () => {
  const files: Record<string, string> = { '/run/token': `${TOKEN}\n` };
  const read = (p: string) => {
    const text = files[p];
    if (text === undefined) throw new Error('ENOENT: no such file');
    return text;
  };

  it('comes from KESTREL_CONSOLE_TOKEN or the first line of KESTREL_CONSOLE_TOKEN_FILE; neither is read-only', () => {
    assert.deepEqual(loadConsoleToken({ KESTREL_CONSOLE_TOKEN: TOKEN }, read), { token: TOKEN, source: 'KESTREL_CONSOLE_TOKEN' });
    assert.deepEqual(loadConsoleToken({ KESTREL_CONSOLE_TOKEN_FILE: '/run/token' }, read), { token: TOKEN, source: 'KESTREL_CONSOLE_TOKEN_FILE' });
    assert.deepEqual(loadConsoleToken({}, read), { token: undefined, source: 'none' });
  });

  it('refuses both at once, a short token and an unreadable file, with the reason', () => {
    assert.throws(() => loadConsoleToken({ KESTREL_CONSOLE_TOKEN: TOKEN, KESTREL_CONSOLE_TOKEN_FILE: '/run/token' }, read), /not both/);
    assert.throws(() => loadConsoleToken({ KESTREL_CONSOLE_TOKEN: 'short' }, read), /at least 16 characters/);
    assert.throws(() => loadConsoleToken({ KESTREL_CONSOLE_TOKEN_FILE: '/missing' }, read), /\/missing: ENOENT/);
  });
});

describe('console sessions', () => {
  let now = 1_000_000;
  const sessions = () => new ConsoleSessions(TOKEN, { ttlMs: 60_000, nowMs: () => now });

  it('logs in with the token only, as a named operator, into an HttpOnly SameSite=Strict cookie that expires', () => {
    const s = sessions();
    assert.deepEqual(s.login('alice', 'wrong-token-wrong-token'), { error: 'wrong token' });
    assert.match((s.login('alice bob', TOKEN) as { error: string }).error, /operator/);
    const ok = s.login('alice', TOKEN);
    assert.ok('cookie' in ok);
    assert.match(ok.cookie, new RegExp(`^${SESSION_COOKIE}=[\\w-]{43}; HttpOnly; SameSite=Strict; Path=/; Max-Age=60$`));
    const cookie = ok.cookie.split(';')[0]!;
    assert.deepEqual(s.identify(request({ cookie })), { operator: 'alice', via: 'cookie', csrf: ok.identity.csrf });
    assert.equal(s.identify(request({ cookie: `${SESSION_COOKIE}=forged` })), undefined);
    now += 60_000;
    assert.equal(s.identify(request({ cookie })), undefined, 'expired');
  });

  it('takes the bearer token for API clients (no CSRF needed: browsers never add it on their own)', () => {
    const s = sessions();
    const who = s.identify(request({ authorization: `Bearer ${TOKEN}` }));
    assert.deepEqual(who, { operator: 'api', via: 'bearer', csrf: '' });
    assert.equal(s.csrfProblem(request({}), who!), undefined);
    assert.equal(s.identify(request({ authorization: 'Bearer nope' })), undefined);
  });

  it('needs the session CSRF token on actions, and the same origin when the browser names one', () => {
    const s = sessions();
    const ok = s.login('alice', TOKEN);
    assert.ok('identity' in ok);
    const who = ok.identity;
    assert.match(s.csrfProblem(request({}), who)!, /CSRF/);
    assert.match(s.csrfProblem(request({ 'x-csrf-token': 'guess' }), who)!, /CSRF/);
    assert.equal(s.csrfProblem(request({ 'x-csrf-token': who.csrf, origin: 'http://127.0.0.1:9464', 'sec-fetch-site': 'same-origin' }), who), undefined);
    assert.match(s.csrfProblem(request({ 'x-csrf-token': who.csrf, origin: 'http://evil.example' }), who)!, /cross-origin/);
    assert.match(s.csrfProblem(request({ 'x-csrf-token': who.csrf, 'sec-fetch-site': 'cross-site' }), who)!, /cross-site/);
  });

  it('without a token, nobody logs in and nobody is identified (read-only)', () => {
    const s = new ConsoleSessions(undefined, { ttlMs: 1000, nowMs: () => now });
    assert.equal(s.readOnly, true);
    assert.match((s.login('alice', TOKEN) as { error: string }).error, /read-only/);
    assert.equal(s.identify(request({ authorization: `Bearer ${TOKEN}` })), undefined);
  });
});

describe('console actions: bad input', () => {
  // Refused before anything runs or is recorded: neither the ports nor the database may be touched.
  const untouchable = new Proxy({}, { get: (_, key) => { throw new Error(`touched ${String(key)}`); } });
  const run = (name: string, body: unknown) => runConsoleAction(untouchable as Database, untouchable as ConsoleActionPorts, { operator: 'alice', remoteAddress: '127.0.0.1' }, name, body);

  it('refuses unknown actions, bad urgencies and unconfirmed flatten / cancel with a clear message', async () => {
    assert.deepEqual(await run('sell-everything', {}), { status: 404, outcome: 'rejected', message: 'unknown action "sell-everything"; known: exit, flatten-all, cancel-all, strategy-start, strategy-stop, risk-reset' });
    const urgency = await run('exit', { positionId: 'position/x', urgency: 'URGENT' });
    assert.equal(urgency.status, 400);
    assert.match(urgency.message, /urgency/);
    assert.match((await run('flatten-all', { reason: 'r', confirm: 'yes' })).message, /type FLATTEN to confirm/);
    assert.match((await run('cancel-all', { reason: 'r' })).message, /type CANCEL to confirm/);
    assert.match((await run('risk-reset', { reason: '  ' })).message, /reason is required/);
  });
});

describe('console charts', () => {
  const at = (iso: string) => Date.parse(iso);

  it('puts time ticks on round UTC times, as times within a day and as dates across days', () => {
    assert.deepEqual(timeTicks(at('2026-12-03T10:07:00Z'), at('2026-12-03T11:02:00Z')).map((t) => t.label), ['10:15', '10:30', '10:45', '11:00']);
    assert.deepEqual(timeTicks(at('2026-12-03T10:00:02Z'), at('2026-12-03T10:00:31Z')).map((t) => t.label), ['10:00:05', '10:00:10', '10:00:15', '10:00:20', '10:00:25', '10:00:30']);
    assert.deepEqual(timeTicks(at('2026-12-01T05:00:00Z'), at('2026-12-06T05:00:00Z')).map((t) => t.label), ['12-02', '12-03', '12-04', '12-05', '12-06']);
  });

  it('draws each series as a step line over its time axis, with its last value in the legend', () => {
    const svg = timeSeriesSvg('pnl', [{ name: 'momentum <v1>', points: [{ atMs: at('2026-12-03T10:00:00Z'), value: 0.5 }, { atMs: at('2026-12-03T12:00:00Z'), value: -0.25 }] }], { empty: 'none' });
    assert.match(svg, /<path class="series" data-series="momentum &lt;v1&gt;" data-points="2" d="M64\.0,[\d.]+ H744\.0 V[\d.]+"/);
    assert.ok((svg.match(/class="x-tick"/g) ?? []).length >= 2);
    assert.match(svg, /momentum &lt;v1&gt;: -0\.25/);
    assert.match(timeSeriesSvg('pnl', [], { empty: 'no closed positions yet' }), /no closed positions yet/);
  });
});

describe('console: latest walk-forward folds', () => {
  it('shows the newest walk-forward.json as a folds table, and says why one is unreadable', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-wf-'));
    assert.match(chartsBody({}, undefined, [], latestWalkForward(dir)), /No walk-forward run yet/);
    const write = (name: string, body: unknown, mtimeS: number) => {
      mkdirSync(path.join(dir, name));
      const file = path.join(dir, name, 'walk-forward.json');
      writeFileSync(file, JSON.stringify(body));
      utimesSync(file, mtimeS, mtimeS);
    };
    const fold = (train: string, test: string, inSample: number, outOfSample: number) => ({ train: [train], test: [test], chosen: 'minMove $0.06, lookback 60 s', inSample, outOfSample });
    write('walk-forward-old', { strategy: 'momentum', writtenAt: '2026-12-01T00:00:00Z', folds: [fold('2026-08-01', '2026-08-02', 1, -1)], inSampleTotal: 1, outOfSampleTotal: -1, efficiency: -1 }, 1_000);
    write('walk-forward-new', { strategy: 'momentum', writtenAt: '2026-12-02T00:00:00Z', folds: [fold('2026-08-05', '2026-08-06', 2.5, 0.75), fold('2026-08-06', '2026-08-07', 1.25, -0.5)], inSampleTotal: 3.75, outOfSampleTotal: 0.25, efficiency: 0.0667 }, 2_000);
    const html = chartsBody({}, undefined, [], latestWalkForward(dir));
    assert.match(html, /walk-forward-new/);
    assert.match(html, /in-sample 3\.75, out-of-sample 0\.25, efficiency 0\.07/);
    assert.match(html, /<td>2026-08-05<\/td><td>2026-08-06<\/td><td>minMove \$0\.06, lookback 60 s<\/td><td>2\.50<\/td><td>0\.75<\/td>/);
    assert.doesNotMatch(html, /2026-08-01/);
    write('walk-forward-broken', { strategy: 'momentum', folds: 'none' }, 3_000);
    assert.match(chartsBody({}, undefined, [], latestWalkForward(dir)), /walk-forward-broken\/walk-forward\.json is unreadable: writtenAt: .*folds: /s);
  });
});
