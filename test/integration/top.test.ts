import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { exitAttempts } from '../../db/schema';
import { topOfBookFields, topOfBookKey } from '../../workers/market-data/book-worker';
import { positionQuery, positionWorkflow, type PositionInput } from '../../workflows/position';
import { getHarness, REPO_ROOT, uniqueName } from '../support/harness';
import { KEY, PtyScreen } from '../support/pty-screen';
import { useStack } from '../support/stack';
import { level, waitFor } from '../support/wait';

const KESTREL_BIN = path.join(REPO_ROOT, 'bin', 'kestrel.js');

describe('kestrel top in a pseudo-terminal (real stack)', function () {
  this.timeout(120_000);
  const stack = useStack();
  let screen: PtyScreen | undefined;
  afterEach(() => screen?.dispose());

  it('refuses to start without a terminal, saying what to use instead', () => {
    // Pipes, not a TTY: the command must not try to draw.
    const run = spawnSync(process.execPath, [KESTREL_BIN, 'top'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /kestrel top: needs an interactive terminal \(stdout is not a TTY\); for scripts use `kestrel positions --json`/);
  });

  it('shows a seeded position live, exits it through the requestExit Update after y, shows refusals, flattens, resizes and quits cleanly', async () => {
    const s = stack();
    const harness = await getHarness();
    const held = uniqueName('TOP');
    const resting = uniqueName('TOPR');
    const now = Date.now();
    for (const m of [held, resting]) {
      s.books.state(m).book.applySnapshot([level('0.45', 100)], [level('0.50', 100)], now);
      s.books.state(m).receivedAtMs = now;
    }
    // Only the held market's top is published, as a book worker would: the other shows as unpublished.
    await s.redis.hset(topOfBookKey(s.config.redis.keyPrefix, held), topOfBookFields(s.books.state(held).book));
    const start = (id: string, market: string, entry: PositionInput['entry']) => {
      const input: PositionInput = { strategyId: 'top-test', market, outcome: 'yes', closeTimeMs: Date.now() + 3_600_000, entry, cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 } };
      return s.temporal.workflow.start(positionWorkflow, { args: [input], taskQueue: s.config.temporal.taskQueue, workflowId: id });
    };
    const openId = `position/top/${held}/1`;
    const open = await start(openId, held, { limitPrice: '0.51', size: '4', timeoutMs: 500 });
    await waitFor(() => open.query(positionQuery), (p) => p.status === 'open', 'the held position open');
    // Bids below the ask rest: this one stays `entering` (no contracts yet) until something stops it.
    const enteringId = `position/top/${resting}/1`;
    const entering = await start(enteringId, resting, { limitPrice: '0.40', size: '2', timeoutMs: 90_000 });
    await waitFor(() => entering.query(positionQuery), (p) => p.status === 'entering', 'the resting entry');

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      TERM: 'xterm-256color',
      DATABASE_URL: harness.databaseUrl,
      REDIS_URL: harness.redisUrl,
      TEMPORAL_ADDRESS: harness.temporalAddress,
      KESTREL__REDIS__KEY_PREFIX: s.config.redis.keyPrefix,
    };
    screen = new PtyScreen(process.execPath, [KESTREL_BIN, 'top', '--refresh-ms', '300'], { cwd: REPO_ROOT, env, cols: 140, rows: 40 });
    const term = screen;
    const first = await term.waitFor((t) => t.includes(openId) && t.includes(enteringId), 'both seeded positions on screen', 60_000);
    assert.equal(await term.activeBuffer(), 'alternate', 'full screen: drawn on the alternate screen');
    assert.match(first, /kestrel top/);
    assert.match(first, /risk ACTIVE/);
    assert.match(first, /Feed health · partitions 4\/4 owned, 1 market-data process/);
    // Marked at the published YES bid: bought 4 at 0.50, bid 0.45.
    const row = (screenText: string, needle: string) => screenText.split('\n').find((l) => l.includes(needle) && l.includes(' yes ')) ?? '';
    assert.match(row(first, openId), /open\s+0\.5000\s+4(\.\d+)?\s+0\.4500\s+-0\.2000$/);
    /** The open-positions section of a screen (it runs until the feed-health title). */
    const openSection = (screenText: string) => {
      const lines = screenText.split('\n');
      const from = lines.findIndex((l) => l.startsWith('Open positions'));
      const to = lines.findIndex((l) => l.startsWith('Feed health'));
      return from < 0 ? '' : lines.slice(from, to < 0 ? undefined : to).join('\n');
    };
    const feedLine = (screenText: string, market: string) => screenText.split('\n').find((l) => l.startsWith(market)) ?? '';
    assert.match(feedLine(first, held), /\s0\.45\d*\s+0\.50?\d*\s+\S+\s+ok\s*$/);
    assert.match(feedLine(first, resting), /no top\s+no book worker has published this market/);

    /** Moves the selection to `positionId` (other suites may have left positions in the shared database) and opens the exit prompt. */
    const promptExitOf = async (positionId: string) => {
      term.press('g'); // from the first row down
      await new Promise((r) => setTimeout(r, 100));
      for (let tries = 0; tries < 50; tries++) {
        term.press('x');
        const prompt = await term.waitFor((t) => t.includes('[y/N]'), 'the exit prompt');
        if (prompt.includes(`Exit ${positionId} (`)) return prompt;
        term.press('n');
        await term.waitFor((t) => t.includes('cancelled') && !t.includes('[y/N]'), 'the prompt cancelled');
        term.press(KEY.down);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`could not select ${positionId}:\n${await term.text()}`);
    };

    // Exit the held position: the prompt names it; y sends the Update.
    const prompt = await promptExitOf(openId);
    assert.match(prompt, new RegExp(`Exit ${openId.replace(/[/]/g, '\\/')} \\(${held} yes, 4(\\.\\d+)? left\\) at MEDIUM urgency\\? \\[y/N\\]`));
    assert.ok(await term.inverseAt(openId), 'the selected row is highlighted');
    term.press('y');
    await term.waitFor((t) => t.includes(`exit requested: ${openId} (MEDIUM)`), 'the exit accepted');
    // The Update landed: the workflow took the manual exit and its attempts are in Postgres.
    const attempts = await waitFor(
      () => s.database.db.select().from(exitAttempts).where(eq(exitAttempts.positionId, openId)),
      (rows) => rows.length > 0,
      'exit attempts in Postgres',
    );
    assert.equal(attempts[0]!.urgency, 'MEDIUM');
    assert.match(attempts[0]!.reason, /manual/);
    const exiting = await open.query(positionQuery);
    assert.ok(exiting.status === 'closed' || exiting.currentExit?.urgency === 'MEDIUM' || exiting.pendingManualExit?.reason === 'manual (kestrel top)', JSON.stringify(exiting));

    // The workflow refuses an exit of a position with no contracts yet: the screen says why.
    await promptExitOf(enteringId);
    term.press('y');
    await term.waitFor((t) => t.includes(`exit refused: position ${enteringId} has no contracts yet (entry order still working)`), 'the refusal');
    assert.equal((await entering.query(positionQuery)).status, 'entering', 'a refused exit changes nothing');

    // Flatten-all: anything but y cancels; y signals every open position (the resting entry is cancelled).
    term.press('F');
    await term.waitFor((t) => t.includes('FLATTEN ALL: CRITICAL exit for every open position'), 'the flatten prompt');
    term.press('n');
    await term.waitFor((t) => t.includes('cancelled'), 'flatten cancelled');
    assert.equal((await entering.query(positionQuery)).status, 'entering');
    term.press('F');
    await term.waitFor((t) => t.includes('FLATTEN ALL'), 'the flatten prompt again');
    term.press('y');
    await term.waitFor((t) => /flatten-all: CRITICAL exit requested for \d+ positions?/.test(t), 'flatten-all done');
    // The walking MEDIUM exit becomes CRITICAL and closes; the halted entry is cancelled.
    assert.equal((await open.result()).status, 'closed');
    assert.equal((await entering.result()).status, 'entry_failed', 'the halted entry was cancelled');
    const flat = await term.waitFor((t) => !openSection(t).includes(openId) && !openSection(t).includes(enteringId), 'both gone from the open list');
    assert.match(flat.split('\n').find((l) => l.includes(openId)) ?? '', /-0\.\d{4}$/, 'listed under recently closed with its realized loss');

    // A resize redraws to the new width.
    term.resize(90, 24);
    const resized = await term.waitFor((t) => t.split('\n').some((l) => l.startsWith('↑/↓ select')) && t.includes('Open positions'), 'redrawn after the resize');
    assert.ok(resized.split('\n').every((l) => l.length <= 90));

    term.press('q');
    const exit = await term.exited;
    assert.equal(exit.exitCode, 0, term.raw.slice(-500));
    assert.equal(await term.activeBuffer(), 'normal', 'the screen is given back on q');
  });
});
