import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { crashCycle, judge, kill, spawnWorker, WALK_BOOK, type CrashEnv } from '../support/crash-harness';
import { getHarness, uniqueName } from '../support/harness';

describe('worker killed mid-walk (SIGKILL) and restarted', function () {
  this.timeout(180_000);
  let worker: ChildProcess | undefined;
  let db: DatabaseHandle;
  after(async () => {
    if (worker) await kill(worker);
    await db?.close();
  });

  it('resumes at the same attempt; the walk amends its order, and no order is sent twice', async () => {
    const harness = await getHarness();
    db = openDatabase(harness.databaseUrl, { max: 2 });
    const env: CrashEnv = { databaseUrl: harness.databaseUrl, redisUrl: harness.redisUrl, temporalAddress: harness.temporalAddress, taskQueue: uniqueName('crash-tq'), redisPrefix: uniqueName('crash') };
    const market = uniqueName('CRASH');
    worker = await spawnWorker(env, { [market]: WALK_BOOK });
    const cycle = await crashCycle({ env, client: harness.env.client, db: db.db, market, killAfterMs: 1500, worker });
    worker = cycle.worker;
    const r = cycle.result;
    assert.ok(r.killedAtAttempt !== undefined && r.killedAtAttempt < 12, `killed mid-walk (attempt ${r.killedAtAttempt})`);
    // LOW walks 11 limit attempts, then one marketable IOC fills at the bid.
    assert.deepEqual(r.attemptNumbers, Array.from({ length: 12 }, (_, i) => i + 1));
    assert.deepEqual(judge(r), { lost: false, duplicateOrders: 0 });
    // The walk amends one order, which outlives the killed process (the paper exchange keeps it in
    // Redis); a restarted walk places at most one new order, and the marketable IOC is the last: at most 3 exit orders.
    assert.ok(r.exitOrders >= 2 && r.exitOrders <= 3, `${r.exitOrders} exit orders`);
    assert.equal(r.ordersSent, 1 + r.exitOrders);
  });
});
