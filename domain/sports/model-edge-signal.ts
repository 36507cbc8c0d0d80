import { Dec } from '../decimal';
import type { EntrySignal } from '../trading/strategy-rules';
import { contractDifference, type ContractTerms, GAME_SERIES, parseGameTicker } from './game-key';
import type { League } from './games';
import type { LiveGameModel } from './live-model';

/** Leagues whose game markets cannot end in a tie, so "NO on A" is the same bet as "B wins". */
const NO_TIES: ReadonlySet<League> = new Set(['nba', 'mlb', 'nhl']);

/** How Kalshi's game series settle (the rule the model's probability must match). */
const SERIES_SETTLEMENT: Record<string, ContractTerms['settlement']> = Object.fromEntries(Object.values(GAME_SERIES).map((s) => [s, 'final_result_incl_overtime' as const]));

export interface ModelEdgeQuote {
  market: string;
  /** What one contract of each side costs now (best asks); undefined = nothing offered. */
  yesAsk?: Dec;
  noAsk?: Dec;
  closeTimeMs: number;
  nowMs: number;
}

/** The signal type strategies subscribe to for model-edge entries. */
export const MODEL_EDGE_SIGNAL = 'model_edge';

/**
 * On a market update: the active model version's probability for the game against the market's
 * asks. An entry signal when one side's edge (probability − ask) reaches `minEdge` with confidence
 * ≥ `minConfidence`, after the contract-equivalence check (same game, same outcome, same settlement
 * rule); otherwise the reason not. One signal id per market, side and model version, so the
 * strategy enters at most once on it.
 */
export function modelEdgeSignal(quote: ModelEdgeQuote, model: { live: LiveGameModel; name: string; version: string }, rule: { minEdge: Dec; minConfidence: number }): { signal: EntrySignal } | { rejected: string } {
  const market = parseGameTicker(quote.market);
  if ('error' in market) return { rejected: market.error };
  const settlement = SERIES_SETTLEMENT[quote.market.split('-')[0]!] ?? 'other';
  const prediction = model.live.predict(market);
  if (!prediction) return { rejected: `${model.name} ${model.version} has no rating for ${market.away}@${market.home}` };
  if (prediction.confidence < rule.minConfidence) return { rejected: `confidence ${prediction.confidence.toFixed(3)} < ${rule.minConfidence}` };
  const otherTeam = market.yesTeam === market.home ? market.away : market.home;
  const yesProbability = new Dec((market.yesTeam === market.home ? prediction.probability : 1 - prediction.probability).toFixed(6));
  const sides = [
    { outcome: 'yes' as const, team: market.yesTeam, probability: yesProbability, ask: quote.yesAsk },
    { outcome: 'no' as const, team: otherTeam, probability: new Dec(1).minus(yesProbability), ask: quote.noAsk },
  ].flatMap((s) => (s.ask && s.ask.gt(0) && s.ask.lt(1) ? [{ ...s, ask: s.ask, edge: s.probability.minus(s.ask) }] : []));
  const best = sides.sort((a, b) => b.edge.comparedTo(a.edge))[0];
  if (!best) return { rejected: 'no ask on either side' };
  if (best.edge.lt(rule.minEdge)) return { rejected: `edge ${best.edge.toFixed(4)} < ${rule.minEdge.toString()}` };
  if (best.outcome === 'no' && !NO_TIES.has(market.league)) return { rejected: `NO on ${market.yesTeam} also pays on a tie in ${market.league.toUpperCase()}: not the same bet as ${otherTeam} winning` };
  const modelTerms: ContractTerms = { game: market, outcomeTeam: best.team, settlement: 'final_result_incl_overtime' };
  const marketTerms: ContractTerms = { game: market, outcomeTeam: best.outcome === 'yes' ? market.yesTeam : otherTeam, settlement };
  const difference = contractDifference(modelTerms, marketTerms);
  if (difference) return { rejected: `contract check: ${difference}` };
  return {
    signal: {
      signalId: `model-edge:${quote.market}:${best.outcome}:${model.name}@${model.version}`,
      market: quote.market,
      outcome: best.outcome,
      modelProbability: best.probability.toFixed(4),
      ask: best.ask.toFixed(4),
      closeTimeMs: quote.closeTimeMs,
      firedAtMs: quote.nowMs,
      type: MODEL_EDGE_SIGNAL,
      category: market.ticker.split('-')[0]!.toLowerCase(),
      reason: `${model.name} ${model.version}: P(${best.team}) ${best.probability.toFixed(3)} vs ask ${best.ask.toFixed(2)}, edge ${best.edge.toFixed(4)}, confidence ${prediction.confidence.toFixed(3)}`,
    },
  };
}
