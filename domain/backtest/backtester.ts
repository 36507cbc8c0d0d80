import { Dec } from '../decimal';
import { BookStore } from '../market-data/book-store';
import type { UnitEvent } from '../market-data/events';
import { instantsOf, type InstantSource } from './instants';
import { checkEntry, initialRiskState, recordClosedPosition, recordVenueRequest, rollTradingDay, type RiskLimits } from '../risk/risk-manager';
import { priceUnits, sizeUnits } from '../fixed-point';
import { orderStateWire, SimMatchingEngine, type FeeSchedule, type SimOrderState } from '../sim/matching';
import { exitPlanConfigSchema } from '../trading/exit-plan';
import { exitConfigSchema } from '../trading/exits';
import { PositionState, runPosition, type PositionInput, type PositionPorts, type PositionRuntime, type PositionSnapshot } from '../trading/position-engine';
import { quoteFromBook } from '../trading/quote';
import { decideEntry, OPEN_STATUSES, type EntrySignal, type StrategyRules, type StrategySnapshot } from '../trading/strategy-rules';
import type { ExitAttemptRecord, OrderRequestWire, OrderStateWire, PositionExitRecord, PositionRecord } from '../trading/wire';

/**
 * The in-process backtester: the same strategy rules, position engine (exit conditions, exit walk,
 * settlement), risk manager and matching engine as paper trading, driven by a simulated clock over
 * recorded events instead of Temporal. Time only moves forward through the events and the
 * positions' own timers; at one instant, events are applied first, then timers fire.
 */

export interface MarketInfo {
  closeTimeMs: number;
  result?: 'yes' | 'no';
  /** Related markets share an event (risk caps per event). */
  event: string;
}

/**
 * Reads the books after each instant's events and proposes entries (a signal rule or a model).
 * It sees the market's close time but never its result: no look-ahead through metadata. The
 * context is the backtester's for the duration of the call (it is reused): keep its fields, not it.
 */
export type SignalRule = (ctx: { market: string; nowMs: number; store: BookStore; info: Omit<MarketInfo, 'result'>; events: readonly UnitEvent[] }) => Omit<EntrySignal, 'closeTimeMs'> | undefined;

export interface BacktestConfig {
  strategyId: string;
  rules: StrategyRules;
  position: Pick<PositionInput, 'cadence' | 'exitConfig' | 'planConfig'>;
  risk: RiskLimits;
  fees: FeeSchedule;
  history: { capacity: number; sampleMs: number };
  /** Order round trip in market time: an order meets the book as it is this long after it was sent. */
  latencyMs?: number;
  /** The versions the run trades under, recorded on every position (as the Temporal path does). */
  provenance?: { strategyVersionId?: number; modelVersionId?: number };
}

export interface OrderRecord extends OrderStateWire {
  positionId: string;
  purpose: 'entry' | 'exit';
  market: string;
  outcome: 'yes' | 'no';
  action: 'buy' | 'sell';
  limitPrice: string;
  tif: string;
  submittedAtMs: number;
}

export interface BacktestResult {
  strategy: StrategySnapshot;
  /** `provenance`: what the position recorded (versions it traded under, its signal). */
  positions: (PositionSnapshot & { openedAtMs?: number; closedAtMs?: number; signal?: EntrySignal; provenance?: PositionRecord['provenance'] })[];
  orders: OrderRecord[];
  exitAttempts: ExitAttemptRecord[];
  exits: PositionExitRecord[];
  riskDenials: { positionId: string; rule: string; reason: string }[];
  events: number;
  startMs?: number;
  endMs?: number;
}

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/** A simulated clock whose timers are released by the backtest loop, never by wall time. */
class SimClock {
  now = 0;
  private seq = 0;
  private readonly timers: Timer[] = [];
  /** The earliest timer's time (Infinity with none): asked once per instant, it changes only when timers do. */
  private next = Infinity;

  sleepUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push({ at, seq: this.seq++, resolve });
      if (at < this.next) this.next = at;
    });
  }

  nextAt(): number {
    return this.next;
  }

  /** Releases every timer due at or before `at`, oldest first. */
  release(at: number): void {
    const due = this.timers.filter((t) => t.at <= at).sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const t of due) this.timers.splice(this.timers.indexOf(t), 1);
    this.next = Infinity;
    for (const t of this.timers) if (t.at < this.next) this.next = t.at;
    for (const t of due) t.resolve();
  }
}

const PROGRESS_EVERY = 50_000;

/**
 * What a signal rule is called with: one object per backtest, filled in before each call (a
 * whole feed is over a million calls), so it is valid during the call only. The instant's events
 * are built as objects only if the rule reads them.
 */
class RuleContext {
  market = '';
  nowMs = 0;
  info: Omit<MarketInfo, 'result'> = { closeTimeMs: 0, event: '' };
  source: InstantSource | undefined;

  constructor(readonly store: BookStore) {}

  get events(): readonly UnitEvent[] {
    return this.source?.events() ?? [];
  }
}

/** Lets every position run until it waits on the clock again (all backtest ports resolve at once). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Backtester {
  readonly store: BookStore;
  readonly engine: SimMatchingEngine;
  private readonly clock = new SimClock();
  private readonly risk = initialRiskState();
  private readonly strategy: StrategySnapshot = { active: true, positions: [], seenSignals: [], decisions: [], nextPositionNo: 1 };
  /** The ids in `strategy.seenSignals`. */
  private readonly seenSignals = new Set<string>();
  private readonly positions = new Map<string, { state: PositionState; input: PositionInput; record?: PositionRecord; signal: EntrySignal; done: Promise<PositionSnapshot> }>();
  private readonly orders = new Map<string, OrderRecord>();
  private readonly attempts: ExitAttemptRecord[] = [];
  private readonly exits: PositionExitRecord[] = [];
  private readonly denials: BacktestResult['riskDenials'] = [];
  private eventCount = 0;
  /** Orders that were resting when last looked at (an order never goes back to resting once it leaves). */
  private readonly restingOrders = new Set<string>();
  /** Positions were started or timers released since the last settle. */
  private woken = false;
  private startMs?: number;
  private failure: unknown;
  /** What the rule sees of each market (never its result). */
  private readonly ruleInfo = new Map<string, Omit<MarketInfo, 'result'>>();
  private readonly ruleContext: RuleContext;

  constructor(
    private readonly config: BacktestConfig,
    private readonly markets: ReadonlyMap<string, MarketInfo>,
    private readonly rule: SignalRule,
  ) {
    this.store = new BookStore({ historyCapacity: config.history.capacity, sampleMs: config.history.sampleMs });
    this.engine = new SimMatchingEngine(config.fees);
    this.ruleContext = new RuleContext(this.store);
    for (const [market, info] of markets) this.ruleInfo.set(market, { closeTimeMs: info.closeTimeMs, event: info.event });
  }

  /**
   * Runs over events in exchange-time order (groups of equal timestamps), then lets positions
   * finish. Event columns are read as columns: no event object per event.
   */
  async run(events: Iterable<UnitEvent>, onProgress?: (events: number, nowMs: number) => void): Promise<BacktestResult> {
    const source = instantsOf(events);
    let nextProgress = PROGRESS_EVERY;
    for (;;) {
      const eventAt = source.nextTs();
      const timerAt = this.clock.nextAt();
      if (eventAt === Infinity && timerAt === Infinity) break;
      if (eventAt <= timerAt) {
        if (eventAt < this.clock.now) throw new Error(`events out of order: ${eventAt} after ${this.clock.now}`);
        this.clock.now = eventAt;
        this.startMs ??= eventAt;
        this.applyInstant(source);
        if (this.eventCount >= nextProgress) {
          // Each time the count passes a multiple of PROGRESS_EVERY.
          onProgress?.(this.eventCount, eventAt);
          nextProgress = (Math.floor(this.eventCount / PROGRESS_EVERY) + 1) * PROGRESS_EVERY;
        }
      } else {
        this.clock.now = timerAt;
        this.clock.release(timerAt);
        this.woken = true;
      }
      // Only a released timer or a new position can have work to run; otherwise every position is
      // still parked on the clock and yielding (1.28M instants) would only cost time.
      if (this.woken) {
        this.woken = false;
        await settle();
        if (this.failure) throw this.failure;
      }
    }
    await Promise.all([...this.positions.values()].map((p) => p.done));
    return this.result();
  }

  /** One instant's events: books first, then resting orders, then the rule for each market the events touched. */
  private applyInstant(source: InstantSource): void {
    // Market data freshness is judged on the market clock, as the stack does in lockstep replays.
    this.eventCount += source.applyNext(this.store, this.clock.now);
    // The matching engine only walks the resting orders of the markets the events touched: with
    // none resting in those markets it has nothing to fill, so skipping it then is exact, and most
    // instants have none.
    if (this.restingOrders.size > 0) for (const id of this.restingOrders) if (this.engine.orders.get(id)?.status !== 'resting') this.restingOrders.delete(id);
    if (this.restingOrders.size > 0 && this.touchesRestingOrder(source)) this.engine.onMarketEvents(source.events(), (m) => this.store.markets.get(m)?.book, this.clock.now);
    for (let k = 0; k < source.touchedCount; k++) {
      const market = source.touched[k]!;
      const info = this.ruleInfo.get(market);
      if (!info) continue;
      const ctx = this.ruleContext;
      ctx.market = market;
      ctx.nowMs = this.clock.now;
      ctx.info = info;
      ctx.source = source;
      const proposal = this.rule(ctx);
      if (proposal) this.onSignal({ ...proposal, closeTimeMs: info.closeTimeMs });
    }
  }

  /** Whether the last instant touched a market with a resting order. */
  private touchesRestingOrder(source: InstantSource): boolean {
    for (const id of this.restingOrders) {
      const market = this.orders.get(id)?.market;
      for (let k = 0; k < source.touchedCount; k++) if (source.touched[k] === market) return true;
    }
    return false;
  }

  /** The strategy workflow's loop body, in process: same dedupe, same rules, same position ids. */
  private onSignal(signal: EntrySignal): void {
    const s = this.strategy;
    // `seenSignals` as the workflow keeps it (the last 1000 ids, no repeats), looked up in its Set mirror, not by a scan per signal.
    if (!s.active || this.seenSignals.has(signal.signalId)) return;
    s.seenSignals.push(signal.signalId);
    this.seenSignals.add(signal.signalId);
    if (s.seenSignals.length > 1000) this.seenSignals.delete(s.seenSignals.shift()!);
    const entry = decideEntry(signal, s.positions, this.config.rules);
    const decide = (decision: 'entered' | 'rejected', why: string) => {
      s.decisions.push({ signalId: signal.signalId, decision, why });
      if (s.decisions.length > 200) s.decisions.shift();
    };
    if (entry.decision === 'rejected') return decide('rejected', entry.why);
    const positionId = `position/${this.config.strategyId}/${signal.market}/${s.nextPositionNo++}`;
    const input: PositionInput = {
      strategyId: this.config.strategyId,
      market: signal.market,
      outcome: signal.outcome,
      closeTimeMs: signal.closeTimeMs,
      entry: { limitPrice: entry.limitPrice, size: entry.size, timeoutMs: this.config.rules.entryTimeoutMs },
      modelProbability: signal.modelProbability,
      provenance: { ...this.config.provenance, signalId: signal.signalId },
      ...this.config.position,
    };
    const state = new PositionState(positionId, input);
    const slot = { state, input, signal, done: Promise.resolve(state.snapshot()) };
    this.woken = true;
    this.positions.set(positionId, slot);
    s.positions.push({ positionId, market: signal.market, signalId: signal.signalId, status: 'entering' });
    decide('entered', entry.why);
    slot.done = runPosition(state, input, { exitConfig: exitConfigSchema.parse(input.exitConfig ?? {}), planConfig: exitPlanConfigSchema.parse(input.planConfig ?? {}) }, this.ports(), this.runtime()).catch((err: unknown) => {
      this.failure ??= err;
      return state.snapshot();
    });
  }

  private runtime(): PositionRuntime {
    const clock = this.clock;
    return {
      now: () => clock.now,
      sleep: (ms) => clock.sleepUntil(clock.now + ms),
      // No operator in a backtest: a manual exit never arrives early.
      waitForCommand: (_p, ms) => clock.sleepUntil(clock.now + ms),
      patched: () => true,
      onStatus: () => {},
      maybeContinueAsNew: async () => {},
      finished: async (p) => {
        const summary = this.strategy.positions.find((x) => x.positionId === p.id);
        if (summary) Object.assign(summary, { status: p.status, realizedPnl: p.realizedPnl.toFixed(6) });
      },
      log: () => {},
    };
  }

  private ports(): PositionPorts {
    const wire = (id: string): OrderStateWire => {
      const live = this.engine.orders.get(id);
      const stored = this.orders.get(id);
      if (!stored) throw new Error(`unknown order ${id}`);
      if (live) Object.assign(stored, orderStateWire(live));
      const { positionId: _p, purpose: _u, market: _m, outcome: _o, action: _a, limitPrice: _l, tif: _t, submittedAtMs: _s, ...state } = stored;
      return state;
    };
    return {
      getQuote: async (i) => quoteFromBook(this.store.markets.get(i.market)?.book, i.market, i.outcome),
      submitOrder: async (req: OrderRequestWire) => {
        if (this.orders.has(req.clientOrderId)) return wire(req.clientOrderId);
        const sentAtMs = this.clock.now;
        if (this.config.latencyMs) await this.clock.sleepUntil(sentAtMs + this.config.latencyMs);
        const book = this.store.markets.get(req.market)?.book;
        // As the paper exchange (venues/sim/sim-venue.ts) does it, minus the database.
        const request = { clientOrderId: req.clientOrderId, market: req.market, outcome: req.outcome, action: req.action, limitPrice: priceUnits(req.limitPrice), size: sizeUnits(req.size), tif: req.tif };
        const state = orderStateWire(
          book
            ? this.engine.submit(request, book, this.clock.now)
            : ({ request, status: 'rejected', filled: 0, fills: [], queueAhead: 0, rejectReason: `no market data for ${req.market}`, createdMs: this.clock.now } satisfies SimOrderState),
        );
        if (state.status === 'resting') this.restingOrders.add(req.clientOrderId);
        recordVenueRequest(this.risk, false, this.config.risk, this.clock.now);
        this.orders.set(req.clientOrderId, { ...state, positionId: req.positionId, purpose: req.purpose, market: req.market, outcome: req.outcome, action: req.action, limitPrice: req.limitPrice, tif: req.tif, submittedAtMs: sentAtMs });
        return wire(req.clientOrderId);
      },
      getOrder: async (id) => wire(id),
      cancelOrder: async (id) => {
        const live = this.engine.cancel(id);
        recordVenueRequest(this.risk, false, this.config.risk, this.clock.now);
        if (live) Object.assign(this.orders.get(id)!, orderStateWire(live));
        return wire(id);
      },
      amendOrder: async ({ clientOrderId, limitPrice, size }) => {
        // As the paper exchange does it: an amend is an order message, with the same latency as a new order.
        if (this.config.latencyMs) await this.clock.sleepUntil(this.clock.now + this.config.latencyMs);
        const stored = this.orders.get(clientOrderId);
        const live = this.engine.amend(clientOrderId, { limitPrice: priceUnits(limitPrice), size: sizeUnits(size) }, this.store.markets.get(stored?.market ?? '')?.book, this.clock.now);
        recordVenueRequest(this.risk, false, this.config.risk, this.clock.now);
        if (live) Object.assign(stored!, orderStateWire(live), { limitPrice });
        return wire(clientOrderId);
      },
      marketResult: async (market) => {
        const info = this.markets.get(market);
        return info?.result && this.clock.now >= info.closeTimeMs ? info.result : null;
      },
      recordPosition: async (r) => {
        const slot = this.positions.get(r.positionId);
        if (slot) slot.record = r;
      },
      recordExitAttempt: async (a) => void this.attempts.push(a),
      recordPositionExit: async (e) => void this.exits.push(e),
      checkEntryRisk: async (i) => {
        rollTradingDay(this.risk, this.clock.now);
        const held = [...this.positions.values()].filter((p) => OPEN_STATUSES.has(p.state.status)).map((p) => ({ positionId: p.state.id, market: p.input.market, remaining: p.state.remaining, entryPrice: p.state.entryPrice }));
        const decision = checkEntry(this.risk, this.config.risk, this.clock.now, { ...i, cost: new Dec(i.cost) }, held, this.store.markets.get(i.market)?.receivedAtMs);
        if (!decision.allowed) this.denials.push({ positionId: i.positionId, rule: decision.rule, reason: decision.reason });
        return decision;
      },
      recordPositionClosed: async (i) => recordClosedPosition(this.risk, new Dec(i.realizedPnl), this.config.risk, this.clock.now),
    };
  }

  private result(): BacktestResult {
    return {
      strategy: this.strategy,
      positions: [...this.positions.values()].map((p) => ({ ...p.state.snapshot(), openedAtMs: p.state.openedAtMs, closedAtMs: p.state.closedAtMs, signal: p.signal, provenance: p.record?.provenance })),
      orders: [...this.orders.values()],
      exitAttempts: this.attempts,
      exits: this.exits,
      riskDenials: this.denials,
      events: this.eventCount,
      startMs: this.startMs,
      endMs: this.clock.now,
    };
  }
}
