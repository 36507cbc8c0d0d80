import * as wf from '@temporalio/workflow';
import { decideEntry, type EntrySignal, type StrategyRules, type StrategySnapshot } from '../domain/trading/strategy-rules';
import { positionFinishedSignal } from './messages';
import { positionWorkflow, type PositionInput } from './position';
import { STRATEGY_KEY } from './search-attributes';

export type { EntrySignal, StrategyPositionSummary, StrategyRules, StrategySnapshot } from '../domain/trading/strategy-rules';

export interface StrategyInput {
  strategyId: string;
  version: string;
  /** Immutable versions this run trades (strategy_versions / model_versions ids). */
  strategyVersionId?: number;
  modelVersionId?: number;
  rules: StrategyRules;
  position: Pick<PositionInput, 'cadence' | 'exitConfig' | 'planConfig'> & { clock?: 'stepped' };
  resume?: StrategySnapshot;
}

export const strategyQuery = wf.defineQuery<StrategySnapshot>('strategy');
export const signalsSignal = wf.defineSignal<[EntrySignal[]]>('signals');
export const stopStrategyUpdate = wf.defineUpdate<StrategySnapshot>('stop');

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
      const entry = decideEntry(signal, s.positions, input.rules);
      if (entry.decision === 'rejected') {
        decide(signal.signalId, 'rejected', entry.why);
        continue;
      }
      const positionId = `position/${input.strategyId}/${signal.market}/${s.nextPositionNo++}`;
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
            entry: { limitPrice: entry.limitPrice, size: entry.size, timeoutMs: input.rules.entryTimeoutMs },
            modelProbability: signal.modelProbability,
            // The model version that admitted this signal (the signal worker's active weights) wins over the run's.
            provenance: { strategyVersionId: input.strategyVersionId, modelVersionId: signal.modelVersionId ?? input.modelVersionId, signalId: signal.signalId },
            ...input.position,
            // Lockstep replay: the position starts on the market clock of the signal that opened it.
            clock: input.position.clock && { mode: 'stepped' as const, startMs: signal.firedAtMs ?? 0 },
          },
        ],
      });
      s.positions.push({ positionId, market: signal.market, signalId: signal.signalId, status: 'entering' });
      decide(signal.signalId, 'entered', entry.why);
    }
    if (wf.workflowInfo().continueAsNewSuggested) {
      await wf.condition(wf.allHandlersFinished);
      await wf.continueAsNew<typeof strategyWorkflow>({ ...input, resume: s });
    }
  }
  await wf.condition(wf.allHandlersFinished);
  // Complete in a task after the one that ran the stop Update: a child's completion event arriving while
  // that task completes the workflow fails it (UnhandledCommand), which would abort the Update the caller waits on.
  if (wf.patched('strategy-completes-after-stop-update')) await wf.sleep(1);
  return s;
}
