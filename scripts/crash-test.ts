// `npm run crash-test -- [cycles]`: repeatedly SIGKILLs the worker process in the middle of an
// exit walk and restarts it, then checks every position finished with one order per attempt and
// no attempt skipped or repeated. Progress on stderr; the last line is a JSON object of counts.
import { openDatabase } from '../db/client';
import { crashCycle, judge, kill, spawnWorker, WALK_BOOK, type CrashEnv } from '../test/support/crash-harness';
import { getHarness, teardownHarness, uniqueName } from '../test/support/harness';

async function main(): Promise<number> {
  const cycles = Number(process.argv[2] ?? 10);
  if (!Number.isInteger(cycles) || cycles < 1) {
    process.stderr.write('usage: npm run crash-test -- [cycles ≥ 1]\n');
    return 2;
  }
  const harness = await getHarness();
  const db = openDatabase(harness.databaseUrl, { max: 2 });
  const env: CrashEnv = { databaseUrl: harness.databaseUrl, redisUrl: harness.redisUrl, temporalAddress: harness.temporalAddress, taskQueue: uniqueName('crash-tq'), redisPrefix: uniqueName('crash') };
  const totals = { cycles, kills: 0, lostPositions: 0, duplicateOrders: 0, ordersSent: 0, attempts: 0, killedAtAttempts: [] as (number | null)[], secondsPerCycle: [] as number[] };
  let worker = await spawnWorker(env, {});
  try {
    for (let i = 0; i < cycles; i++) {
      const market = uniqueName(`CRASH${i}`);
      await kill(worker);
      worker = await spawnWorker(env, { [market]: WALK_BOOK });
      const started = Date.now();
      // Kill points spread over the walk: an attempt (quote, order, 200 ms resting, cancel, record) takes about a second.
      const killAfterMs = 300 + ((i * 1097) % 9000);
      const cycle = await crashCycle({ env, client: harness.env.client, db: db.db, market, killAfterMs, worker });
      worker = cycle.worker;
      const verdict = judge(cycle.result);
      totals.kills++;
      totals.lostPositions += verdict.lost ? 1 : 0;
      totals.duplicateOrders += verdict.duplicateOrders;
      totals.ordersSent += cycle.result.ordersSent;
      totals.attempts += cycle.result.attemptsRecorded;
      totals.killedAtAttempts.push(cycle.result.killedAtAttempt ?? null);
      totals.secondsPerCycle.push(Math.round((Date.now() - started) / 100) / 10);
      process.stderr.write(`[${i + 1}/${cycles}] killed at attempt ${cycle.result.killedAtAttempt ?? '-'}; attempts ${cycle.result.attemptNumbers.join(',')}; orders ${cycle.result.ordersSent}; ${verdict.lost ? 'LOST' : 'ok'}\n`);
    }
  } finally {
    await kill(worker);
    await db.close();
    await teardownHarness();
  }
  process.stdout.write(`${JSON.stringify(totals)}\n`);
  return totals.lostPositions === 0 && totals.duplicateOrders === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err: unknown) => (process.stderr.write(`${String(err)}\n`), process.exit(1)));
