import { Dec } from '../decimal';
import type { RiskDecision } from '../risk/risk-manager';
import { entryClientOrderId, exitClientOrderId, planExitAttempt, type ExitPlanConfig } from './exit-plan';
import { evaluateExits, type ExitConfig, type TriggeredExit, type Urgency } from './exits';
import type { ExitWatchWire } from './exit-watch';
import type { ExitAttemptRecord, OrderRequestWire, OrderStateWire, PositionExitRecord, PositionRecord, QuoteWire } from './wire';

/**
 * One position's life (entry → monitoring → exits by priority → multi-attempt exit walk →
 * settlement), written once and run two ways: by the Temporal position workflow (durable, live
 * and paper) and by the in-process backtester (simulated clock). Everything it does to the world
 * goes through `PositionPorts`; everything about time through `PositionRuntime`.
 */
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
  /**
   * Absent: the workflow's own clock and timers. `stepped`: a lockstep replay drives the clock with
   * `clock` signals (each timer fires exactly when the replay reaches it), so a paper run over
   * recorded data makes the same decisions as the backtester.
   */
  clock?: { mode: 'stepped'; startMs: number };
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
  /** Stepped clock only: the market time this position is waiting for (the replay steps to it). */
  waitingUntilMs?: number;
}

export interface ManualExitRequest {
  urgency: Urgency;
  reason?: string;
}

export interface PositionPorts {
  /** `watch`: while open, the position asks to be woken when a book update triggers one of its exits. */
  getQuote(input: { market: string; outcome: 'yes' | 'no'; watch?: ExitWatchWire }): Promise<QuoteWire>;
  submitOrder(input: OrderRequestWire): Promise<OrderStateWire>;
  getOrder(clientOrderId: string): Promise<OrderStateWire>;
  cancelOrder(clientOrderId: string): Promise<OrderStateWire>;
  /**
   * Moves a resting order to a new limit (`size`: its new total, filled included). Resting or filled
   * afterwards: the order moved (or filled meanwhile); canceled: it is gone (the venue cannot amend,
   * refused the amendment, or canceled it), and a new order is needed.
   */
  amendOrder(input: { clientOrderId: string; limitPrice: string; size: string }): Promise<OrderStateWire>;
  marketResult(market: string): Promise<'yes' | 'no' | null>;
  recordPosition(record: PositionRecord): Promise<void>;
  recordExitAttempt(record: ExitAttemptRecord): Promise<void>;
  recordPositionExit(record: PositionExitRecord): Promise<void>;
  checkEntryRisk(input: { positionId: string; market: string; cost: string; closeTimeMs: number }): Promise<RiskDecision>;
  recordPositionClosed(input: { positionId: string; realizedPnl: string }): Promise<unknown>;
}

export interface PositionRuntime {
  /** The position's clock (workflow time, or the simulated market clock). */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Waits up to `ms`, returning early when a manual exit becomes pending. */
  waitForCommand(p: PositionState, ms: number): Promise<void>;
  /** Live workflows only: quote reads register an exit watch, so book updates can wake the position (`wake`). */
  watchQuotes?: boolean;
  /** The quote a wake from the exit watch delivered, once (undefined when the position was not woken with one). */
  takePushedQuote?(): QuoteWire | undefined;
  /** Versioning of behaviour changes (Temporal's patched(); always true in a backtest). */
  patched(id: string): boolean;
  /** Called before each persisted status change (search attributes). */
  onStatus(p: PositionState): void;
  /** Continue-as-new when the history is long (never returns then). */
  maybeContinueAsNew(p: PositionState): Promise<void>;
  /** After the end: tell the parent strategy, let handlers finish. */
  finished(p: PositionState): Promise<void>;
  log(message: string, meta: Record<string, unknown>): void;
}

const ZERO = new Dec(0);

/** What an order has done so far: contracts filled, their value at the fill prices, fees. */
export interface OrderTotals {
  filled: Dec;
  notional: Dec;
  fees: Dec;
}

const NO_FILLS: OrderTotals = { filled: ZERO, notional: ZERO, fees: ZERO };

/** Exact from the fills when they account for every filled contract, else from the average price. */
export function orderTotals(state: OrderStateWire): OrderTotals {
  const filled = new Dec(state.filled);
  let fromFills = ZERO;
  let notional = ZERO;
  for (const f of state.fills) {
    fromFills = fromFills.plus(f.size);
    notional = notional.plus(new Dec(f.size).times(f.price));
  }
  if (!fromFills.eq(filled)) notional = filled.gt(0) ? filled.times(state.averagePrice ?? 0) : ZERO;
  return { filled, notional, fees: new Dec(state.fees) };
}

/** Position state lives in one object; handlers and the main loop share it (and it survives continue-as-new as a snapshot). */
export class PositionState {
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
  waitingUntilMs?: number;

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
      waitingUntilMs: this.waitingUntilMs,
    };
  }
}

export interface PositionSettings {
  exitConfig: ExitConfig;
  planConfig: ExitPlanConfig;
}

export async function runPosition(p: PositionState, input: PositionInput, settings: PositionSettings, ports: PositionPorts, rt: PositionRuntime): Promise<PositionSnapshot> {
  const { exitConfig, planConfig } = settings;
  const { cadence } = input;
  const publish = async () => {
    rt.onStatus(p);
    await ports.recordPosition({
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

  /**
   * Waits for a resting order to fill, time out or be given up (`giveUp`), then cancels what is
   * left (unless `keepResting`: the exit walk moves it on); returns its last state.
   */
  const workOrder = async (order: OrderStateWire, timeoutMs: number, giveUp: () => boolean = () => false, keepResting = false): Promise<OrderStateWire> => {
    const deadline = rt.now() + timeoutMs;
    while (order.status === 'resting' && rt.now() < deadline && !giveUp()) {
      await rt.sleep(Math.min(cadence.pollMs, Math.max(1, deadline - rt.now())));
      order = await ports.getOrder(order.clientOrderId);
    }
    return order.status === 'resting' && !keepResting ? ports.cancelOrder(order.clientOrderId) : order;
  };

  // Workflows started before the risk manager existed replay without it.
  const riskManaged = rt.patched('risk-manager-v1');

  const finish = async (): Promise<PositionSnapshot> => {
    if (riskManaged && (p.status === 'closed' || p.status === 'settled')) await ports.recordPositionClosed({ positionId: p.id, realizedPnl: p.realizedPnl.toFixed(6) });
    await rt.finished(p);
    return p.snapshot();
  };

  if (p.status === 'entering') {
    await publish();
    if (riskManaged) {
      const risk = await ports.checkEntryRisk({ positionId: p.id, market: input.market, cost: new Dec(input.entry.size).times(input.entry.limitPrice).toFixed(6), closeTimeMs: input.closeTimeMs });
      if (!risk.allowed) {
        p.status = 'risk_denied';
        p.riskDenial = `${risk.rule}: ${risk.reason}`;
        await publish();
        return finish();
      }
    }
    const entry = await ports.submitOrder({
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
    // Trading HALTED (the circuit-breaker signal) cancels a resting entry at the next poll instead of letting it fill.
    const haltCancelsEntry = rt.patched('halt-cancels-entry-v1');
    const final = await workOrder(entry, input.entry.timeoutMs, () => haltCancelsEntry && p.circuitBreaker !== undefined);
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
    p.openedAtMs = rt.now();
    p.status = 'open';
    await publish();
  }

  /** `decisionQuote`: the quote the exit was decided on, which the first attempt prices from (no second read). */
  const runExit = async (reason: string, urgency: Urgency, size: Dec, triggered: TriggeredExit[], decisionQuote?: QuoteWire) => {
    const reuseDecisionQuote = decisionQuote !== undefined && rt.patched('exit-prices-first-attempt-on-decision-quote');
    // A walk step moves the resting order (amend, or nothing when the price holds) instead of cancel + new order.
    const walkAmends = rt.patched('exit-walk-amends-resting-order');
    p.exitNo++;
    p.status = 'exiting';
    const exitNo = p.exitNo;
    let filled = ZERO;
    let proceeds = ZERO;
    let exitFees = ZERO;
    let attemptNo = 0;
    /** The walk's order still resting after its attempt, as that attempt left it (later attempts add to its totals then). */
    let carried: { state: OrderStateWire; limitPrice: string } | undefined;
    let attemptsMade = 0;
    const settle = (state: OrderStateWire, base: OrderTotals) => {
      const now = orderTotals(state);
      const got = now.filled.minus(base.filled);
      filled = filled.plus(got);
      proceeds = proceeds.plus(now.notional.minus(base.notional));
      exitFees = exitFees.plus(now.fees.minus(base.fees));
      return got;
    };
    for (;;) {
      if (filled.gte(size)) break;
      attemptNo++;
      const quote = attemptNo === 1 && reuseDecisionQuote ? decisionQuote! : await ports.getQuote({ market: input.market, outcome: input.outcome });
      p.lastQuote = quote;
      const spec = planExitAttempt(urgency, attemptNo, { bid: quote.bid ? new Dec(quote.bid) : undefined, ask: quote.ask ? new Dec(quote.ask) : undefined }, planConfig);
      const limitPrice = spec?.limitPrice.toFixed(4);
      const wantAtStart = size.minus(filled);
      p.currentExit = { exitNo, reason, urgency, attemptNo, requested: size.toFixed(6), filled: filled.toFixed(6) };
      let base = NO_FILLS;
      let order: OrderStateWire | undefined;
      /** Fills the carried order took before this attempt moved it off (credited to this attempt), and that order. */
      let gotMovingOff = ZERO;
      let movedOff: string | undefined;
      if (carried) {
        const { state, limitPrice: restingAt } = carried;
        const totals = orderTotals(state);
        carried = undefined;
        // A walk step keeps the order (same price: its queue place too) or amends it; the switch to a marketable IOC cancels it.
        const moved = spec?.orderType !== 'limit' ? await ports.cancelOrder(state.clientOrderId) : limitPrice === restingAt ? state : await ports.amendOrder({ clientOrderId: state.clientOrderId, limitPrice: limitPrice!, size: new Dec(state.size).toFixed(6) });
        if (spec?.orderType === 'limit' && (moved.status === 'resting' || moved.status === 'filled')) {
          order = moved;
          base = totals;
        } else {
          gotMovingOff = settle(moved, totals);
          movedOff = moved.clientOrderId;
        }
      }
      if (!spec) break;
      const want = size.minus(filled);
      if (!order && want.gt(0)) {
        order = await ports.submitOrder({
          clientOrderId: exitClientOrderId(p.id, exitNo, attemptNo),
          positionId: p.id,
          purpose: 'exit',
          market: input.market,
          outcome: input.outcome,
          action: 'sell',
          limitPrice: limitPrice!,
          size: want.toFixed(6),
          tif: spec.orderType === 'ioc' ? 'ioc' : 'gtc',
          // An exit only ever reduces what is held: the venue caps it by the position (never a flip).
          reduceOnly: true,
        });
      }
      const final = order && (await workOrder(order, spec.timeoutMs, undefined, walkAmends && spec.orderType === 'limit'));
      const got = gotMovingOff.plus(final ? settle(final, base) : ZERO);
      attemptsMade++;
      if (final?.status === 'resting') carried = { state: final, limitPrice: limitPrice! };
      await ports.recordExitAttempt({
        positionId: p.id,
        exitNo,
        attemptNo,
        reason,
        urgency,
        orderType: spec.orderType,
        limitPrice: limitPrice!,
        timeoutMs: spec.timeoutMs,
        clientOrderId: final?.clientOrderId ?? movedOff!,
        filledSize: got.toFixed(6),
        outcome: final?.status === 'rejected' ? `rejected: ${final.rejectReason ?? ''}` : got.gte(wantAtStart) ? 'filled' : got.gt(0) ? 'partial' : 'unfilled',
        attemptedAtMs: rt.now(),
      });
    }
    const pnl = filled.gt(0) ? proceeds.minus(filled.times(p.entryPrice!)).minus(exitFees) : exitFees.neg();
    p.remaining = p.remaining.minus(filled);
    p.realizedPnl = p.realizedPnl.plus(pnl);
    p.fees = p.fees.plus(exitFees);
    if (reason === 'partial_exit_target' && filled.gt(0)) p.partialStagesDone++;
    p.currentExit = undefined;
    await ports.recordPositionExit({
      positionId: p.id,
      exitNo,
      reason,
      urgency,
      requestedSize: size.toFixed(6),
      filledSize: filled.toFixed(6),
      averagePrice: filled.gt(0) ? proceeds.div(filled).toFixed(6) : undefined,
      fees: exitFees.toFixed(6),
      realizedPnl: pnl.toFixed(6),
      attempts: attemptsMade,
      triggered: triggered.map((t) => ({ reason: t.reason, urgency: t.urgency, detail: t.detail, size: t.size.toFixed(6) })),
      finishedAtMs: rt.now(),
    });
    if (p.remaining.lte(0)) {
      p.status = 'closed';
      p.closedAtMs = rt.now();
    } else p.status = 'open';
    await publish();
  };

  while (p.status === 'open') {
    if (p.pendingManualExit) {
      const manual = p.pendingManualExit;
      await runExit(`manual: ${manual.reason}`, manual.urgency, p.remaining, []);
      p.pendingManualExit = undefined;
    } else {
      if (rt.now() >= input.closeTimeMs) break;
      const watch: ExitWatchWire | undefined = rt.watchQuotes ? {
        positionId: p.id,
        closeTimeMs: input.closeTimeMs,
        entryPrice: p.entryPrice!.toFixed(),
        originalSize: p.size.toFixed(),
        remainingSize: p.remaining.toFixed(),
        highWaterBid: p.highWaterBid.toFixed(),
        partialStagesDone: p.partialStagesDone,
        modelProbability: input.modelProbability,
        exitConfig: input.exitConfig,
        // Renewed by every read; outlives a missed poll or two.
        watchForMs: 3 * Math.max(cadence.normalMs, cadence.urgentMs),
      } : undefined;
      // Woken by the exit watch: decide on the quote that triggered it, as seen by the worker.
      const pushed = rt.takePushedQuote?.();
      const quote = pushed ?? (await ports.getQuote({ market: input.market, outcome: input.outcome, watch }));
      p.lastQuote = quote;
      const bid = quote.bid ? new Dec(quote.bid) : undefined;
      if (bid && bid.gt(p.highWaterBid)) p.highWaterBid = bid;
      // The market may have closed while the quote was fetched: then it is settlement, not an exit.
      if (rt.now() >= input.closeTimeMs && rt.patched('no-exit-after-close')) break;
      if (!quote.stale) {
        const evaluation = evaluateExits(
          { entryPrice: p.entryPrice!, originalSize: p.size, remainingSize: p.remaining, highWaterBid: p.highWaterBid, partialStagesDone: p.partialStagesDone, circuitBreakerTripped: p.circuitBreaker !== undefined, rebalanceRequested: p.rebalance },
          { nowMs: rt.now(), bid, bidSize: new Dec(quote.bidSize), ask: quote.ask ? new Dec(quote.ask) : undefined, closeTimeMs: input.closeTimeMs, modelProbability: input.modelProbability ? new Dec(input.modelProbability) : undefined },
          exitConfig,
        );
        p.lastTriggered = evaluation.triggered;
        if (evaluation.triggered.length) rt.log('exit conditions triggered', { positionId: p.id, triggered: evaluation.triggered.map((t) => `${t.reason}(${t.urgency}): ${t.detail}`) });
        if (evaluation.decision) await runExit(evaluation.decision.reason, evaluation.decision.urgency, evaluation.decision.size, evaluation.triggered, quote);
        // A pushed quote registers no watch: read (and re-register) at once rather than at the next poll.
        else if (pushed) continue;
      }
    }
    if (p.status !== 'open') break;
    await rt.maybeContinueAsNew(p);
    const urgent = input.closeTimeMs - rt.now() <= exitConfig.urgentBeforeCloseMs;
    await rt.waitForCommand(p, urgent ? cadence.urgentMs : cadence.normalMs);
  }

  if (p.status === 'open') {
    // Held to close: wait for the result and settle at $1 / $0 per contract (no fee on settlement).
    const deadline = rt.now() + cadence.settleTimeoutMs;
    while (!p.settlement && rt.now() < deadline) {
      p.settlement = (await ports.marketResult(input.market)) ?? undefined;
      if (!p.settlement) await rt.sleep(cadence.pollMs);
    }
    if (p.settlement) {
      const value = new Dec(p.settlement === input.outcome ? 1 : 0);
      p.realizedPnl = p.realizedPnl.plus(p.remaining.times(value.minus(p.entryPrice!)));
      p.remaining = ZERO;
      p.status = 'settled';
      p.closedAtMs = rt.now();
    }
    await publish();
  }
  return finish();
}
