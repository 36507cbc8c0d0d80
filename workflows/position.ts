import * as wf from '@temporalio/workflow';
import { Dec, decimalString } from '../domain/decimal';
import { quoteWireSchema, type QuoteWire } from '../domain/trading/wire';
import type { Activities } from '../activities';
import { exitPlanConfigSchema } from '../domain/trading/exit-plan';
import { exitConfigSchema, URGENCIES, type Urgency } from '../domain/trading/exits';
import { PositionState, runPosition, type ManualExitRequest, type PositionInput, type PositionPorts, type PositionRuntime, type PositionSnapshot } from '../domain/trading/position-engine';
import { ACTIVITY_PRESETS } from './activity-options';
import { positionFinishedSignal } from './messages';
import { MARKET_KEY, STATUS_KEY, STRATEGY_KEY } from './search-attributes';


const reads = wf.proxyActivities<Activities>(ACTIVITY_PRESETS.venueRead);
const orders = wf.proxyActivities<Activities>(ACTIVITY_PRESETS.venueOrder);
const writes = wf.proxyActivities<Activities>(ACTIVITY_PRESETS.databaseWrite);

export type { ManualExitRequest, PositionCadence, PositionInput, PositionSnapshot, PositionStatus } from '../domain/trading/position-engine';

/** Timer lateness worth a warning: well beyond a workflow task's usual scheduling delay. */
const LATE_TIMER_WARN_MS = 2000;

export const positionQuery = wf.defineQuery<PositionSnapshot>('position');
export const requestExitUpdate = wf.defineUpdate<{ accepted: true; positionId: string; urgency: Urgency }, [ManualExitRequest]>('requestExit');
export const circuitBreakerSignal = wf.defineSignal<[string]>('circuitBreaker');
export const rebalanceSignal = wf.defineSignal('rebalance');
/**
 * A book update triggered one of this position's exits (the worker's exit watch): evaluate now,
 * with the highest bid the watch saw for the trailing stop. Sent at most every few hundred ms.
 */
export const exitCheckSignal = wf.defineSignal<[{ highBid?: string; quote?: QuoteWire }]>('exitCheck');
/** Lockstep replays only: the market clock moved to this time. */
export const clockSignal = wf.defineSignal<[number]>('clock');

export async function positionWorkflow(input: PositionInput): Promise<PositionSnapshot> {
  const info = wf.workflowInfo();
  const p = new PositionState(info.workflowId, input);
  const exitConfig = exitConfigSchema.parse(input.exitConfig ?? {});
  const planConfig = exitPlanConfigSchema.parse(input.planConfig ?? {});
  wf.setHandler(positionQuery, () => p.snapshot());
  wf.setHandler(circuitBreakerSignal, (reason) => void (p.circuitBreaker = reason));
  wf.setHandler(rebalanceSignal, () => void (p.rebalance = true));
  wf.setHandler(
    requestExitUpdate,
    (request) => {
      p.pendingManualExit = { urgency: request.urgency, reason: request.reason ?? 'manual' };
      return { accepted: true as const, positionId: p.id, urgency: request.urgency };
    },
    {
      // Rejected requests are never written to history: nothing changes.
      validator: (request) => {
        if (!request || !URGENCIES.includes(request.urgency)) throw new Error(`invalid urgency ${JSON.stringify(request?.urgency)}; expected one of ${URGENCIES.join(', ')}`);
        if (request.reason !== undefined && (typeof request.reason !== 'string' || request.reason.length > 200)) throw new Error('reason must be a string of at most 200 characters');
        if (p.status === 'closed' || p.status === 'settled' || p.status === 'entry_failed' || p.status === 'risk_denied') throw new Error(`position ${p.id} is already ${p.status}`);
        if (p.status === 'entering') throw new Error(`position ${p.id} has no contracts yet (entry order still working)`);
        if (p.pendingManualExit) throw new Error(`a manual exit (${p.pendingManualExit.urgency}) is already pending`);
      },
    },
  );

  const stepped = input.clock?.mode === 'stepped';
  let exitCheckRequested = false;
  let pushedQuote: QuoteWire | undefined;
  wf.setHandler(exitCheckSignal, ({ highBid, quote }) => {
    exitCheckRequested = true;
    const parsed = quoteWireSchema.safeParse(quote);
    pushedQuote = parsed.success && parsed.data.market === input.market && parsed.data.outcome === input.outcome && p.status === 'open' ? parsed.data : undefined;
    if (decimalString.safeParse(highBid).success && p.status === 'open' && p.highWaterBid.lt(highBid!)) p.highWaterBid = new Dec(highBid!);
  });
  let clockMs = input.clock?.startMs ?? 0;
  wf.setHandler(clockSignal, (ms) => void (clockMs = Math.max(clockMs, ms)));
  /** Stepped clock: wait until the replay reaches `target` (or `early` holds), saying what we wait for. */
  const waitClock = async (target: number, early: () => boolean = () => false) => {
    p.waitingUntilMs = target;
    await wf.condition(() => clockMs >= target || early());
    p.waitingUntilMs = undefined;
  };
  /** A timer that fires well after it was due (the worker or the Temporal server was down) says how late. */
  const warnIfLate = (lateMs: number | undefined, timerMs: number) => {
    if (lateMs !== undefined && lateMs > LATE_TIMER_WARN_MS) wf.log.warn('position timer fired late', { positionId: p.id, status: p.status, lateMs, timerMs });
  };
  const lateTimerSleep = async (ms: number) => {
    const dueMs = Date.now() + ms;
    await wf.sleep(ms);
    warnIfLate(Date.now() - dueMs, ms);
  };
  const runtime: PositionRuntime = {
    now: () => (stepped ? clockMs : Date.now()), // workflow time: deterministic on replay
    sleep: (ms) => (stepped ? waitClock(clockMs + ms) : lateTimerSleep(ms)),
    waitForCommand: async (pos, ms) => {
      if (stepped) await waitClock(clockMs + ms, () => pos.pendingManualExit !== undefined);
      else {
        const dueMs = Date.now() + ms;
        const woken = await wf.condition(() => pos.pendingManualExit !== undefined || exitCheckRequested, ms);
        warnIfLate(woken ? undefined : Date.now() - dueMs, ms);
      }
      exitCheckRequested = false;
    },
    // A lockstep replay decides on its stepped clock only: no wakes from the worker's books.
    watchQuotes: !stepped,
    takePushedQuote: () => {
      const quote = pushedQuote;
      pushedQuote = undefined;
      return quote;
    },
    patched: (id) => wf.patched(id),
    onStatus: (pos) =>
      wf.upsertSearchAttributes([
        { key: STRATEGY_KEY, value: input.strategyId },
        { key: MARKET_KEY, value: input.market },
        { key: STATUS_KEY, value: pos.status },
      ]),
    maybeContinueAsNew: async (pos) => {
      if (!wf.workflowInfo().continueAsNewSuggested) return;
      await wf.condition(wf.allHandlersFinished);
      await wf.continueAsNew<typeof positionWorkflow>({ ...input, ...(stepped ? { clock: { mode: 'stepped' as const, startMs: clockMs } } : {}), resume: pos.snapshot() });
    },
    finished: async (pos) => {
      const parent = wf.workflowInfo().parent;
      if (parent) {
        // The strategy may have stopped meanwhile; a position's end does not depend on it.
        await wf
          .getExternalWorkflowHandle(parent.workflowId)
          .signal(positionFinishedSignal, { positionId: pos.id, status: pos.status, realizedPnl: pos.realizedPnl.toFixed(6) })
          .catch((err: unknown) => wf.log.warn('could not notify strategy', { error: String(err) }));
      }
      await wf.condition(wf.allHandlersFinished);
    },
    log: (message, meta) => wf.log.info(message, meta),
  };
  // Each call keeps its activity-option preset: reads, order placement, database writes.
  const ports: PositionPorts = {
    getQuote: reads.getQuote,
    getOrder: reads.getOrder,
    marketResult: reads.marketResult,
    submitOrder: orders.submitOrder,
    cancelOrder: orders.cancelOrder,
    amendOrder: orders.amendOrder,
    recordPosition: writes.recordPosition,
    recordExitAttempt: writes.recordExitAttempt,
    recordPositionExit: writes.recordPositionExit,
    checkEntryRisk: writes.checkEntryRisk,
    recordPositionClosed: writes.recordPositionClosed,
  };
  return runPosition(p, input, { exitConfig, planConfig }, ports, runtime);
}
