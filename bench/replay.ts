import { listRecordedMarkets, readRecording, recordedFiles } from '../venues/replay/gold-feed';
import { KalshiBookReplayer } from '../venues/replay/kalshi-book-replay';

/**
 * Replays the whole recorded gold feed (as fast as possible) into L2 books and checks every trade
 * against the rebuilt book. Figures: messages/s (gunzip + JSON + zod + book), trade agreement.
 */
export async function benchReplay(opts: { dataDir: string; markets?: number; log: (line: string) => void }): Promise<Record<string, unknown>> {
  const replayer = new KalshiBookReplayer({ expectFilteredGaps: true });
  const markets = listRecordedMarkets(opts.dataDir).slice(0, opts.markets ?? Infinity);
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (const [i, market] of markets.entries()) {
    replayer.beginStream();
    for (const file of recordedFiles(opts.dataDir, market)) for await (const rec of readRecording(file)) replayer.apply(rec);
    opts.log(`[${i + 1}/${markets.length}] ${market}: ${replayer.stats().messages} messages so far`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const stats = replayer.stats();
  if (replayer.disagreements.length) opts.log(`disagreements:\n  ${replayer.disagreements.join('\n  ')}`);
  return {
    bench: 'replay',
    markets: markets.length,
    messages: stats.messages,
    snapshots: stats.snapshots,
    deltas: stats.deltas,
    trades: stats.trades,
    malformed: stats.malformed,
    refusedDeltas: stats.refusedDeltas,
    refusedSnapshots: stats.refusedSnapshots,
    seqRestarts: stats.seq.restart,
    reconnects: stats.reconnects,
    tradesAtTop: stats.tradeChecks.atTop,
    tradesDeeper: stats.tradeChecks.deeper,
    tradesOutsideBook: stats.tradeChecks.outside,
    tradesWithoutQuote: stats.tradeChecks.noQuote,
    seqFilteredJumps: stats.seq.filtered,
    seqRegressions: stats.seq.regression + stats.seq.duplicate,
    seconds: Number(seconds.toFixed(2)),
    messagesPerSecond: Math.round(stats.messages / seconds),
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}
