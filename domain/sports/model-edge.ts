import { Dec } from '../decimal';
import { kellyContracts } from '../risk/kelly';

/**
 * The model-edge rule: buy the side whose model probability exceeds its price by at least
 * `minEdge`, when the ensemble's models agree (confidence ≥ `minConfidence`), sized by fractional
 * Kelly on the edge after the taker fee.
 */
export interface ModelEdgeRule {
  minEdge: Dec;
  minConfidence: number;
  kellyFraction: Dec;
  takerRate: Dec;
}

export const DEFAULT_MODEL_EDGE = { minEdge: '0.05', minConfidence: 0.7, kellyFraction: '0.25' } as const;

export type ModelEdgeDecision =
  | { enter: false; why: string }
  | { enter: true; side: 'yes' | 'no'; price: Dec; probability: Dec; edge: Dec; contracts: Dec; why: string };

/**
 * `yesProbability`: the model's probability that YES wins; `yesAsk` / `noAsk`: what one contract of
 * each side costs now (fill assumption included). `maxContracts` caps the Kelly size.
 */
export function decideModelEdgeEntry(args: { yesProbability: number; confidence: number; yesAsk: Dec; noAsk: Dec; capital: Dec; maxContracts: Dec; rule: ModelEdgeRule }): ModelEdgeDecision {
  const { rule } = args;
  if (args.confidence < rule.minConfidence) return { enter: false, why: `confidence ${args.confidence.toFixed(3)} < ${rule.minConfidence}` };
  // Probabilities are model math (numbers); rounded to 1e-6 they become decimals to compare with prices.
  const yesP = new Dec(args.yesProbability.toFixed(6));
  const sides = [
    { side: 'yes' as const, probability: yesP, price: args.yesAsk },
    { side: 'no' as const, probability: new Dec(1).minus(yesP), price: args.noAsk },
  ].filter((s) => s.price.gt(0) && s.price.lt(1));
  const best = sides.map((s) => ({ ...s, edge: s.probability.minus(s.price) })).sort((a, b) => b.edge.comparedTo(a.edge))[0];
  if (!best || best.edge.lt(rule.minEdge)) return { enter: false, why: `edge ${best ? best.edge.toFixed(4) : '-'} < ${rule.minEdge.toString()}` };
  const kelly = kellyContracts({ probability: best.probability, price: best.price, capital: args.capital, kellyFraction: rule.kellyFraction, takerRate: rule.takerRate, maxContracts: args.maxContracts });
  if (kelly.contracts.lte(0)) return { enter: false, why: `Kelly size 0 (edge after fee ${kelly.edge.toFixed(4)})` };
  return { enter: true, side: best.side, price: best.price, probability: best.probability, edge: best.edge, contracts: kelly.contracts, why: `${best.side.toUpperCase()} model ${best.probability.toFixed(3)} vs price ${best.price.toFixed(2)}: edge ${best.edge.toFixed(4)}, confidence ${args.confidence.toFixed(3)}` };
}

/**
 * Tip-off from trades alone (no schedule in the candle files): the game is taken to be in play from
 * the first minute in which the last `windowMinutes` priced minutes (and the close before them) span
 * at least `moveCents` (pre-game prices drift by a cent or two; in play they swing). It only looks back, so a backtest
 * can stop entering at that minute without seeing the future. A big pre-game move (injury news)
 * also stops entries: the conservative side.
 */
export class TipoffDetector {
  private readonly window: { atMs: number; cents: number }[] = [];
  private beforeWindow?: { atMs: number; cents: number };
  private last?: { atMs: number; cents: number };
  private inPlay?: { atMs: number; preGameCents: number };
  constructor(private readonly params: { windowMinutes: number; moveCents: number }) {}

  /** Feeds a priced minute; returns true once the game is in play. */
  observe(atMs: number, closeCents: number): boolean {
    if (this.inPlay) return true;
    this.window.push({ atMs, cents: closeCents });
    while (this.window[0]!.atMs <= atMs - this.params.windowMinutes * 60_000) this.beforeWindow = this.window.shift();
    // The last close before the window counts too: a jump after a quiet spell is a swing as well.
    const cents = [...(this.beforeWindow ? [this.beforeWindow.cents] : []), ...this.window.map((w) => w.cents)];
    if (Math.max(...cents) - Math.min(...cents) >= this.params.moveCents) {
      // The minutes inside the window may already be in play: the pre-game price is the one before it.
      this.inPlay = { atMs, preGameCents: (this.beforeWindow ?? this.window[0]!).cents };
      return true;
    }
    this.last = { atMs, cents: closeCents };
    return false;
  }

  get inPlaySinceMs(): number | undefined {
    return this.inPlay?.atMs;
  }

  /** The market's last pre-game price in cents (the last priced minute if play was never detected). */
  get preGameCents(): number | undefined {
    return this.inPlay ? this.inPlay.preGameCents : this.last?.cents;
  }
}
