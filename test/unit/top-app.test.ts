import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/harness';
import { PtyScreen } from '../support/pty-screen';

// The view on canned data (test/support/top-fixture.ts) in a real pseudo-terminal: what the
// integration test cannot easily provoke against live services.
describe('kestrel top view in a pseudo-terminal', function () {
  this.timeout(60_000);
  let dir: string;
  let screen: PtyScreen | undefined;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'kestrel-top-'))));
  afterEach(() => {
    screen?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the last data on screen and says why when a refresh fails; pasted keys cannot answer the prompt they open', async () => {
    const actions = path.join(dir, 'actions.log');
    writeFileSync(actions, '');
    screen = new PtyScreen(process.execPath, ['--require', 'tsx/cjs', path.join(REPO_ROOT, 'test', 'support', 'top-fixture.ts'), actions], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', TERM: 'xterm-256color' }, cols: 120, rows: 30 });
    const term = screen;
    const failed = await term.waitFor((t) => /refresh failing, showing data \S+ old/.test(t) && /refresh failed: Postgres or Redis did not answer within 5s \(load \d+\)/.test(t), 'the refresh failure');
    assert.match(failed, /position\/fixture\/MKT-A\/1/, 'the last data stays');
    assert.match(failed, /risk HALTED · daily P&L -1\.2300 · consecutive losses 3 · breakers TRIPPED daily_loss \(daily loss 2\.1% over 2%\)/);
    // 'x' and 'y' in one read (a paste, or keys faster than a read): the prompt opens and waits.
    term.press('xy');
    await term.waitFor((t) => t.includes('Exit position/fixture/MKT-A/1 (MKT-A yes, 4 left) at MEDIUM urgency? [y/N]'), 'the exit prompt');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(readFileSync(actions, 'utf8'), '', 'no exit without a y of its own');
    term.press('y');
    await term.waitFor((t) => t.includes('exit requested: position/fixture/MKT-A/1 (MEDIUM)'), 'the exit requested');
    assert.equal(readFileSync(actions, 'utf8'), 'exit position/fixture/MKT-A/1\n');
    term.press('q');
    assert.equal((await term.exited).exitCode, 0);
  });
});
