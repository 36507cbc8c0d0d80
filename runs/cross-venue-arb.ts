import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ClobClient, SignatureType, type ApiKeyCreds, type TickSize } from '@polymarket/clob-client';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createArbitrageActivities, type ArbitrageDeps } from '../activities/arbitrage';
import { crossVenueBasket, detectCrossVenueGap, type CrossVenueFees, type CrossVenueGap, type GapRules, type PairBook } from '../domain/arbitrage/cross-venue';
import type { BasketPlan } from '../domain/arbitrage/legs';
import { MappingError, parseArbitrageMapping, type ArbitrageMapping, type ArbitragePair } from '../domain/arbitrage/mapping';
import { Dec } from '../domain/decimal';
import { KestrelError } from '../domain/errors';
import { WORKFLOWS_PATH } from '../runtime/temporal-worker';
import type { KalshiRestClient } from '../venues/kalshi/rest-client';
import { InMemoryOrderIdStore, PolymarketExecutionClient, type PolymarketOrderIdStore } from '../venues/polymarket/execution';
import { polymarketSignerFromKey } from '../venues/polymarket/signer';
import { PolymarketUserChannel } from '../venues/polymarket/user-ws-client';
import { arbitrageBasketWorkflow, type BasketSnapshot } from '../workflows/arbitrage';

/** The strategy id every cross-venue basket's positions carry. */
export const CROSS_VENUE_STRATEGY = 'cross-venue-arb';

/** Reads and validates a reviewed mapping file (config/arbitrage/*.yaml). */
export function loadArbitrageMapping(file: string): ArbitrageMapping {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new MappingError(`cannot read the mapping ${file}: ${(e as Error).message}`);
  }
  return parseArbitrageMapping(doc, file);
}

/**
 * The pair's asks on Kalshi, from the REST order book: Kalshi lists bids only, so the YES ask is
 * 1 − the best NO bid (its size that bid's size) and the NO ask 1 − the best YES bid. Which Kalshi
 * side is the pair's "yes" is the mapping's word.
 */
export async function kalshiPairBook(rest: KalshiRestClient, pair: ArbitragePair): Promise<PairBook> {
  const { orderbook_fp: book } = await rest.orderbook(pair.kalshi.market);
  const askFrom = (bids: readonly (readonly [string, string])[] | null | undefined) => {
    const best = (bids ?? []).reduce<readonly [string, string] | undefined>((b, l) => (!b || new Dec(l[0]).gt(b[0]) ? l : b), undefined);
    return best && new Dec(best[1]).gt(0) ? { price: new Dec(1).minus(best[0]), size: new Dec(best[1]) } : undefined;
  };
  const yesAsk = askFrom(book?.no_dollars);
  const noAsk = askFrom(book?.yes_dollars);
  return pair.kalshi.outcome === 'yes' ? { yes: yesAsk, no: noAsk } : { yes: noAsk, no: yesAsk };
}

/** The read calls the book reader makes on the official client. */
export type PolymarketBookApi = Pick<ClobClient, 'getOrderBook'>;

/**
 * The pair's asks on Polymarket: the best ask of the mapped token ("yes") and of its complement
 * ("no"). A token without a book (none yet, or the venue answers 404) has no ask.
 */
export async function polymarketPairBook(api: PolymarketBookApi, pair: ArbitragePair, log?: (line: string) => void): Promise<PairBook> {
  const bestAsk = async (tokenId: string) => {
    try {
      const book = await api.getOrderBook(tokenId);
      const best = book.asks.reduce<{ price: string; size: string } | undefined>((b, l) => (!b || new Dec(l.price).lt(b.price) ? l : b), undefined);
      return best && new Dec(best.size).gt(0) ? { price: new Dec(best.price), size: new Dec(best.size) } : undefined;
    } catch (err) {
      log?.(`polymarket book of ${tokenId}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const [yes, no] = await Promise.all([bestAsk(pair.polymarket.tokenId), bestAsk(pair.polymarket.complementTokenId)]);
  return { yes, no };
}

export interface PolymarketTrading {
  execution: PolymarketExecutionClient;
  api: ClobClient;
  /** The market's taker fee rate (its `base_fee` in bps / 10 000). */
  feeRate(tokenId: string): Promise<Dec>;
  close(): Promise<void>;
}

/**
 * Polymarket trading for the mapped pairs, built directly on the official client: API key derived
 * from the wallet (L1), Kestrel's execution client with each pair's tokens, the user channel for
 * fills, and heartbeats. The market rules (tick, neg-risk, fee) are read from the venue per order.
 */
export async function connectPolymarketTrading(opts: {
  restUrl: string;
  userWsUrl: string;
  privateKey: `0x${string}`;
  pairs: readonly ArbitragePair[];
  chainId?: 137 | 80002;
  heartbeatMs?: number;
  /** Where the venue's order id of each client order id is kept, per wallet address (default: memory, lost with the process). */
  orderIds?: (address: string) => PolymarketOrderIdStore;
  log?: (line: string) => void;
}): Promise<PolymarketTrading> {
  const chainId = opts.chainId ?? 137;
  const { signer, address } = polymarketSignerFromKey(opts.privateKey);
  const client = (creds?: ApiKeyCreds) => new ClobClient(opts.restUrl, chainId, signer, creds, SignatureType.EOA, undefined, undefined, false, undefined, undefined, false, undefined, true);
  const creds = await client().createOrDeriveApiKey();
  const api = client(creds);
  const byToken = new Map(opts.pairs.map((p) => [p.polymarket.tokenId, p]));
  const execution = new PolymarketExecutionClient({
    api,
    account: { signer, maker: address, signerAddress: address, signatureType: SignatureType.EOA, chainId },
    rules: async (market) => {
      const pair = byToken.get(market);
      if (!pair) throw new KestrelError(`token ${market} is not a mapped pair's token`);
      const [tickSize, negRisk, feeRateBps] = await Promise.all([api.getTickSize(market), api.getNegRisk(market), api.getFeeRateBps(market)]);
      return { tokens: { yes: pair.polymarket.tokenId, no: pair.polymarket.complementTokenId }, tickSize: tickSize as TickSize, negRisk, feeRateBps: String(feeRateBps) };
    },
    orderIds: opts.orderIds?.(address) ?? new InMemoryOrderIdStore(),
    heartbeatMs: opts.heartbeatMs,
    log: opts.log,
  });
  const channel = new PolymarketUserChannel({
    url: opts.userWsUrl,
    creds: { key: creds.key, secret: creds.secret, passphrase: creds.passphrase },
    markets: [...new Set(opts.pairs.map((p) => p.polymarket.conditionId))],
    onMessage: (msg) => {
      const applied = execution.applyUserMessage(msg);
      if (!applied.ok) opts.log?.(`polymarket user message skipped: ${applied.error}`);
    },
  });
  await channel.start();
  await execution.startHeartbeats();
  return {
    execution,
    api,
    feeRate: async (tokenId) => new Dec(await api.getFeeRateBps(tokenId)).div(10_000),
    async close() {
      await execution.close();
      await channel.close();
    },
  };
}

/** A worker on its own task queue running basket workflows with the arbitrage activities only. */
export async function startArbitrageWorker(opts: { address: string; namespace: string; taskQueue: string; deps: ArbitrageDeps; workflowBundle?: WorkerOptions['workflowBundle'] }): Promise<{ worker: Worker; run: Promise<void>; stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: createArbitrageActivities(opts.deps),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    shutdownGraceTime: '5 seconds',
  });
  const run = worker.run();
  return {
    worker,
    run,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await run;
      await connection.close();
    },
  };
}

export interface CrossVenueArbOptions {
  pair: ArbitragePair;
  books: { kalshi: () => Promise<PairBook>; polymarket: () => Promise<PairBook> };
  fees: () => Promise<CrossVenueFees>;
  rules: GapRules;
  unwind: BasketPlan['unwind'];
  temporal: { client: Client; taskQueue: string };
  /** Between book reads, and after a basket. */
  pollMs: number;
  /** Stop after this many baskets (0: no limit). */
  maxBaskets: number;
  /** Stop after this many book reads (0: no limit). */
  maxPolls?: number;
  /** Distinguishes this run's basket ids from earlier runs' (default: the start time). */
  runId?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface CrossVenueArbSummary {
  polls: number;
  gaps: CrossVenueGap[];
  baskets: BasketSnapshot[];
}

/**
 * Watches one reviewed pair's books on both venues (REST polling), and each time their asks leave
 * a gap net of both venues' fees, runs a basket workflow that takes it and waits for its end before
 * looking again (one basket at a time: the next read sees the book the basket left).
 */
export async function runCrossVenueArb(opts: CrossVenueArbOptions): Promise<CrossVenueArbSummary> {
  const summary: CrossVenueArbSummary = { polls: 0, gaps: [], baskets: [] };
  const runId = opts.runId ?? String(Date.now());
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    opts.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
  while (!opts.signal?.aborted && (opts.maxBaskets === 0 || summary.baskets.length < opts.maxBaskets) && (!opts.maxPolls || summary.polls < opts.maxPolls)) {
    summary.polls++;
    const [kalshi, polymarket, fees] = await Promise.all([opts.books.kalshi(), opts.books.polymarket(), opts.fees()]);
    const gap = detectCrossVenueGap({ kalshi, polymarket }, fees, opts.rules);
    if (!gap) {
      await sleep(opts.pollMs);
      continue;
    }
    summary.gaps.push(gap);
    const basketId = `arb/${opts.pair.id}/${runId}/${summary.baskets.length + 1}`;
    const plan = crossVenueBasket(opts.pair, gap, { basketId, strategyId: CROSS_VENUE_STRATEGY, unwind: opts.unwind });
    opts.log?.(`gap on ${opts.pair.id}: YES on ${gap.yesOn} @ ${gap.yesPrice.toFixed(4)} + NO on ${gap.noOn} @ ${gap.noPrice.toFixed(4)} × ${gap.size.toString()}, fees ${gap.yesFee.plus(gap.noFee).toFixed(5)}, edge ${gap.edge.toFixed(5)} (${gap.edgePerContract.toFixed(5)}/contract): basket ${basketId}`);
    const startedMs = Date.now();
    const result = await opts.temporal.client.workflow.execute(arbitrageBasketWorkflow, { taskQueue: opts.temporal.taskQueue, workflowId: basketId, args: [{ plan, pairId: opts.pair.id }] });
    summary.baskets.push(result);
    opts.log?.(`basket ${basketId}: ${result.status} in ${Date.now() - startedMs} ms, complete sets ${result.completeSets}; ${result.legs.map((l) => `${l.venue} ${l.outcome.toUpperCase()} bought ${l.bought} sold ${l.sold} P&L ${l.realizedPnl}`).join('; ')}`);
    await sleep(opts.pollMs);
  }
  return summary;
}
