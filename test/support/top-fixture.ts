// Runs the `kestrel top` view on canned data in a terminal, for test/unit/top-app.test.ts: the
// loads after the first fail (as when Postgres or Redis is down) and the actions only record what
// they were asked, so the test can check the screen's handling of both without services.
import { appendFileSync } from 'node:fs';
import React from 'react';
import { createTopApp, loadTerminalModules } from '../../cli/top/app';
import type { TopSnapshot } from '../../cli/top/view';

const [actionsLog = '/dev/null'] = process.argv.slice(2);
const snapshot: TopSnapshot = {
  readAtMs: Date.now(),
  data: {
    generatedAt: new Date().toISOString(),
    temporalUi: 'http://127.0.0.1:8233/namespaces/default',
    risk: { mode: 'HALTED', dailyPnl: '-1.2300', consecutiveLosses: 3, tripped: [{ breaker: 'daily_loss', reason: 'daily loss 2.1% over 2%' }] },
    open: [{ positionId: 'position/fixture/MKT-A/1', market: 'MKT-A', outcome: 'yes', status: 'open', entryPrice: '0.5000', remaining: '4', mark: '0.4500', unrealizedPnl: '-0.2000' }],
    closed: [],
    pnlCurve: [],
    signals: [],
    strategyRuns: [],
    retraining: [],
  },
  tops: new Map(),
  partitions: [],
  members: [],
};

async function main(): Promise<void> {
  const { ink } = await loadTerminalModules();
  const TopApp = createTopApp(ink);
  let loads = 0;
  const instance = ink.render(
    React.createElement(TopApp, {
      initial: snapshot,
      refreshMs: 200,
      urgency: 'MEDIUM',
      actions: {
        load: async () => {
          loads++;
          throw new Error(`Postgres or Redis did not answer within 5s (load ${loads})`);
        },
        exitPosition: async (positionId) => {
          appendFileSync(actionsLog, `exit ${positionId}\n`);
          return { accepted: true, result: { accepted: true, positionId, urgency: 'MEDIUM' } };
        },
        flattenAll: async () => {
          appendFileSync(actionsLog, 'flatten\n');
          return [];
        },
      },
    }),
  );
  await instance.waitUntilExit();
}

void main();
