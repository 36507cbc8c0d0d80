// A worker process for crash testing: the full stack (Temporal worker, BullMQ workers, paper
// exchange, or Kalshi when KESTREL__VENUES__EXECUTION=kalshi) with the books of the markets named
// in KESTREL_CRASH_BOOKS seeded from a fixed snapshot (in Kalshi mode, the venue's book as the crash
// test read it), so a restarted process sees the same market. Prints READY when polling.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadBootstrapConfig } from '../../config/load';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import { startStack } from '../../runtime/stack';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { config } = loadBootstrapConfig();
  const stack = await startStack(config);
  const seed = JSON.parse(process.env.KESTREL_CRASH_BOOKS ?? '{}') as Record<string, { yes: [string, string][]; no: [string, string][] }>;
  for (const [market, levels] of Object.entries(seed)) {
    const toLevels = (ls: [string, string][]) => ls.map(([p, s]) => ({ price: priceUnits(p), size: sizeUnits(s) }));
    stack.books.state(market).book.applySnapshot(toLevels(levels.yes), toLevels(levels.no), Date.now());
    // A fixed book is kept fresh: the crash test is about resuming, not about stale data.
    setInterval(() => (stack.books.state(market).receivedAtMs = Date.now()), 1000).unref();
    stack.books.state(market).receivedAtMs = Date.now();
  }
  process.stdout.write('READY\n');
  const stop = () => void stack.shutdown().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
