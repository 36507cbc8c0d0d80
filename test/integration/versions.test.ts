import assert from 'node:assert/strict';
import { eq, sql } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { strategyVersions } from '../../db/schema';
import { activeVersion, createVersion, currentStatus, transitionVersion } from '../../db/versions-repo';
import { getHarness, uniqueName } from '../support/harness';

describe('immutable strategy and model versions (real Postgres)', function () {
  this.timeout(60_000);
  let h: DatabaseHandle;
  before(async () => {
    h = openDatabase((await getHarness()).databaseUrl, { max: 2 });
  });
  after(() => h?.close());

  it('creates v1.0 then v1.1 for new content, and refuses identical content', async () => {
    const name = uniqueName('momentum');
    const v10 = await createVersion(h.db, 'strategy', name, { minEdge: '0.02' });
    const v11 = await createVersion(h.db, 'strategy', name, { minEdge: '0.03' });
    assert.deepEqual([v10.version, v11.version, v11.status], ['v1.0', 'v1.1', 'draft']);
    await assert.rejects(createVersion(h.db, 'strategy', name, { minEdge: '0.03' }), /already has exactly this content/);
  });

  it('the database refuses UPDATE and DELETE of a version, whoever sends them', async () => {
    const v = await createVersion(h.db, 'strategy', uniqueName('s'), { a: 1 });
    await assert.rejects(h.db.update(strategyVersions).set({ config: { a: 2 } }).where(eq(strategyVersions.id, v.id)), (e: Error) => /strategy_versions rows are immutable: UPDATE refused/.test(String((e.cause as Error | undefined)?.message ?? e.message)));
    await assert.rejects(h.sql`delete from strategy_versions where id = ${v.id}`, /immutable: DELETE refused/);
    await assert.rejects(h.sql`update strategy_version_status set status = 'active' where strategy_version_id = ${v.id}`, /strategy_version_status rows are immutable/);
    const [row] = await h.db.select().from(strategyVersions).where(eq(strategyVersions.id, v.id));
    assert.deepEqual(row!.config, { a: 1 });
  });

  it('walks the strategy lifecycle; activating a version deprecates the previous active one', async () => {
    const name = uniqueName('s');
    const a = await createVersion(h.db, 'strategy', name, { x: 1 });
    await assert.rejects(transitionVersion(h.db, 'strategy', a.id, 'active', 'skip testing'), /cannot go from draft to active \(allowed: testing, deprecated\)/);
    await transitionVersion(h.db, 'strategy', a.id, 'testing', 'paper');
    await transitionVersion(h.db, 'strategy', a.id, 'active', 'go');
    assert.equal((await activeVersion(h.db, 'strategy', name))!.version, 'v1.0');
    const b = await createVersion(h.db, 'strategy', name, { x: 2 });
    await transitionVersion(h.db, 'strategy', b.id, 'testing', 'paper');
    await transitionVersion(h.db, 'strategy', b.id, 'active', 'better');
    assert.equal((await activeVersion(h.db, 'strategy', name))!.version, 'v1.1');
    assert.equal(await currentStatus(h.db, 'strategy', a.id), 'deprecated');
    await assert.rejects(transitionVersion(h.db, 'strategy', a.id, 'active', 'back'), /cannot go from deprecated to active/);
  });

  it('walks the model lifecycle draft → training → validating → active', async () => {
    const name = uniqueName('model');
    const m = await createVersion(h.db, 'model', name, { weights: [0.1, 0.2] }, { brier: 0.21 });
    for (const status of ['training', 'validating', 'active']) await transitionVersion(h.db, 'model', m.id, status, 'test');
    assert.deepEqual((await activeVersion(h.db, 'model', name))!.content, { weights: [0.1, 0.2] });
    await assert.rejects(transitionVersion(h.db, 'model', m.id, 'retired', 'x'), /unknown status "retired"/);
    const [count] = await h.db.execute<{ n: number }>(sql`select count(*)::int as n from model_version_status where model_version_id = ${m.id}`);
    assert.equal(count!.n, 4, 'draft + three transitions, all kept');
  });
});
