import { loadRecordedWindow } from '../backtest/recorded-data';

// Child of the backtest bench: a cold load (parse the recording, write the binary cache) in a
// process of its own, so its parse-time memory does not count in the cached run's peak RSS.
async function main(): Promise<void> {
  const [dataDir, cacheDir, limit] = process.argv.slice(2);
  const started = performance.now();
  const window = await loadRecordedWindow(dataDir!, { cacheDir, limit: limit ? Number(limit) : undefined });
  const ms = performance.now() - started;
  if (window.loadedFrom !== 'recording') throw new Error(`expected a cold load, the events came from the ${window.loadedFrom}`);
  process.stdout.write(`${JSON.stringify({ coldLoadMs: Math.round(ms), events: window.columns.length, coldRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
