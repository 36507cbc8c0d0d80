// A worker process of the scale-out test and bench: the full stack (Temporal worker, leased book
// workers, paper exchange) configured from the environment. Fixed books for the positions' markets
// come from KESTREL_SCALE_BOOKS (kept fresh, as in the crash test); the workflow bundle from
// KESTREL_WORKFLOW_BUNDLE (built once by the parent). Prints READY, then one `CKPT <json>` line
// per market-data batch it checkpoints; its log lines (ownership changes) go to stderr. SIGTERM stops it.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadBootstrapConfig } from '../../config/load';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import { createLogger } from '../../observability/logger';
import { startStack } from '../../runtime/stack';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { config } = loadBootstrapConfig();
  const bundle = process.env.KESTREL_WORKFLOW_BUNDLE;
  const stack = await startStack(config, {
    logger: createLogger({ level: 'warn' }),
    workflowBundle: bundle ? { codePath: bundle } : undefined,
    log: (line) => process.stderr.write(`${line}\n`),
    onBatchCheckpointed: (batch) => process.stdout.write(`CKPT ${JSON.stringify(batch)}\n`),
  });
  const seed = JSON.parse(process.env.KESTREL_SCALE_BOOKS ?? '{}') as Record<string, { yes: [string, string][]; no: [string, string][] }>;
  for (const [market, levels] of Object.entries(seed)) {
    const toLevels = (ls: [string, string][]) => ls.map(([p, s]) => ({ price: priceUnits(p), size: sizeUnits(s) }));
    const keep = () => {
      const state = stack.books.state(market);
      // Giving up the market's partition drops its books here: the fixed book comes back.
      if (state.book.stale) state.book.applySnapshot(toLevels(levels.yes), toLevels(levels.no), Date.now());
      state.receivedAtMs = Date.now();
    };
    keep();
    setInterval(keep, 250).unref();
  }
  process.stdout.write(`READY ${stack.marketData.leases.owner}\n`);
  const stop = () => void stack.shutdown().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
