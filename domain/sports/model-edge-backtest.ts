import { Dec } from '../decimal';
import { kalshiFee } from '../fees';
import { type PerformanceMetrics, performance, type TradeRecord } from '../backtest/metrics';
import { checkEntry, initialRiskState, recordClosedPosition, type RiskLimits, rollTradingDay } from '../risk/risk-manager';
import { evaluateExits, type ExitConfig } from '../trading/exits';
import { scoreProbabilities } from './evaluation';
import { type Game, homeResult } from './games';
import type { GameMarket } from './game-key';
import { decideModelEdgeEntry, type ModelEdgeRule, TipoffDetector } from './model-edge';
import { fitRegressionWindow, GameModels, type PreGame, pregameEnsemble, type SuiteParams } from './model-suite';
import type { LogisticModel } from './regression';

/** One Kalshi game market's priced minutes (trades only) and how it settled. */
export interface CandleMarket {
  market: GameMarket;
  yesWon: boolean;
  /** Minutes with trades, oldest first; prices in cents. */
  candles: { atMs: number; closeCents: number; volume: number }[];
}

export interface ModelEdgeBacktestInput {
  /** Earlier results (e.g. OddsPortal), used to rate teams; each becomes known the morning after. */
  history: readonly Game[];
  markets: readonly CandleMarket[];
  /** Games before this date (YYYY-MM-DD) only update ratings: not traded, not scored. */
  fromDate?: string;
  suite: SuiteParams;
  rule: ModelEdgeRule;
  /** Candles are trades only: we buy at the close plus this and sell at the close minus this, at most the minute's volume. */
  slippage: Dec;
  capital: Dec;
  risk: RiskLimits;
  exits: ExitConfig;
  tipoff: { windowMinutes: number; moveCents: number };
  /**
   * A market whose first priced minute comes later than this many hours after 00:00 UTC of its game
   * date may have opened in play (no NBA game tips off before 16:00 UTC): not traded, not scored.
   */
  latestFirstPriceHours: number;
}

export interface ModelEdgeTrade {
  market: string;
  side: 'yes' | 'no';
  contracts: string;
  entryPrice: string;
  modelProbability: string;
  edge: string;
  openedAt: string;
  closedAt: string;
  exits: string[];
  fees: string;
  pnl: string;
}

export interface ModelEdgeBacktestResult {
  games: number;
  trades: number;
  pnl: string;
  fees: string;
  winRate: number | null;
  modelBrier: number | null;
  marketBrier: number | null;
  /** Games scored for the two Brier figures (those with a pre-game price). */
  scoredGames: number;
  gamesWithoutPreGamePrice: number;
  metrics: PerformanceMetrics;
  tradeList: ModelEdgeTrade[];
  skippedEntries: Record<string, number>;
}

const HOUR = 3_600_000;
/** A result is known by 08:00 UTC the day after its (US) game date, when every NBA game is over. */
const resultKnownAtMs = (date: string) => Date.parse(`${date}T00:00:00Z`) + 32 * HOUR;
const nbaSeasonOf = (date: string) => Number(date.slice(0, 4)) + (Number(date.slice(5, 7)) >= 8 ? 1 : 0);
const cents = (c: number) => new Dec(c).div(100);
const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 24 * HOUR).toISOString().slice(0, 10);

interface Position {
  id: string;
  side: 'yes' | 'no';
  entryPrice: Dec;
  original: Dec;
  remaining: Dec;
  highWater: Dec;
  stagesDone: number;
  fees: Dec;
  cashFlow: Dec;
  probability: Dec;
  edge: Dec;
  openedAtMs: number;
  exits: string[];
}

/**
 * Replays Kalshi game markets minute by minute against the sports models. The models learn each
 * result only once it is known (the morning after the game), entries happen only before tip-off,
 * every entry passes the risk manager, exits follow the usual exit rules, and what is left settles
 * at $1 / $0 on the market's result.
 */
export function runModelEdgeBacktest(input: ModelEdgeBacktestInput): ModelEdgeBacktestResult {
  const { suite, rule } = input;
  // One game per market: the history row for it when there is one (date ±1 day), else the market's own.
  const byKey = new Map<string, Game>();
  for (const g of input.history) byKey.set(`${g.date}|${g.home}|${g.away}`, g);
  const games = new Map<string, Game>(input.history.map((g) => [`${g.date}|${g.home}|${g.away}`, g]));
  const gameOf = new Map<string, Game>();
  for (const m of input.markets) {
    const k = m.market;
    const found = [0, -1, 1].map((d) => byKey.get(`${addDays(k.date, d)}|${k.home}|${k.away}`)).find(Boolean);
    const yesIsHome = k.yesTeam === k.home;
    const game: Game = found ?? { line: 0, date: k.date, season: nbaSeasonOf(k.date), neutral: false, playoff: false, home: k.home, away: k.away, homeWon: yesIsHome === m.yesWon };
    games.set(`${game.date}|${game.home}|${game.away}`, game);
    gameOf.set(k.ticker, game);
  }
  const results = [...games.values()].filter((g) => homeResult(g) !== undefined).sort((a, b) => a.date.localeCompare(b.date));
  let nextResult = 0;

  const models = new GameModels(suite);
  const rows: { game: Game; pre: PreGame }[] = [];
  const regressionBySeason = new Map<number, LogisticModel | undefined>();
  const applyResultsUntil = (atMs: number) => {
    while (nextResult < results.length && resultKnownAtMs(results[nextResult]!.date) <= atMs) {
      const game = results[nextResult++]!;
      rows.push({ game, pre: models.preGame(game) });
      models.record(game);
    }
  };
  const predictYes = (m: GameMarket, game: Game) => {
    if (!regressionBySeason.has(game.season)) regressionBySeason.set(game.season, fitRegressionWindow(rows, game.season - suite.regressionTrainSeasons, game.season - 1)?.model);
    const ensemble = pregameEnsemble(models, regressionBySeason.get(game.season), game);
    const home = ensemble?.probability ?? 0.5;
    return { probability: m.yesTeam === m.home ? home : 1 - home, confidence: ensemble?.confidence ?? 0 };
  };

  const candles = input.markets.flatMap((m, mi) => m.candles.map((c, ci) => ({ ...c, mi, last: ci === m.candles.length - 1 }))).sort((a, b) => a.atMs - b.atMs || a.mi - b.mi);
  const state = input.markets.map(() => ({ detector: new TipoffDetector(input.tipoff), entered: false, position: undefined as Position | undefined, coverage: undefined as boolean | undefined, lastPrediction: undefined as number | undefined }));
  const risk = initialRiskState();
  const trades: TradeRecord[] = [];
  const tradeList: ModelEdgeTrade[] = [];
  const skipped: Record<string, number> = {};
  let totalFees = new Dec(0);
  const inWindow = (game: Game) => !input.fromDate || game.date >= input.fromDate;

  const close = (mi: number, atMs: number, status: 'closed' | 'settled') => {
    const s = state[mi]!;
    const p = s.position!;
    const m = input.markets[mi]!;
    trades.push({ positionId: p.id, market: m.market.ticker, signalType: 'model-edge', category: m.market.league, outcome: p.side, status, openedAtMs: p.openedAtMs, closedAtMs: atMs, cost: p.original.times(p.entryPrice), pnl: p.cashFlow });
    tradeList.push({ market: m.market.ticker, side: p.side, contracts: p.original.toString(), entryPrice: p.entryPrice.toFixed(2), modelProbability: p.probability.toFixed(3), edge: p.edge.toFixed(4), openedAt: new Date(p.openedAtMs).toISOString(), closedAt: new Date(atMs).toISOString(), exits: p.exits, fees: p.fees.toFixed(4), pnl: p.cashFlow.toFixed(4) });
    recordClosedPosition(risk, p.cashFlow, input.risk, atMs);
    s.position = undefined;
  };

  for (const c of candles) {
    applyResultsUntil(c.atMs);
    const m = input.markets[c.mi]!;
    const s = state[c.mi]!;
    const game = gameOf.get(m.market.ticker)!;
    if (s.coverage === undefined) s.coverage = c.atMs <= Date.parse(`${m.market.date}T00:00:00Z`) + input.latestFirstPriceHours * HOUR;
    if (!s.coverage) continue;
    const wasInPlay = s.detector.inPlaySinceMs !== undefined;
    const inPlay = s.detector.observe(c.atMs, c.closeCents);
    if (!wasInPlay) s.lastPrediction = predictYes(m.market, game).probability;
    const volume = new Dec(c.volume);

    const p = s.position;
    if (p && volume.gt(0)) {
      const heldCents = p.side === 'yes' ? c.closeCents : 100 - c.closeCents;
      const bid = Dec.max(new Dec('0.01'), cents(heldCents).minus(input.slippage));
      if (bid.gt(p.highWater)) p.highWater = bid;
      const evaluation = evaluateExits(
        { entryPrice: p.entryPrice, originalSize: p.original, remainingSize: p.remaining, highWaterBid: p.highWater, partialStagesDone: p.stagesDone, circuitBreakerTripped: risk.mode === 'HALTED', rebalanceRequested: false },
        // The close time is not in the candle files; the market settles on the result, so no time-based exit.
        { nowMs: c.atMs, bid, bidSize: volume, ask: Dec.min(new Dec('0.99'), bid.plus(input.slippage.times(2))), closeTimeMs: Number.MAX_SAFE_INTEGER, modelProbability: inPlay ? undefined : p.probability },
        input.exits,
      );
      const decision = evaluation.decision;
      if (decision) {
        const size = Dec.min(decision.size, p.remaining, volume);
        const fee = kalshiFee({ contracts: size, price: bid, rate: rule.takerRate });
        p.cashFlow = p.cashFlow.plus(size.times(bid)).minus(fee);
        p.fees = p.fees.plus(fee);
        totalFees = totalFees.plus(fee);
        p.remaining = p.remaining.minus(size);
        p.exits.push(`${decision.reason} ${size.toString()} @ ${bid.toFixed(2)}`);
        if (decision.reason === 'partial_exit_target') p.stagesDone++;
        if (p.remaining.lte(0)) close(c.mi, c.atMs, 'closed');
      }
    }

    if (!s.entered && !inPlay && inWindow(game) && !s.position) {
      const yesAsk = Dec.min(new Dec('0.99'), cents(c.closeCents).plus(input.slippage));
      const noAsk = Dec.min(new Dec('0.99'), cents(100 - c.closeCents).plus(input.slippage));
      const prediction = predictYes(m.market, game);
      const maxByRisk = input.capital.times(input.risk.maxPositionFraction);
      const decision = decideModelEdgeEntry({ yesProbability: prediction.probability, confidence: prediction.confidence, yesAsk, noAsk, capital: input.capital, maxContracts: volume, rule });
      if (decision.enter) {
        const contracts = Dec.min(decision.contracts, maxByRisk.div(decision.price).toDecimalPlaces(0, Dec.ROUND_DOWN));
        rollTradingDay(risk, c.atMs);
        const held = state.flatMap((x, i) => (x.position ? [{ positionId: x.position.id, market: input.markets[i]!.market.ticker, remaining: x.position.remaining, entryPrice: x.position.entryPrice }] : []));
        const id = `model-edge/${m.market.ticker}`;
        const verdict = contracts.gt(0) ? checkEntry(risk, input.risk, c.atMs, { positionId: id, market: m.market.ticker, cost: contracts.times(decision.price), closeTimeMs: c.atMs + 24 * HOUR }, held, c.atMs) : { allowed: false as const, rule: 'size', reason: 'no contracts' };
        if (verdict.allowed) {
          const fee = kalshiFee({ contracts, price: decision.price, rate: rule.takerRate });
          totalFees = totalFees.plus(fee);
          s.entered = true;
          s.position = { id, side: decision.side, entryPrice: decision.price, original: contracts, remaining: contracts, highWater: decision.price, stagesDone: 0, fees: fee, cashFlow: contracts.times(decision.price).plus(fee).neg(), probability: decision.probability, edge: decision.edge, openedAtMs: c.atMs, exits: [] };
        } else skipped[`risk:${verdict.rule}`] = (skipped[`risk:${verdict.rule}`] ?? 0) + 1;
      }
    }

    if (c.last && s.position) {
      const p = s.position;
      const won = (p.side === 'yes') === m.yesWon;
      p.cashFlow = p.cashFlow.plus(won ? p.remaining : 0);
      p.exits.push(`settled ${won ? '$1' : '$0'} × ${p.remaining.toString()}`);
      p.remaining = new Dec(0);
      close(c.mi, c.atMs, 'settled');
    }
  }

  // Brier of the model and of the market, per game in the window, from the last pre-game price.
  const modelPairs: { p: number; outcome: 0 | 1 }[] = [];
  const marketPairs: { p: number; outcome: 0 | 1 }[] = [];
  let withoutPrice = 0;
  input.markets.forEach((m, i) => {
    if (!inWindow(gameOf.get(m.market.ticker)!)) return;
    const pre = state[i]!.detector.preGameCents;
    const model = state[i]!.lastPrediction;
    if (!state[i]!.coverage || pre === undefined || model === undefined) return void withoutPrice++;
    const outcome = m.yesWon ? 1 : 0;
    modelPairs.push({ p: model, outcome });
    marketPairs.push({ p: pre / 100, outcome });
  });
  const metrics = performance(trades, input.capital, totalFees);
  const total = trades.reduce((n, t) => n.plus(t.pnl), new Dec(0));
  return {
    games: input.markets.filter((m) => inWindow(gameOf.get(m.market.ticker)!)).length,
    trades: trades.length,
    pnl: total.toFixed(4),
    fees: totalFees.toFixed(4),
    winRate: metrics.winRate,
    modelBrier: modelPairs.length ? scoreProbabilities(modelPairs).brier : null,
    marketBrier: marketPairs.length ? scoreProbabilities(marketPairs).brier : null,
    scoredGames: modelPairs.length,
    gamesWithoutPreGamePrice: withoutPrice,
    metrics,
    tradeList,
    skippedEntries: skipped,
  };
}
