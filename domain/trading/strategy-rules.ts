import { Dec } from '../decimal';
import { kalshiFee } from '../fees';
import { kellyContracts } from '../risk/kelly';

/**
 * A strategy's entry rules, shared by the strategy workflow and the backtester: from an actionable
 * signal and the strategy's open positions to "enter with this order" or "reject, because".
 */
/** An actionable signal, already filtered upstream (never one Temporal signal per tick). */
export interface EntrySignal {
  signalId: string;
  market: string;
  outcome: 'yes' | 'no';
  /** The model's probability that `outcome` wins. */
  modelProbability: string;
  /** Best ask for `outcome` when the signal fired. */
  ask: string;
  /** Market close, in this workflow's clock. */
  closeTimeMs: number;
  reason: string;
  /** Exchange time the signal fired at (lockstep replays start positions on this clock). */
  firedAtMs?: number;
  /** Signal type and market category, when the signal came from the signal engine. */
  type?: string;
  category?: string;
  /** The taker fee rate of this market from the venue's own fee terms (`takerFeeRate` with its metadata), when the source knows them. */
  takerFeeRate?: string;
  /** The model version (model_versions id) whose weights made this signal actionable, when the source knows it. */
  modelVersionId?: number;
}

export interface StrategyRules {
  /** Required edge per contract: model probability − ask − taker fee per contract. */
  minEdge: string;
  maxConcurrent: number;
  size: string;
  /** Entry limit = ask + this many ticks (crossing a thinning book). */
  entrySlippageTicks: number;
  tick: string;
  /**
   * Not a strategy's own setting: the taker fee rate (config's, `config/fees.ts`) a run assumes for
   * signals that bring none, filled when the run starts. Optional for strategy configs and for
   * workflow inputs recorded before the fee came from one place.
   */
  takerFeeRate?: string;
  entryTimeoutMs: number;
  /** Fixed size, or fractional Kelly on the edge after fees (capped at `size` and by the risk limits). */
  sizing?: { kind: 'fixed' } | { kind: 'kelly'; kellyFraction: string; capital: string };
}

export interface StrategyPositionSummary {
  positionId: string;
  market: string;
  signalId: string;
  status: string;
  realizedPnl?: string;
}

export interface StrategySnapshot {
  active: boolean;
  positions: StrategyPositionSummary[];
  seenSignals: string[];
  decisions: { signalId: string; decision: 'entered' | 'rejected'; why: string }[];
  nextPositionNo: number;
}

export const OPEN_STATUSES = new Set(['entering', 'open', 'exiting']);

export type EntryDecision = { decision: 'rejected'; why: string } | { decision: 'entered'; why: string; limitPrice: string; size: string };

export function decideEntry(signal: EntrySignal, positions: readonly StrategyPositionSummary[], rules: StrategyRules): EntryDecision {
  const open = positions.filter((p) => OPEN_STATUSES.has(p.status));
  if (open.some((p) => p.market === signal.market)) return { decision: 'rejected', why: `already holding ${signal.market}` };
  if (open.length >= rules.maxConcurrent) return { decision: 'rejected', why: `${open.length} positions open (max ${rules.maxConcurrent})` };
  const takerRate = signal.takerFeeRate ?? rules.takerFeeRate;
  if (takerRate === undefined) return { decision: 'rejected', why: `no taker fee rate for ${signal.market}: neither the signal nor the run carries one` };
  const ask = new Dec(signal.ask);
  let size = new Dec(rules.size);
  if (rules.sizing?.kind === 'kelly') {
    const kelly = kellyContracts({ probability: new Dec(signal.modelProbability), price: ask, capital: new Dec(rules.sizing.capital), kellyFraction: new Dec(rules.sizing.kellyFraction), takerRate: new Dec(takerRate), maxContracts: size });
    size = kelly.contracts;
    if (size.lte(0)) return { decision: 'rejected', why: `Kelly size is 0 (edge ${kelly.edge.toFixed(4)})` };
  }
  const feePerContract = kalshiFee({ contracts: size, price: ask, rate: new Dec(takerRate) }).div(size);
  const edge = new Dec(signal.modelProbability).minus(ask).minus(feePerContract);
  if (edge.lt(rules.minEdge)) return { decision: 'rejected', why: `edge ${edge.toFixed(4)} < ${rules.minEdge}` };
  const limit = Dec.min(new Dec('0.99'), ask.plus(new Dec(rules.tick).times(rules.entrySlippageTicks)));
  return { decision: 'entered', why: `edge ${edge.toFixed(4)} (${signal.reason})`, limitPrice: limit.toFixed(4), size: size.toFixed(2) };
}
