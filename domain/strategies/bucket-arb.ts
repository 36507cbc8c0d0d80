import { z } from 'zod';
import { Dec, decimalString } from '../decimal';
import { kalshiFee, KalshiOrderFeeAccumulator, MEMBER_BALANCE_PRECISION } from '../fees';
import { takerFeeRate } from '../trading/taker-fee';
import { describeIssues } from '../validation';

/*
 * Bucket arbitrage on a Kalshi event whose buckets are mutually exclusive (at most one settles YES).
 *
 * YES basket: buy q YES on every bucket at its ask a_i. If the buckets are also exhaustive (exactly one
 *   settles YES) the basket pays q, so profit = q·(1 − Σa_i) − Σfee_i. Not exhaustive: it may pay 0.
 * NO basket: buy q NO on each of k buckets at 1 − b_i (b_i = the bucket's YES bid; the same as selling
 *   YES at b_i). At most one leg loses, so it pays at least q·(k − 1): worst-case profit
 *   = q·(k − 1) − q·Σ(1 − b_i) − Σfee_i = q·(Σb_i − 1) − Σfee_i. It needs mutual exclusivity only,
 *   not exhaustiveness, and holds for any subset of the buckets (a bucket without a bid is left out).
 *
 * Fees are Kalshi taker fees, charged per leg order and rounded as Kalshi rounds one order
 * (`kalshiFee` + the order's balance rounding), so small baskets pay proportionally more.
 */

/** Bumped whenever detection or sizing changes meaning; each basket records it with its reason. */
export const BUCKET_ARB_RULES_VERSION = 'bucket-arb/1';

const positiveDecimal = (what: string) => decimalString.transform((s) => new Dec(s)).refine((d) => d.gt(0), { message: `${what} must be > 0` });
const nonNegative = (what: string) => decimalString.transform((s) => new Dec(s)).refine((d) => d.gte(0), { message: `${what} must be >= 0` });

export const PARTITION_EVIDENCE = ['strikes', 'ticker-pattern'] as const;
export type PartitionEvidence = (typeof PARTITION_EVIDENCE)[number];

/** The strategy's parameters as written in its version file (decimal strings); `parseBucketArbParams` validates them. */
export const bucketArbParamsSchema = z
  .object({
    /** Smallest worst-case profit per basket contract after fees (dollars) worth taking. */
    minEdge: nonNegative('minEdge').default(new Dec('0.01')),
    /** Most basket contracts per opportunity. */
    maxSize: positiveDecimal('maxSize').default(new Dec('100')),
    /** Every leg must show at least this many contracts at its best price. */
    minDepth: positiveDecimal('minDepth').default(new Dec('1')),
    /** Orders are whole multiples of this many contracts (Kalshi: 1). */
    contractStep: positiveDecimal('contractStep').default(new Dec('1')),
    fees: z
      .object({
        takerRate: nonNegative('fees.takerRate').default(new Dec('0.07')),
        seriesMultiplier: nonNegative('fees.seriesMultiplier').default(new Dec('1')),
        /** Balance precision of the account: $0.01 (fee rounded up to the cent per order) unless a direct member ($0.0001). */
        balancePrecision: positiveDecimal('fees.balancePrecision').default(MEMBER_BALANCE_PRECISION),
      })
      .strict()
      .prefault({}),
    baskets: z
      .array(z.enum(['yes', 'no']))
      .min(1, { message: 'baskets must name at least one of yes, no' })
      .default(['yes', 'no']),
    /** Which caller inferences count as proof that the buckets partition the outcomes (mutually exclusive and exhaustive). */
    partitionEvidence: z.array(z.enum(PARTITION_EVIDENCE)).default(['strikes']),
    /** Take a YES basket on a venue-flagged mutually exclusive event without proof that some bucket must win. */
    assumeExhaustiveWhenExclusive: z.boolean().default(false),
    /** Legs' quotes further apart in time than this are not one book (ms). */
    maxQuoteSkewMs: z.number().int().positive().default(60_000),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.minDepth.gt(p.maxSize)) ctx.addIssue({ code: 'custom', path: ['minDepth'], message: `minDepth (${p.minDepth.toString()}) exceeds maxSize (${p.maxSize.toString()})` });
  });
export type BucketArbParams = z.output<typeof bucketArbParamsSchema>;
export type BucketArbParamsInput = z.input<typeof bucketArbParamsSchema>;

/** Parses and validates parameters; throws one line naming every bad field. */
export function parseBucketArbParams(raw: unknown): BucketArbParams {
  const parsed = bucketArbParamsSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new Error(`invalid bucket-arb parameters: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** The parameters back in their written form (decimal strings), for reports and stored versions. */
export function bucketArbParamsWire(p: BucketArbParams): Record<string, unknown> {
  return {
    minEdge: p.minEdge.toString(),
    maxSize: p.maxSize.toString(),
    minDepth: p.minDepth.toString(),
    contractStep: p.contractStep.toString(),
    fees: { takerRate: p.fees.takerRate.toString(), seriesMultiplier: p.fees.seriesMultiplier.toString(), balancePrecision: p.fees.balancePrecision.toString() },
    baskets: [...p.baskets],
    partitionEvidence: [...p.partitionEvidence],
    assumeExhaustiveWhenExclusive: p.assumeExhaustiveWhenExclusive,
    maxQuoteSkewMs: p.maxQuoteSkewMs,
  };
}

/** One price level: dollars and contracts shown there. */
export interface QuoteLevel {
  price: Dec;
  size: Dec;
}

export interface BucketQuote {
  market: string;
  /** Best YES bid / ask; null when that side of the book is empty. */
  yesBid: QuoteLevel | null;
  yesAsk: QuoteLevel | null;
  /** When this bucket's quote was observed (ms). */
  quotedAtMs: number;
  /** The recorded settlement, when known. */
  result?: 'yes' | 'no' | null;
}

export interface BucketEventSnapshot {
  eventTicker: string;
  observedAtMs: number;
  /** The venue's `mutually_exclusive` flag; null when the source does not record it. */
  mutuallyExclusive: boolean | null;
  /** The caller's evidence that these buckets partition the outcomes (e.g. contiguous strikes covering every value), if any. */
  partition: PartitionEvidence | null;
  buckets: readonly BucketQuote[];
}

export type BasketSide = 'yes' | 'no';

/** One order of a basket, as a generic N-leg executor places it. */
export interface BasketLeg {
  market: string;
  side: BasketSide;
  action: 'buy';
  limitPrice: Dec;
  size: Dec;
  timeInForce: 'IOC';
}

export interface BucketBasket {
  kind: 'basket';
  eventTicker: string;
  basket: BasketSide;
  legs: BasketLeg[];
  size: Dec;
  /** Σ YES asks (yes basket) or Σ YES bids (no basket) of the legs. */
  priceSum: Dec;
  cost: Dec;
  fees: Dec;
  /** What the basket pays at settlement in the worst case (q for yes, q·(k − 1) for no). */
  guaranteedPayout: Dec;
  /** guaranteedPayout − cost − fees. */
  guaranteedProfit: Dec;
  edgePerContract: Dec;
  /** Every leg is all-or-nothing: a leg that does not fill whole unwinds the legs that did. */
  rollback: 'unwind-filled-legs';
  rulesVersion: string;
  strategyVersion?: string;
  reason: string;
}

export interface NoBucketBasket {
  kind: 'none';
  eventTicker: string;
  /** Why each considered basket was not taken (one line each). */
  reasons: string[];
}

export type BucketArbDecision = BucketBasket | NoBucketBasket;

/** What the event's own data says about its buckets. */
export interface BucketCoverage {
  mutuallyExclusive: { established: boolean; why: string };
  exhaustive: { established: boolean; refuted: boolean; why: string };
}

/**
 * Whether the buckets are known to be mutually exclusive and exhaustive. Settled results can refute
 * either (no winner: not exhaustive; two winners: not exclusive) or establish exhaustiveness.
 */
export function bucketCoverage(event: BucketEventSnapshot, params: Pick<BucketArbParams, 'partitionEvidence' | 'assumeExhaustiveWhenExclusive'>): BucketCoverage {
  const settled = event.buckets.length > 0 && event.buckets.every((b) => b.result === 'yes' || b.result === 'no');
  const winners = event.buckets.filter((b) => b.result === 'yes').length;
  const partition = event.partition !== null && params.partitionEvidence.includes(event.partition);
  let mutuallyExclusive: BucketCoverage['mutuallyExclusive'];
  if (winners > 1) mutuallyExclusive = { established: false, why: `${winners} buckets settled YES: not mutually exclusive` };
  // The venue's own "not exclusive" wins over any inference from strikes or names.
  else if (event.mutuallyExclusive === false) mutuallyExclusive = { established: false, why: 'venue flag mutually_exclusive is false' };
  else if (event.mutuallyExclusive === true) mutuallyExclusive = { established: true, why: 'venue flag mutually_exclusive' };
  else if (partition) mutuallyExclusive = { established: true, why: `buckets partition the outcomes (${event.partition})` };
  else mutuallyExclusive = { established: false, why: event.partition ? `mutual exclusivity only inferred (${event.partition}), not accepted by partitionEvidence` : 'mutual exclusivity not recorded' };

  let exhaustive: BucketCoverage['exhaustive'];
  if (settled && winners === 0) exhaustive = { established: false, refuted: true, why: 'every bucket settled NO: not exhaustive' };
  else if (settled && winners === 1) exhaustive = { established: true, refuted: false, why: 'exactly one bucket settled YES' };
  else if (partition) exhaustive = { established: true, refuted: false, why: `buckets partition the outcomes (${event.partition})` };
  else if (params.assumeExhaustiveWhenExclusive && event.mutuallyExclusive === true) exhaustive = { established: true, refuted: false, why: 'assumed for a mutually exclusive event (assumeExhaustiveWhenExclusive)' };
  else exhaustive = { established: false, refuted: false, why: 'no evidence that some bucket must settle YES' };
  return { mutuallyExclusive, exhaustive };
}

/** A bucket's strike as Kalshi publishes it: `less` (value < cap), `between` (floor ≤ value ≤ cap), `greater` (value > floor). */
export interface BucketStrike {
  market: string;
  type: string | null;
  floor: Dec | null;
  cap: Dec | null;
}

/**
 * Whether the strikes cover every possible value exactly once, for an outcome reported on a grid of
 * `resolution` (e.g. 1 for whole degrees, 0.1 for CPI in tenths): one `less` tail, `between` ranges and
 * one `greater` tail that follow each other without a gap or an overlap on that grid.
 */
export function strikesPartition(strikes: readonly BucketStrike[], resolution: Dec): { partition: boolean; why: string } {
  if (!resolution.gt(0)) throw new Error(`resolution must be > 0, got ${resolution.toString()}`);
  const ranges: { market: string; min: Dec | null; max: Dec | null }[] = [];
  for (const s of strikes) {
    if (s.type === 'less' && s.cap) ranges.push({ market: s.market, min: null, max: s.cap.minus(resolution) });
    else if (s.type === 'greater' && s.floor) ranges.push({ market: s.market, min: s.floor.plus(resolution), max: null });
    else if (s.type === 'between' && s.floor && s.cap && s.floor.lte(s.cap)) ranges.push({ market: s.market, min: s.floor, max: s.cap });
    else return { partition: false, why: `${s.market}: strike ${s.type ?? 'none'} is not a less/between/greater range` };
  }
  const lows = ranges.filter((r) => r.min === null);
  const highs = ranges.filter((r) => r.max === null);
  if (lows.length !== 1 || highs.length !== 1) return { partition: false, why: `${lows.length} lower and ${highs.length} upper tail(s): the buckets do not reach both ends` };
  const sorted = [lows[0]!, ...ranges.filter((r) => r.min !== null && r.max !== null).sort((a, b) => a.min!.comparedTo(b.min!)), highs[0]!];
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const next = sorted[i]!;
    const expected = prev.max!.plus(resolution);
    if (!next.min!.eq(expected)) return { partition: false, why: `${next.market} starts at ${next.min!.toString()}, not ${expected.toString()} after ${prev.market}: ${next.min!.gt(expected) ? 'a gap' : 'an overlap'}` };
  }
  return { partition: true, why: `${ranges.length} contiguous ranges at resolution ${resolution.toString()}` };
}

/** Kalshi's taker fee for one leg order of `contracts` at `price`, as the order is charged (trade fee + balance rounding). */
export function legOrderFee(contracts: Dec, price: Dec, fees: BucketArbParams['fees']): Dec {
  const tradeFee = kalshiFee({ contracts, price, rate: takerFeeRate({ takerRate: fees.takerRate, seriesMultiplier: fees.seriesMultiplier }) });
  return new KalshiOrderFeeAccumulator(fees.balancePrecision).charge({ action: 'buy', contracts, price, tradeFee }).fee;
}

/** A basket's economics for `size` contracts of each leg at the given leg prices (what is paid per contract, per leg). */
export function basketEconomics(basket: BasketSide, legPrices: readonly Dec[], size: Dec, fees: BucketArbParams['fees']) {
  const cost = legPrices.reduce((s, p) => s.plus(p.times(size)), new Dec(0));
  const feeTotal = legPrices.reduce((s, p) => s.plus(legOrderFee(size, p, fees)), new Dec(0));
  const guaranteedPayout = basket === 'yes' ? size : size.times(legPrices.length - 1);
  const guaranteedProfit = guaranteedPayout.minus(cost).minus(feeTotal);
  return { cost, fees: feeTotal, guaranteedPayout, guaranteedProfit, edgePerContract: size.gt(0) ? guaranteedProfit.div(size) : new Dec(0) };
}

const money = (d: Dec) => d.toFixed(4);

interface Candidate {
  basket: BasketSide;
  legs: { market: string; price: Dec; depth: Dec; sumPrice: Dec }[];
}

function candidateLegs(event: BucketEventSnapshot, basket: BasketSide): Candidate | string {
  if (basket === 'yes') {
    const missing = event.buckets.filter((b) => !b.yesAsk);
    if (missing.length > 0) return `yes basket: no YES ask on ${missing.map((b) => b.market).join(', ')}`;
    return { basket, legs: event.buckets.map((b) => ({ market: b.market, price: b.yesAsk!.price, depth: b.yesAsk!.size, sumPrice: b.yesAsk!.price })) };
  }
  // A NO leg is bought at 1 − YES bid; buckets without a bid are left out (the basket stays covered).
  const legs = event.buckets.filter((b) => b.yesBid && b.yesBid.price.gt(0)).map((b) => ({ market: b.market, price: new Dec(1).minus(b.yesBid!.price), depth: b.yesBid!.size, sumPrice: b.yesBid!.price }));
  if (legs.length < 2) return `no basket: ${legs.length} bucket(s) with a YES bid`;
  return { basket, legs };
}

/**
 * The best basket on one event snapshot, or why there is none. Legs are sized by the thinnest leg's
 * depth at its best price (capped at maxSize, whole contract steps); edge is per basket contract, after fees.
 */
export function findBucketArbitrage(event: BucketEventSnapshot, params: BucketArbParams, context: { strategyVersion?: string } = {}): BucketArbDecision {
  const none = (reasons: string[]): NoBucketBasket => ({ kind: 'none', eventTicker: event.eventTicker, reasons });
  if (event.buckets.length < 2) return none([`${event.buckets.length} bucket(s): not a multi-bucket event`]);
  const quoteTimes = event.buckets.map((b) => b.quotedAtMs);
  const skew = Math.max(...quoteTimes) - Math.min(...quoteTimes);
  if (skew > params.maxQuoteSkewMs) return none([`quotes ${skew} ms apart (maxQuoteSkewMs ${params.maxQuoteSkewMs})`]);
  const coverage = bucketCoverage(event, params);
  if (!coverage.mutuallyExclusive.established) return none([coverage.mutuallyExclusive.why]);

  const reasons: string[] = [];
  let best: BucketBasket | undefined;
  for (const basket of params.baskets) {
    if (basket === 'yes' && !coverage.exhaustive.established) {
      reasons.push(`yes basket: ${coverage.exhaustive.why}`);
      continue;
    }
    const candidate = candidateLegs(event, basket);
    if (typeof candidate === 'string') {
      reasons.push(candidate);
      continue;
    }
    const priceSum = candidate.legs.reduce((s, l) => s.plus(l.sumPrice), new Dec(0));
    const thinnest = candidate.legs.reduce((a, l) => (l.depth.lt(a.depth) ? l : a));
    if (thinnest.depth.lt(params.minDepth)) {
      reasons.push(`${basket} basket: ${thinnest.market} shows ${thinnest.depth.toString()} < minDepth ${params.minDepth.toString()}`);
      continue;
    }
    const size = Dec.min(thinnest.depth, params.maxSize).div(params.contractStep).floor().times(params.contractStep);
    if (size.lte(0)) {
      reasons.push(`${basket} basket: thinnest leg ${thinnest.market} shows less than one contract step`);
      continue;
    }
    const econ = basketEconomics(basket, candidate.legs.map((l) => l.price), size, params.fees);
    const sumText = basket === 'yes' ? `YES asks sum ${money(priceSum)}` : `YES bids sum ${money(priceSum)}`;
    if (econ.edgePerContract.lt(params.minEdge)) {
      reasons.push(`${basket} basket: ${sumText}, edge ${money(econ.edgePerContract)}/contract after fees ${money(econ.fees)} on ${size.toString()} < minEdge ${money(params.minEdge)}`);
      continue;
    }
    const found: BucketBasket = {
      kind: 'basket',
      eventTicker: event.eventTicker,
      basket,
      legs: candidate.legs.map((l) => ({ market: l.market, side: basket, action: 'buy', limitPrice: l.price, size, timeInForce: 'IOC' })),
      size,
      priceSum,
      ...econ,
      rollback: 'unwind-filled-legs',
      rulesVersion: BUCKET_ARB_RULES_VERSION,
      ...(context.strategyVersion === undefined ? {} : { strategyVersion: context.strategyVersion }),
      reason: `${basket} basket on ${candidate.legs.length} buckets of ${event.eventTicker} (${coverage.mutuallyExclusive.why}${basket === 'yes' ? `; ${coverage.exhaustive.why}` : ''}): ${sumText}, ${size.toString()} contracts (thinnest leg ${thinnest.market}), fees ${money(econ.fees)}, guaranteed profit ${money(econ.guaranteedProfit)} = ${money(econ.edgePerContract)}/contract`,
    };
    if (!best || found.guaranteedProfit.gt(best.guaranteedProfit)) best = found;
  }
  return best ?? none(reasons);
}

/**
 * What a basket actually paid given the recorded results (every leg's market must have one): the YES
 * basket pays `size` per winning leg, the NO basket `size` per losing leg.
 */
export function settleBasket(basket: Pick<BucketBasket, 'basket' | 'legs' | 'size' | 'cost' | 'fees'>, results: ReadonlyMap<string, 'yes' | 'no'>): { payout: Dec; profit: Dec } {
  let payout = new Dec(0);
  for (const leg of basket.legs) {
    const result = results.get(leg.market);
    if (result === undefined) throw new Error(`no recorded result for ${leg.market}`);
    if (result === leg.side) payout = payout.plus(leg.size);
  }
  return { payout, profit: payout.minus(basket.cost).minus(basket.fees) };
}

