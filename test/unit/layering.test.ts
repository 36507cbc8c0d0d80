import assert from 'node:assert/strict';
import path from 'node:path';
import { ESLint } from 'eslint';

// The layer bans are lint rules; these tests prove the rules fire (and do not fire) where intended.
const ROOT = path.resolve(__dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function lintAs(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layering lint rules', function () {
  // A guard against a hung lint run, not a timing: linting synthetic trees takes ~10 s alone, minutes on a loaded machine.
  this.timeout(300_000);

  it('domain/ may not import I/O modules, other layers, or read the wall clock', async () => {
    const messages = await lintAs(
      'domain/__lint_probe__.ts',
      `import { readFileSync } from 'node:fs';\nimport { Redis } from 'ioredis';\nimport { createActivities } from '../activities';\nexport const t = Date.now() + Math.random() + new Date().getTime();\nexport { readFileSync, Redis, createActivities };\n`,
    );
    assert.ok(messages.some((m) => m.includes("'node:fs'") || m.includes('no I/O modules')), messages.join('\n'));
    assert.ok(messages.filter((m) => m.includes('no-restricted-imports')).length >= 3, messages.join('\n'));
    assert.ok(messages.some((m) => m.includes('Date.now')), messages.join('\n'));
    assert.ok(messages.some((m) => m.includes('Math.random')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('no-restricted-syntax')), messages.join('\n'));
  });

  it('workflows/ may import activities as types only', async () => {
    const typeOnly = await lintAs('workflows/__lint_probe__.ts', `import type { Activities } from '../activities';\nexport type A = Activities;\n`);
    assert.deepEqual(typeOnly.filter((m) => m.includes('no-restricted-imports')), []);
    const valueImport = await lintAs('workflows/__lint_probe__.ts', `import { createActivities } from '../activities';\nexport const c = createActivities;\n`);
    assert.ok(valueImport.some((m) => m.includes('import activities as types only')), valueImport.join('\n'));
    const io = await lintAs('workflows/__lint_probe__.ts', `import postgres from 'postgres';\nimport { Client } from '@temporalio/client';\nexport { postgres, Client };\n`);
    assert.equal(io.filter((m) => m.includes('no-restricted-imports')).length, 2, io.join('\n'));
  });

  it('floating promises are errors everywhere', async () => {
    const messages = await lintAs('workers/__lint_probe__.ts', `async function f(): Promise<void> {}\nexport function g(): void { f(); }\n`);
    assert.ok(messages.some((m) => m.startsWith('@typescript-eslint/no-floating-promises')), messages.join('\n'));
  });

  const restricted = (messages: string[]) => messages.filter((m) => m.startsWith('@typescript-eslint/no-restricted-imports'));

  it('outer folders import only folders further in: a backward import fails at any depth', async () => {
    const backward: [file: string, specifier: string][] = [
      ['workers/__lint_probe__.ts', '../runs/paper-session'],
      ['workers/market-data/__lint_probe__.ts', '../../runtime/stack'],
      ['workers/signals/__lint_probe__.ts', '../../backtest/gold-backtest'],
      ['runtime/__lint_probe__.ts', '../runs/main-job'],
      ['runs/__lint_probe__.ts', '../cli/main'],
      ['backtest/__lint_probe__.ts', '../workers/signals/pipeline'],
      ['observability/__lint_probe__.ts', '../runtime/stack'],
      ['activities/__lint_probe__.ts', '../workers/redis'],
      ['venues/kalshi/__lint_probe__.ts', '../../activities/trading'],
      ['db/__lint_probe__.ts', '../venues/sim/sim-venue'],
      ['config/__lint_probe__.ts', '../db/client'],
      ['domain/strategies/__lint_probe__.ts', '../../backtest/gold-backtest'],
      ['workflows/__lint_probe__.ts', '../runtime/stack'],
    ];
    for (const [file, specifier] of backward) {
      const messages = await lintAs(file, `import * as m from '${specifier}';\nexport { m };\n`);
      assert.equal(restricted(messages).length, 1, `${file} importing ${specifier}: ${messages.join('\n')}`);
    }
  });

  it('forward imports pass, and a same-named folder further in is not mistaken for a layer', async () => {
    const forward: [file: string, specifier: string][] = [
      ['cli/commands/__lint_probe__.ts', '../../runs/paper-session'],
      ['runs/__lint_probe__.ts', '../runtime/stack'],
      ['runtime/__lint_probe__.ts', '../workers/signals/pipeline'],
      ['workers/market-data/__lint_probe__.ts', '../../observability/logger'],
      ['backtest/__lint_probe__.ts', '../domain/backtest/backtester'],
      ['domain/strategies/__lint_probe__.ts', '../backtest/backtester'],
      ['domain/__lint_probe__.ts', './signals/settings'],
    ];
    for (const [file, specifier] of forward) {
      const messages = await lintAs(file, `import * as m from '${specifier}';\nexport { m };\n`);
      // Only restriction messages count: a probe the parser could not read would pass vacuously.
      assert.deepEqual(messages.filter((m) => !m.startsWith('@typescript-eslint/no-unused-vars')), [], `${file} importing ${specifier}`);
    }
  });
});
