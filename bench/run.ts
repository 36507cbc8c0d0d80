import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchBacktest } from './backtest';
import { benchIngest } from './ingest';
import { benchReplay } from './replay';
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
  'signals-real': async () => signalsRealData({ dataDir: path.resolve(__dirname, '..', '..', 'shared', 'data', 'kalshi-2024-rest-snapshots'), log }),
};

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: { markets: { type: 'string' } } });
  const name = positionals[0];
  const bench = name ? BENCHES[name] : undefined;
  if (!bench) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--markets N]\n`);
    return 2;
  }
  const markets = values.markets === undefined ? undefined : Number(values.markets);
  if (markets !== undefined && (!Number.isInteger(markets) || markets < 1)) {
    process.stderr.write(`--markets must be a positive integer\n`);
    return 2;
  }
  const figures = await bench({ markets });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  return 0;
}

main().then((code) => process.exit(code), (err: unknown) => (process.stderr.write(`${String(err)}\n`), process.exit(1)));
