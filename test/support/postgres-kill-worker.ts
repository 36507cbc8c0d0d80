// A process that writes to Postgres in transactions while the test kills its connections: each of
// KESTREL_KILL_OPS writes (ids 0..n-1, KESTREL_KILL_CONCURRENCY at a time) goes through
// inTransaction, under the process guard `kestrel up` installs. Prints READY once writing, and at
// the end one JSON line of counts; exits 0 unless the guard shut it down.
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { installProcessGuard } from '../../cli/process-guard';
import { openDatabase } from '../../db/client';
import { inTransaction, isConnectionError } from '../../db/transactions';

async function main(): Promise<void> {
  const ops = Number(process.env.KESTREL_KILL_OPS ?? 400);
  const concurrency = Number(process.env.KESTREL_KILL_CONCURRENCY ?? 4);
  const database = openDatabase(process.env.DATABASE_URL!, { max: concurrency, applicationName: 'kestrel-kill-worker' });
  const guard = installProcessGuard({ logger: pino({ level: 'warn' }, pino.destination(2)), shutdown: () => database.close() });
  const counts = { ops, written: 0, transactionRetries: 0, callerRetries: 0 };
  let next = 0;
  const writeOne = async (id: number) => {
    // A caller that got the error after the bounded retries tries again, as Temporal retries an activity.
    for (;;) {
      try {
        await inTransaction(database.db, async (tx) => {
          await tx.execute(sql`insert into chaos_writes (id, writes) values (${id}, 1) on conflict (id) do nothing`);
          await tx.execute(sql`select pg_sleep(0.002)`);
          await tx.execute(sql`update chaos_writes set writes = writes + 1 where id = ${id}`);
        }, { onRetry: () => counts.transactionRetries++ });
        return;
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        counts.callerRetries++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  process.stdout.write('READY\n');
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < ops) {
      await writeOne(next++);
      counts.written++;
    }
  }));
  process.stdout.write(`${JSON.stringify({ ...counts, faultsSurvived: guard.survived, poolRecycles: database.recycles })}\n`);
  await database.close();
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
