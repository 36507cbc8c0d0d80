import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchBacktest } from './backtest';
import { benchFuzz } from './fuzz';
import { benchChaos } from './chaos';
import { benchConsole } from './console';
import { benchIngest } from './ingest';
import { benchLearningLoop } from './learning-loop';
import { benchLiveKalshi } from './live-kalshi';
import { benchReplay } from './replay';
import { benchScaleOut } from './scale-out';
import { benchSignals } from './signals';
import { signalsRealData } from './signals-real-data';

// `npm run bench -- <name> [--markets N]`: progress on stderr, figures as one JSON object on the last line of stdout.
const GOLD = path.resolve(__dirname, '..', '..', 'shared', 'data', 'kalshi-gold15m-ws');
const log = (l: string) => process.stderr.write(`${l}\n`);
const BENCHES: Record<string, (args: { markets?: number }) => Promise<Record<string, unknown>>> = {
  replay: ({ markets }) => benchReplay({ dataDir: GOLD, markets, log }),
  ingest: ({ markets }) => benchIngest({ dataDir: GOLD, markets, log }),
  signals: ({ markets }) => benchSignals({ markets, log }),
  backtest: ({ markets }) => benchBacktest({ dataDir: GOLD, markets, log }),
  'live-kalshi': ({ markets }) => benchLiveKalshi({ dataDir: GOLD, markets, log }),
  chaos: ({ markets }) => benchChaos({ dataDir: GOLD, markets, log }),
  fuzz: ({ markets }) => benchFuzz({ dataDir: GOLD, polymarketDir: path.resolve(__dirname, '..', '..', 'shared', 'data', 'polymarket-ws-samples'), markets, log }).then((f) => ({ ...f })),
  'scale-out': ({ markets }) => benchScaleOut({ dataDir: GOLD, markets, log }),
  'learning-loop': () => benchLearningLoop({ dataDir: GOLD, log }),
  console: () => benchConsole({ positions: 500, log }),
  'signals-real': async () => signalsRealData({ dataDir: path.resolve(__dirname, '..', '..', 'shared', 'data', 'kalshi-2024-rest-snapshots'), log }),
};

/** What `all` keeps of each bench: the figures a regression would show in. */
const HEADLINES: Record<string, readonly string[]> = {
  replay: ['messagesPerSecond', 'tradesOutsideBook', 'refusedDeltas', 'rssMb'],
  ingest: ['pipelineEventsPerSecond', 'rawRedisPipelineEventsPerSecond', 'ratioToRawRedis', 'latencyP50Ms', 'latencyP99Ms'],
  signals: ['fullRefreshMs', 'incrementalStepMs', 'maxDeviationFromTwoPass', 'checkpointWriteMs', 'checkpointReadMs', 'checkpointRestoredExactly'],
  backtest: ['eventsPerSecond', 'loadEventsPerSecond', 'endToEndEventsPerSecond', 'coldLoadMs', 'rssMb', 'trades', 'orders', 'totalPnl'],
  'signals-real': ['strongPairs'],
  console: ['consoleFirstPaintMs', 'serverRenderMs', 'htmlBytes'],
  'learning-loop': ['outcomesResolved', 'outcomesResolvedWithFutureData', 'modelVersionsCreated', 'modelVersionsPromoted', 'inSampleEdge', 'outOfSampleEdge', 'signalStrategyTrades', 'positionsWithoutModelVersion'],
  chaos: ['redisOutages', 'postgresBursts', 'temporalRestarts', 'processExits', 'lostEvents', 'booksDiverged', 'lostPositions', 'duplicateOrders'],
  'scale-out': ['eventsPerSecond1', 'eventsPerSecond2', 'eventsPerSecond3', 'failoverMs', 'lostEvents', 'duplicateEvents', 'booksDiverged', 'positionsFinished', 'duplicateOrders'],
  fuzz: ['messages', 'exceptions', 'acceptedInvalid', 'crossedBooks', 'halfAppliedBooks'],
  'live-kalshi': ['ordersSubmitted', 'duplicateOrders', 'lostPositions', 'venuePositionMismatches', 'tickToOrderP50Ms', 'tickToOrderP99Ms'],
};

/**
 * Every bench in turn, each in a process of its own (so one bench's heap and peak RSS do not
 * count in the next), reduced to its headline figures in one JSON object.
 */
function runAll(markets: number | undefined): Record<string, unknown> {
  const summary: Record<string, unknown> = { bench: 'all' };
  for (const name of Object.keys(BENCHES)) {
    log(`== ${name}`);
    const args = [...process.execArgv, __filename, name, ...(markets === undefined ? [] : ['--markets', String(markets)])];
    const child = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
    const last = child.stdout.trim().split('\n').at(-1) ?? '';
    if (child.status !== 0 || !last.startsWith('{')) {
      summary[name] = { failed: `exit ${child.status ?? child.signal}` };
      continue;
    }
    const figures = JSON.parse(last) as Record<string, unknown>;
    summary[name] = Object.fromEntries((HEADLINES[name] ?? Object.keys(figures)).filter((k) => k in figures).map((k) => [k, figures[k]]));
  }
  return summary;
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: { markets: { type: 'string' } } });
  const name = positionals[0];
  const bench = name ? BENCHES[name] : undefined;
  if (!bench && name !== 'all') {
    process.stderr.write(`usage: npm run bench -- <${[...Object.keys(BENCHES), 'all'].join('|')}> [--markets N]\n`);
    return 2;
  }
  const markets = values.markets === undefined ? undefined : Number(values.markets);
  if (markets !== undefined && (!Number.isInteger(markets) || markets < 1)) {
    process.stderr.write(`--markets must be a positive integer\n`);
    return 2;
  }
  const figures = bench ? await bench({ markets }) : runAll(markets);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  return 0;
}

main().then((code) => process.exit(code), (err: unknown) => (process.stderr.write(`${String(err)}\n`), process.exit(1)));
