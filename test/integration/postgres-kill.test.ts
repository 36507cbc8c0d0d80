import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import postgres from 'postgres';
import { dropDatabase, ensureDatabase } from '../../db/admin';
import { REPO_ROOT, TEST_ADMIN_DB_URL } from '../support/harness';

describe('Postgres connections killed in bursts (own database)', function () {
  this.timeout(180_000);
  const admin = new URL(TEST_ADMIN_DB_URL);
  const url = new URL(TEST_ADMIN_DB_URL);
  const dbName = `kestrel_pgkill_${process.pid}_${randomBytes(3).toString('hex')}`;
  url.pathname = `/${dbName}`;
  let sql: postgres.Sql;

  before(async () => {
    await ensureDatabase(url.toString(), admin.pathname.slice(1));
    sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    await sql`create table chaos_writes (id int primary key, writes int not null)`;
  });
  after(async () => {
    await sql?.end();
    await dropDatabase(url.toString(), admin.pathname.slice(1));
  });

  it('keeps the process alive, retries the transactions, and loses no write', async () => {
    const ops = 600;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test', 'support', 'postgres-kill-worker.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: url.toString(), KESTREL_KILL_OPS: String(ops), KESTREL_KILL_CONCURRENCY: '4' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('READY')) resolve();
    }));
    let killed = 0;
    // Bursts while the writes run: every connection of the worker, inside and outside transactions.
    for (let burst = 0; burst < 10 && child.exitCode === null; burst++) {
      const rows = await sql`select pg_terminate_backend(pid) as killed from pg_stat_activity where datname = ${dbName} and application_name = 'kestrel-kill-worker'`;
      killed += rows.filter((r) => r.killed).length;
      await new Promise((r) => setTimeout(r, 150));
    }
    const code = await exited;
    assert.equal(code, 0, `worker exited ${code}: ${stderr.slice(-2000)}`);
    assert.ok(killed > 0, 'connections were killed while the worker wrote');
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { written: number; transactionRetries: number };
    assert.equal(result.written, ops);
    const [row] = await sql<{ n: number; min: number }[]>`select count(*)::int as n, min(writes)::int as min from chaos_writes`;
    assert.equal(row!.n, ops, 'every write is in the table');
    assert.ok(row!.min >= 2, 'every transaction ran whole (insert and update together)');
  });
});
