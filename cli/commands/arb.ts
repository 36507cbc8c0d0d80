import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { equivalentPairs, type ArbitragePair } from '../../domain/arbitrage/mapping';
import { Dec } from '../../domain/decimal';
import { TradingRepository } from '../../db/trading-repo';
import { CROSS_VENUE_STRATEGY, connectPolymarketTrading, kalshiPairBook, loadArbitrageMapping, polymarketPairBook, runCrossVenueArb, startArbitrageWorker } from '../../runs/cross-venue-arb';
import { createKalshiVenue } from '../../venues/kalshi/factory';
import { kalshiCredentialsFromEnv } from '../../venues/kalshi/signing';
import { polymarketOrderIdsKey, RedisPolymarketOrderIdStore } from '../../venues/polymarket/factory';
import { createRedis } from '../../workers/redis';
import { asCommand, CommandInputError, err, EXIT, intOption, json, jsonLine, loadFullConfig, out, requiredString, withDatabase, type CliCommand, type OptionValues } from './cli-support';

/** Where the Polymarket emulator runs (`kestrel venue emulate polymarket`). */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

const USAGE = 'kestrel arb check --mapping FILE [--json] | run --mapping FILE [--pair ID] [--min-edge D] [--max-size N] [--min-size N] [--poll-ms MS] [--baskets N] [--json]';

function decimalOption(values: OptionValues, name: string, fallback: string, min: Dec, max: Dec): Dec {
  const raw = values[name] ?? fallback;
  if (typeof raw !== 'string' || !/^\d+(\.\d+)?$/.test(raw)) throw new CommandInputError(`--${name} must be a decimal number, got ${JSON.stringify(raw)}`);
  const v = new Dec(raw);
  if (v.lt(min) || v.gt(max)) throw new CommandInputError(`--${name} must be in ${min.toString()}..${max.toString()}, got ${raw}`);
  return v;
}

/** The user channel sits next to the market channel (…/ws/market → …/ws/user), as at the venue and in the emulator. */
function userChannelUrl(marketWsUrl: string): string {
  if (!/\/market\/?$/.test(marketWsUrl)) throw new CommandInputError(`venues.polymarket.wsUrl ${marketWsUrl} does not end in /market: cannot tell where the user channel is`);
  return marketWsUrl.replace(/\/market\/?$/, '/user');
}

export const arbCommand: CliCommand = {
  summary: 'cross-venue arbitrage (Kalshi <-> Polymarket) on reviewed pairs: `check` a mapping file, `run` the watcher that detects gaps net of fees and trades them as baskets',
  usage: USAGE,
  details: [
    'check: validates the mapping (config/arbitrage/*.yaml) and says, per pair, whether its two sides are the same contract (event, outcome, settlement source and time) and why not. Exit 1 if any pair is refused.',
    'run: polls both venues\' books for one accepted pair (--pair, or the only one), and when YES on one venue + NO on the other cost less than $1 after both taker fees by at least --min-edge per contract (default 0.01),',
    'runs a basket workflow: IOC legs on each venue, excess unwound if legs fill unevenly. Needs KALSHI_API_KEY_ID/KALSHI_PRIVATE_KEY_PATH and POLYMARKET_PRIVATE_KEY (0x + 64 hex).',
    'A pair marked synthetic trades only against the emulators (venues.kalshi.environment: emulator, venues.polymarket.restUrl on this machine).',
  ].join('\n'),
  options: {
    mapping: { type: 'string' },
    pair: { type: 'string' },
    'min-edge': { type: 'string' },
    'max-size': { type: 'string' },
    'min-size': { type: 'string' },
    'poll-ms': { type: 'string' },
    baskets: { type: 'string' },
    json: { type: 'boolean' },
  },
  run({ values, positionals }) {
    return asCommand('arb', USAGE, async () => {
      const [sub, ...rest] = positionals;
      if ((sub !== 'check' && sub !== 'run') || rest.length > 0) throw new CommandInputError(`usage: ${USAGE}`);
      const file = requiredString(values, 'mapping');
      const mapping = loadArbitrageMapping(file);
      const { accepted, refused } = equivalentPairs(mapping, Date.now());
      if (sub === 'check') {
        if (values.json) json({ accepted: accepted.map((p) => ({ id: p.id, synthetic: p.synthetic })), refused: refused.map((r) => ({ id: r.pair.id, reasons: r.reasons })) });
        else {
          for (const p of accepted) out(`${p.id}  equivalent${p.synthetic ? '  (SYNTHETIC: test pairing only)' : ''}  Kalshi ${p.kalshi.market} ${p.kalshi.outcome.toUpperCase()} = Polymarket ${p.polymarket.tokenId}; reviewed by ${p.review.reviewer} on ${p.review.reviewedOn}`);
          for (const r of refused) out(`${r.pair.id}  REFUSED: ${r.reasons.join('; ')}`);
        }
        return refused.length === 0 ? EXIT.ok : EXIT.failure;
      }
      const pair = choosePair(values.pair as string | undefined, accepted, refused);
      return runArb(pair, values);
    });
  },
};

function choosePair(id: string | undefined, accepted: ArbitragePair[], refused: { pair: ArbitragePair; reasons: string[] }[]): ArbitragePair {
  const refusedPair = refused.find((r) => r.pair.id === id);
  if (refusedPair) throw new CommandInputError(`pair ${id} is refused: ${refusedPair.reasons.join('; ')}`);
  if (id !== undefined) {
    const pair = accepted.find((p) => p.id === id);
    if (!pair) throw new CommandInputError(`no pair ${id} in the mapping (pairs: ${[...accepted, ...refused.map((r) => r.pair)].map((p) => p.id).join(', ')})`);
    return pair;
  }
  if (accepted.length !== 1) throw new CommandInputError(`the mapping has ${accepted.length} accepted pairs: name one with --pair`);
  return accepted[0]!;
}

async function runArb(pair: ArbitragePair, values: OptionValues): Promise<number> {
  const rules = {
    minEdgePerContract: decimalOption(values, 'min-edge', '0.01', new Dec(0), new Dec(1)),
    maxSize: decimalOption(values, 'max-size', '10', new Dec(1), new Dec(100_000)),
    minSize: decimalOption(values, 'min-size', '5', new Dec(1), new Dec(100_000)),
  };
  const pollMs = intOption(values, 'poll-ms', 1000, { min: 50, max: 600_000 });
  const maxBaskets = intOption(values, 'baskets', 0, { min: 0, max: 1_000_000 });
  const { config } = await loadFullConfig();
  // A synthetic pair is two unrelated contracts: real money on it would be a bet, not an arbitrage.
  const polymarketHost = new URL(config.venues.polymarket.restUrl).hostname;
  if (pair.synthetic && (config.venues.kalshi.environment !== 'emulator' || !LOOPBACK.has(polymarketHost))) {
    throw new CommandInputError(`pair ${pair.id} is synthetic (a test pairing): it trades only against the emulators (venues.kalshi.environment is ${config.venues.kalshi.environment}, venues.polymarket.restUrl host is ${polymarketHost})`);
  }
  const credentials = kalshiCredentialsFromEnv(process.env, (p) => readFileSync(p, 'utf8'));
  if (!credentials) throw new CommandInputError('arb run needs Kalshi credentials: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH');
  const polymarketKey = process.env.POLYMARKET_PRIVATE_KEY;
  if (!polymarketKey || !/^0x[0-9a-fA-F]{64}$/.test(polymarketKey)) throw new CommandInputError('arb run needs POLYMARKET_PRIVATE_KEY (0x + 64 hex digits)');
  const log = (line: string) => (values.json ? jsonLine({ log: line }) : err(line));

  return withDatabase(config.database.url, async (h) => {
    const repo = new TradingRepository(h.db);
    const kalshi = createKalshiVenue(config, { clock: { nowMs: () => Date.now() }, credentials, orderRef: (id) => repo.orderRef(id), log, orderPush: false });
    // Order ids in Redis, as the stack keeps them: a restarted run finds (never resends) an order sent before a crash.
    const orderIdRedis = createRedis(config.redis.url, 'producer');
    const polymarket = await connectPolymarketTrading({
      restUrl: config.venues.polymarket.restUrl,
      userWsUrl: userChannelUrl(config.venues.polymarket.wsUrl),
      privateKey: polymarketKey as `0x${string}`,
      pairs: [pair],
      orderIds: (address) => new RedisPolymarketOrderIdStore(orderIdRedis, polymarketOrderIdsKey(config.redis.keyPrefix, address)),
      log,
    });
    const taskQueue = `${config.temporal.taskQueue}-arb`;
    const worker = await startArbitrageWorker({
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      taskQueue,
      deps: { db: h.db, venues: { kalshi: kalshi.execution, polymarket: polymarket.execution }, clock: { nowMs: () => Date.now() }, log },
    });
    const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 3000 });
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const summary = await runCrossVenueArb({
        pair,
        books: { kalshi: () => kalshiPairBook(kalshi.rest, pair), polymarket: () => polymarketPairBook(polymarket.api, pair, log) },
        fees: async () => ({ kalshi: { takerRate: config.fees.kalshiTakerRate, seriesMultiplier: config.paper.seriesFeeMultiplier }, polymarket: { rate: await polymarket.feeRate(pair.polymarket.tokenId), exponent: pair.polymarket.feeExponent } }),
        rules,
        unwind: { stepPrice: '0.02', floorPrice: '0.01', attempts: 5 },
        temporal: { client: new Client({ connection, namespace: config.temporal.namespace }), taskQueue },
        pollMs,
        maxBaskets,
        signal: stop.signal,
        log,
      });
      const report = { pair: pair.id, strategy: CROSS_VENUE_STRATEGY, polls: summary.polls, baskets: summary.baskets };
      if (values.json) jsonLine(report);
      else for (const b of summary.baskets) out(`${b.basketId}  ${b.status}  complete sets ${b.completeSets}  ${b.legs.map((l) => `${l.venue}:${l.outcome.toUpperCase()} ${l.bought}→${l.held} P&L ${l.realizedPnl}`).join('  ')}`);
      return summary.baskets.some((b) => b.status === 'unhedged') ? EXIT.failure : EXIT.ok;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await connection.close();
      await worker.stop();
      await polymarket.close();
      await kalshi.execution.close();
      await orderIdRedis.quit().catch(() => orderIdRedis.disconnect());
    }
  });
}
