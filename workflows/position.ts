import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import { Dec } from '../domain/decimal';
import { entryClientOrderId, exitClientOrderId, exitPlanConfigSchema, planExitAttempt, type ExitPlanConfig } from '../domain/trading/exit-plan';
import { evaluateExits, exitConfigSchema, URGENCIES, type ExitConfig, type TriggeredExit, type Urgency } from '../domain/trading/exits';
import type { OrderStateWire, QuoteWire } from '../domain/trading/wire';
import { ACTIVITY_PRESETS } from './activity-options';
import { positionFinishedSignal } from './messages';
import { MARKET_KEY, STATUS_KEY, STRATEGY_KEY } from './search-attributes';


const reads = wf.proxyActivities<Activities>(ACTIVITY_PRESETS.venueRead);
const orders = wf.proxyActivities<Activities>(ACTIVITY_PRESETS.venueOrder);
const writes = wf.proxyActivities<Activities>(ACTIVITY_PRESETS.databaseWrite);

export type PositionStatus = 'entering' | 'open' | 'exiting' | 'closed' | 'settled' | 'entry_failed' | 'risk_denied';

export interface PositionCadence {
  /** Monitoring interval normally, and when close is near or an exit is pending. */
  normalMs: number;
  urgentMs: number;
  /** How often a resting order is re-checked. */
  pollMs: number;
  /** After close, how long to wait for the result before giving up (the position stays open). */
  settleTimeoutMs: number;
}

export interface PositionInput {
  strategyId: string;
  market: string;
  outcome: 'yes' | 'no';
  closeTimeMs: number;
  entry: { limitPrice: string; size: string; timeoutMs: number };
  modelProbability?: string;
  /** What caused this position: recorded on the position and reachable from every order. */
  provenance?: { strategyVersionId?: number; modelVersionId?: number; signalId?: string };
  cadence: PositionCadence;
  /** Raw (string) exit and execution settings; validated by the domain schemas. */
  exitConfig?: Record<string, unknown>;
  planConfig?: Record<string, unknown>;
  /** Carried across continue-as-new. */
  resume?: PositionSnapshot;
}

export interface PositionSnapshot {
  positionId: string;
  status: PositionStatus;
  market: string;
  outcome: 'yes' | 'no';
  entryPrice?: string;
  size: string;
  remaining: string;
  realizedPnl: string;
  fees: string;
  highWaterBid: string;
  partialStagesDone: number;
  exitNo: number;
  currentExit?: { exitNo: number; reason: string; urgency: Urgency; attemptNo: number; requested: string; filled: string };
  lastQuote?: QuoteWire;
  lastTriggered: { reason: string; urgency: string; detail: string }[];
  pendingManualExit?: { urgency: Urgency; reason: string };
  settlement?: 'yes' | 'no';
  riskDenial?: string;
}

export interface ManualExitRequest {
  urgency: Urgency;
  reason?: string;
}

export const positionQuery = wf.defineQuery<PositionSnapshot>('position');
export const requestExitUpdate = wf.defineUpdate<{ accepted: true; positionId: string; urgency: Urgency }, [ManualExitRequest]>('requestExit');
export const circuitBreakerSignal = wf.defineSignal<[string]>('circuitBreaker');
export const rebalanceSignal = wf.defineSignal('rebalance');

const ZERO = new Dec(0);

/** Position state lives in one object; handlers and the main loop share it. */
class Position {
  status: PositionStatus = 'entering';
  entryPrice?: Dec;
  size = ZERO;
  remaining = ZERO;
  realizedPnl = ZERO;
  fees = ZERO;
  highWaterBid = ZERO;
  partialStagesDone = 0;
  exitNo = 0;
  currentExit?: PositionSnapshot['currentExit'];
  lastQuote?: QuoteWire;
  lastTriggered: TriggeredExit[] = [];
  pendingManualExit?: { urgency: Urgency; reason: string };
  circuitBreaker?: string;
  rebalance = false;
  settlement?: 'yes' | 'no';
  riskDenial?: string;
  openedAtMs?: number;
  closedAtMs?: number;

  constructor(
    readonly id: string,
    readonly input: PositionInput,
  ) {
    const r = input.resume;
    if (r) {
      this.status = r.status;
      this.entryPrice = r.entryPrice === undefined ? undefined : new Dec(r.entryPrice);
      this.size = new Dec(r.size);
      this.remaining = new Dec(r.remaining);
      this.realizedPnl = new Dec(r.realizedPnl);
      this.fees = new Dec(r.fees);
      this.highWaterBid = new Dec(r.highWaterBid);
      this.partialStagesDone = r.partialStagesDone;
      this.exitNo = r.exitNo;
      this.pendingManualExit = r.pendingManualExit;
    }
  }

  snapshot(): PositionSnapshot {
    return {
      positionId: this.id,
      status: this.status,
      market: this.input.market,
      outcome: this.input.outcome,
      entryPrice: this.entryPrice?.toFixed(6),
      size: this.size.toFixed(6),
      remaining: this.remaining.toFixed(6),
      realizedPnl: this.realizedPnl.toFixed(6),
      fees: this.fees.toFixed(6),
      highWaterBid: this.highWaterBid.toFixed(4),
      partialStagesDone: this.partialStagesDone,
      exitNo: this.exitNo,
      currentExit: this.currentExit,
      lastQuote: this.lastQuote,
      lastTriggered: this.lastTriggered.map((t) => ({ reason: t.reason, urgency: t.urgency, detail: t.detail })),
      pendingManualExit: this.pendingManualExit,
      settlement: this.settlement,
      riskDenial: this.riskDenial,
    };
  }
}

export async function positionWorkflow(input: PositionInput): Promise<PositionSnapshot> {
  const info = wf.workflowInfo();
  const p = new Position(info.workflowId, input);
  const exitConfig: ExitConfig = exitConfigSchema.parse(input.exitConfig ?? {});
  const planConfig: ExitPlanConfig = exitPlanConfigSchema.parse(input.planConfig ?? {});
  const { cadence } = input;

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

  const publish = async () => {
    wf.upsertSearchAttributes([
      { key: STRATEGY_KEY, value: input.strategyId },
      { key: MARKET_KEY, value: input.market },
      { key: STATUS_KEY, value: p.status },
    ]);
    await writes.recordPosition({
      positionId: p.id,
      strategyId: input.strategyId,
      market: input.market,
      outcome: input.outcome,
      status: p.status,
      entryPrice: p.entryPrice?.toFixed(4),
      size: p.size.toFixed(6),
      remainingSize: p.remaining.toFixed(6),
      realizedPnl: p.realizedPnl.toFixed(6),
      fees: p.fees.toFixed(6),
      // Trailing-stop and staging state, persisted as JSONB.
      state: { highWaterBid: p.highWaterBid.toFixed(4), partialStagesDone: p.partialStagesDone, exitNo: p.exitNo, lastTriggered: p.lastTriggered.map((t) => t.reason), settlement: p.settlement ?? null },
      openedAtMs: p.openedAtMs,
      closedAtMs: p.closedAtMs,
      provenance: input.provenance,
    });
  };

  /** Waits for a resting order to fill or time out, then cancels what is left; returns the final state. */
  const workOrder = async (order: OrderStateWire, timeoutMs: number): Promise<OrderStateWire> => {
    const deadline = Date.now() + timeoutMs; // Date.now() in workflows is deterministic (workflow time)
    while (order.status === 'resting' && Date.now() < deadline) {
      await wf.sleep(Math.min(cadence.pollMs, Math.max(1, deadline - Date.now())));
      order = await reads.getOrder(order.clientOrderId);
    }
    return order.status === 'resting' ? orders.cancelOrder(order.clientOrderId) : order;
  };

  // Workflows started before the risk manager existed replay without it.
  const riskManaged = wf.patched('risk-manager-v1');

  const finish = async (): Promise<PositionSnapshot> => {
    if (riskManaged && (p.status === 'closed' || p.status === 'settled')) await writes.recordPositionClosed({ positionId: p.id, realizedPnl: p.realizedPnl.toFixed(6) });
    const parent = wf.workflowInfo().parent;
    if (parent) {
      // The strategy may have stopped meanwhile; a position's end does not depend on it.
      await wf
        .getExternalWorkflowHandle(parent.workflowId)
        .signal(positionFinishedSignal, { positionId: p.id, status: p.status, realizedPnl: p.realizedPnl.toFixed(6) })
        .catch((err: unknown) => wf.log.warn('could not notify strategy', { error: String(err) }));
    }
    await wf.condition(wf.allHandlersFinished);
    return p.snapshot();
  };

  if (p.status === 'entering') {
    await publish();
    if (riskManaged) {
      const risk = await writes.checkEntryRisk({ positionId: p.id, market: input.market, cost: new Dec(input.entry.size).times(input.entry.limitPrice).toFixed(6), closeTimeMs: input.closeTimeMs });
      if (!risk.allowed) {
        p.status = 'risk_denied';
        p.riskDenial = `${risk.rule}: ${risk.reason}`;
        await publish();
        return finish();
      }
    }
    const entry = await orders.submitOrder({
      clientOrderId: entryClientOrderId(p.id, 1),
      positionId: p.id,
      purpose: 'entry',
      market: input.market,
      outcome: input.outcome,
      action: 'buy',
      limitPrice: input.entry.limitPrice,
      size: input.entry.size,
      tif: 'gtc',
    });
    const final = await workOrder(entry, input.entry.timeoutMs);
    const filled = new Dec(final.filled);
    if (filled.isZero()) {
      p.status = 'entry_failed';
      await publish();
      return finish();
    }
    p.entryPrice = new Dec(final.averagePrice!);
    p.size = filled;
    p.remaining = filled;
    p.fees = new Dec(final.fees);
    p.realizedPnl = p.fees.neg();
    p.highWaterBid = p.entryPrice;
    p.openedAtMs = Date.now();
    p.status = 'open';
    await publish();
  }

  const runExit = async (reason: string, urgency: Urgency, size: Dec, triggered: TriggeredExit[]) => {
    p.exitNo++;
    p.status = 'exiting';
    const exitNo = p.exitNo;
    let filled = ZERO;
    let proceeds = ZERO;
    let exitFees = ZERO;
    let attemptNo = 0;
    for (;;) {
      if (filled.gte(size)) break;
      attemptNo++;
      const quote = await reads.getQuote({ market: input.market, outcome: input.outcome });
      p.lastQuote = quote;
      const spec = planExitAttempt(urgency, attemptNo, { bid: quote.bid ? new Dec(quote.bid) : undefined, ask: quote.ask ? new Dec(quote.ask) : undefined }, planConfig);
      if (!spec) break;
      const want = size.minus(filled);
      p.currentExit = { exitNo, reason, urgency, attemptNo, requested: size.toFixed(6), filled: filled.toFixed(6) };
      const clientOrderId = exitClientOrderId(p.id, exitNo, attemptNo);
      const sent = await orders.submitOrder({
        clientOrderId,
        positionId: p.id,
        purpose: 'exit',
        market: input.market,
        outcome: input.outcome,
        action: 'sell',
        limitPrice: spec.limitPrice.toFixed(4),
        size: want.toFixed(6),
        tif: spec.orderType === 'ioc' ? 'ioc' : 'gtc',
      });
      const final = await workOrder(sent, spec.timeoutMs);
      const got = new Dec(final.filled);
      filled = filled.plus(got);
      if (got.gt(0)) proceeds = proceeds.plus(got.times(final.averagePrice!));
      exitFees = exitFees.plus(final.fees);
      await writes.recordExitAttempt({
        positionId: p.id,
        exitNo,
        attemptNo,
        reason,
        urgency,
        orderType: spec.orderType,
        limitPrice: spec.limitPrice.toFixed(4),
        timeoutMs: spec.timeoutMs,
        clientOrderId,
        filledSize: got.toFixed(6),
        outcome: final.status === 'rejected' ? `rejected: ${final.rejectReason ?? ''}` : got.gte(want) ? 'filled' : got.gt(0) ? 'partial' : 'unfilled',
        attemptedAtMs: Date.now(),
      });
    }
    const pnl = filled.gt(0) ? proceeds.minus(filled.times(p.entryPrice!)).minus(exitFees) : exitFees.neg();
    p.remaining = p.remaining.minus(filled);
    p.realizedPnl = p.realizedPnl.plus(pnl);
    p.fees = p.fees.plus(exitFees);
    if (reason === 'partial_exit_target' && filled.gt(0)) p.partialStagesDone++;
    p.currentExit = undefined;
    await writes.recordPositionExit({
      positionId: p.id,
      exitNo,
      reason,
      urgency,
      requestedSize: size.toFixed(6),
      filledSize: filled.toFixed(6),
      averagePrice: filled.gt(0) ? proceeds.div(filled).toFixed(6) : undefined,
      fees: exitFees.toFixed(6),
      realizedPnl: pnl.toFixed(6),
      attempts: attemptNo,
      triggered: triggered.map((t) => ({ reason: t.reason, urgency: t.urgency, detail: t.detail, size: t.size.toFixed(6) })),
      finishedAtMs: Date.now(),
    });
    if (p.remaining.lte(0)) {
      p.status = 'closed';
      p.closedAtMs = Date.now();
    } else p.status = 'open';
    await publish();
  };

  while (p.status === 'open') {
    if (p.pendingManualExit) {
      const manual = p.pendingManualExit;
      await runExit(`manual: ${manual.reason}`, manual.urgency, p.remaining, []);
      p.pendingManualExit = undefined;
    } else {
      if (Date.now() >= input.closeTimeMs) break;
      const quote = await reads.getQuote({ market: input.market, outcome: input.outcome });
      p.lastQuote = quote;
      const bid = quote.bid ? new Dec(quote.bid) : undefined;
      if (bid && bid.gt(p.highWaterBid)) p.highWaterBid = bid;
      // The market may have closed while the quote was fetched: then it is settlement, not an exit.
      if (Date.now() >= input.closeTimeMs && wf.patched('no-exit-after-close')) break;
      if (!quote.stale) {
        const evaluation = evaluateExits(
          { entryPrice: p.entryPrice!, originalSize: p.size, remainingSize: p.remaining, highWaterBid: p.highWaterBid, partialStagesDone: p.partialStagesDone, circuitBreakerTripped: p.circuitBreaker !== undefined, rebalanceRequested: p.rebalance },
          { nowMs: Date.now(), bid, bidSize: new Dec(quote.bidSize), ask: quote.ask ? new Dec(quote.ask) : undefined, closeTimeMs: input.closeTimeMs, modelProbability: input.modelProbability ? new Dec(input.modelProbability) : undefined },
          exitConfig,
        );
        p.lastTriggered = evaluation.triggered;
        if (evaluation.triggered.length) wf.log.info('exit conditions triggered', { positionId: p.id, triggered: evaluation.triggered.map((t) => `${t.reason}(${t.urgency}): ${t.detail}`) });
        if (evaluation.decision) await runExit(evaluation.decision.reason, evaluation.decision.urgency, evaluation.decision.size, evaluation.triggered);
      }
    }
    if (p.status !== 'open') break;
    if (wf.workflowInfo().continueAsNewSuggested) {
      await wf.condition(wf.allHandlersFinished);
      await wf.continueAsNew<typeof positionWorkflow>({ ...input, resume: p.snapshot() });
    }
    const urgent = input.closeTimeMs - Date.now() <= exitConfig.urgentBeforeCloseMs;
    await wf.condition(() => p.pendingManualExit !== undefined, urgent ? cadence.urgentMs : cadence.normalMs);
  }

  if (p.status === 'open') {
    // Held to close: wait for the result and settle at $1 / $0 per contract (no fee on settlement).
    const deadline = Date.now() + cadence.settleTimeoutMs;
    while (!p.settlement && Date.now() < deadline) {
      p.settlement = (await reads.marketResult(input.market)) ?? undefined;
      if (!p.settlement) await wf.sleep(cadence.pollMs);
    }
    if (p.settlement) {
      const value = new Dec(p.settlement === input.outcome ? 1 : 0);
      p.realizedPnl = p.realizedPnl.plus(p.remaining.times(value.minus(p.entryPrice!)));
      p.remaining = ZERO;
      p.status = 'settled';
      p.closedAtMs = Date.now();
    }
    await publish();
  }
  return finish();
}
