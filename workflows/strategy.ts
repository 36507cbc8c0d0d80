import * as wf from '@temporalio/workflow';
import { Dec } from '../domain/decimal';
import { kalshiFee } from '../domain/fees';
import { kellyContracts } from '../domain/risk/kelly';
import { positionFinishedSignal } from './messages';
import { positionWorkflow, type PositionInput } from './position';
import { STRATEGY_KEY } from './search-attributes';

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
  /** Signal type and market category, when the signal came from the signal engine. */
  type?: string;
  category?: string;
}

export interface StrategyRules {
  /** Required edge per contract: model probability − ask − taker fee per contract. */
  minEdge: string;
  maxConcurrent: number;
  size: string;
  /** Entry limit = ask + this many ticks (crossing a thinning book). */
  entrySlippageTicks: number;
  tick: string;
  takerFeeRate: string;
  entryTimeoutMs: number;
  /** Fixed size, or fractional Kelly on the edge after fees (capped at `size` and by the risk limits). */
  sizing?: { kind: 'fixed' } | { kind: 'kelly'; kellyFraction: string; capital: string };
}

export interface StrategyInput {
  strategyId: string;
  version: string;
  /** Immutable versions this run trades (strategy_versions / model_versions ids). */
  strategyVersionId?: number;
  modelVersionId?: number;
  rules: StrategyRules;
  position: Pick<PositionInput, 'cadence' | 'exitConfig' | 'planConfig'>;
  resume?: StrategySnapshot;
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

export const strategyQuery = wf.defineQuery<StrategySnapshot>('strategy');
export const signalsSignal = wf.defineSignal<[EntrySignal[]]>('signals');
export const stopStrategyUpdate = wf.defineUpdate<StrategySnapshot>('stop');

const OPEN = new Set(['entering', 'open', 'exiting']);

/** Runs one strategy version: turns actionable signals into position workflows (children). */
export async function strategyWorkflow(input: StrategyInput): Promise<StrategySnapshot> {
  const s: StrategySnapshot = input.resume ?? { active: true, positions: [], seenSignals: [], decisions: [], nextPositionNo: 1 };
  const pending: EntrySignal[] = [];
  wf.upsertSearchAttributes([{ key: STRATEGY_KEY, value: input.strategyId }]);

  wf.setHandler(strategyQuery, () => s);
  wf.setHandler(signalsSignal, (batch) => void (s.active && pending.push(...batch)));
  wf.setHandler(positionFinishedSignal, (done) => {
    const p = s.positions.find((x) => x.positionId === done.positionId);
    if (p) Object.assign(p, { status: done.status, realizedPnl: done.realizedPnl });
  });
  wf.setHandler(stopStrategyUpdate, async () => {
    s.active = false;
    pending.length = 0;
    return s;
  });

  const rules = input.rules;
  const decide = (signalId: string, decision: 'entered' | 'rejected', why: string) => {
    s.decisions.push({ signalId, decision, why });
    if (s.decisions.length > 200) s.decisions.shift();
  };

  while (s.active) {
    await wf.condition(() => pending.length > 0 || !s.active);
    while (pending.length > 0 && s.active) {
      const signal = pending.shift()!;
      if (s.seenSignals.includes(signal.signalId)) continue;
      s.seenSignals.push(signal.signalId);
      if (s.seenSignals.length > 1000) s.seenSignals.shift();
      const open = s.positions.filter((p) => OPEN.has(p.status));
      if (open.some((p) => p.market === signal.market)) {
        decide(signal.signalId, 'rejected', `already holding ${signal.market}`);
        continue;
      }
      if (open.length >= rules.maxConcurrent) {
        decide(signal.signalId, 'rejected', `${open.length} positions open (max ${rules.maxConcurrent})`);
        continue;
      }
      const ask = new Dec(signal.ask);
      let size = new Dec(rules.size);
      if (rules.sizing?.kind === 'kelly') {
        const kelly = kellyContracts({ probability: new Dec(signal.modelProbability), price: ask, capital: new Dec(rules.sizing.capital), kellyFraction: new Dec(rules.sizing.kellyFraction), takerRate: new Dec(rules.takerFeeRate), maxContracts: size });
        size = kelly.contracts;
        if (size.lte(0)) {
          decide(signal.signalId, 'rejected', `Kelly size is 0 (edge ${kelly.edge.toFixed(4)})`);
          continue;
        }
      }
      const feePerContract = kalshiFee({ contracts: size, price: ask, rate: new Dec(rules.takerFeeRate) }).div(size);
      const edge = new Dec(signal.modelProbability).minus(ask).minus(feePerContract);
      if (edge.lt(rules.minEdge)) {
        decide(signal.signalId, 'rejected', `edge ${edge.toFixed(4)} < ${rules.minEdge}`);
        continue;
      }
      const positionId = `position/${input.strategyId}/${signal.market}/${s.nextPositionNo++}`;
      const limit = Dec.min(new Dec('0.99'), ask.plus(new Dec(rules.tick).times(rules.entrySlippageTicks)));
      await wf.startChild(positionWorkflow, {
        workflowId: positionId,
        // Positions outlive their strategy: stopping a strategy never abandons an open position.
        parentClosePolicy: 'ABANDON',
        args: [
          {
            strategyId: input.strategyId,
            market: signal.market,
            outcome: signal.outcome,
            closeTimeMs: signal.closeTimeMs,
            entry: { limitPrice: limit.toFixed(4), size: size.toFixed(2), timeoutMs: rules.entryTimeoutMs },
            modelProbability: signal.modelProbability,
            provenance: { strategyVersionId: input.strategyVersionId, modelVersionId: input.modelVersionId, signalId: signal.signalId },
            ...input.position,
          },
        ],
      });
      s.positions.push({ positionId, market: signal.market, signalId: signal.signalId, status: 'entering' });
      decide(signal.signalId, 'entered', `edge ${edge.toFixed(4)} (${signal.reason})`);
    }
    if (wf.workflowInfo().continueAsNewSuggested) {
      await wf.condition(wf.allHandlersFinished);
      await wf.continueAsNew<typeof strategyWorkflow>({ ...input, resume: s });
    }
  }
  await wf.condition(wf.allHandlersFinished);
  return s;
}
