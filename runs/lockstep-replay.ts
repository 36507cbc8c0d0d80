import type { WorkflowHandle } from '@temporalio/client';
import { upsertMarketSnapshot } from '../db/market-data-repo';
import type { BacktestConfig, SignalRule } from '../domain/backtest/backtester';
import type { PositionSnapshot } from '../domain/trading/position-engine';
import type { StrategySnapshot } from '../domain/trading/strategy-rules';
import type { RecordedWindow } from '../backtest/recorded-data';
import type { MarketInfo } from '../domain/backtest/backtester';
import type { UnitEvent } from '../domain/market-data/events';
import { readGoldMarketMetadata } from '../venues/replay/gold-metadata';
import type { EntrySignal, StrategyInput } from '../workflows/strategy';
import type { Stack } from '../runtime/stack';
import { signalsSignal, stopStrategyUpdate, strategyQuery, strategyWorkflow } from '../workflows/strategy';
import { clockSignal, positionQuery } from '../workflows/position';

/** An order on its way to the paper exchange: it meets the book when the market clock reaches `atMs`. */
interface OrderInFlight {
  atMs: number;
  positionId: string;
  arrive: () => void;
}

/**
 * A clock the replay moves; the stack's paper exchange, risk checks and activities read it. Order
 * latency is waited out on it too (`orderLatency`), so an order reaches the book after the recorded
 * events of its latency, as in the backtester, and not after a wall-clock sleep.
 */
export class ReplayClock {
  private readonly inFlight: OrderInFlight[] = [];

  constructor(public nowMs = 0) {}

  readonly clock = { nowMs: () => this.nowMs };

  /** The paper exchange's latency wait (StackOptions.orderLatency). */
  readonly orderLatency = (ms: number, order: { positionId: string }): Promise<void> =>
    new Promise((arrive) => {
      this.inFlight.push({ atMs: this.nowMs + ms, positionId: order.positionId, arrive });
    });

  /** When the next order in flight arrives (Infinity: none). */
  nextArrivalMs(): number {
    return Math.min(Infinity, ...this.inFlight.map((o) => o.atMs));
  }

  hasOrderInFlight(positionId: string): boolean {
    return this.inFlight.some((o) => o.positionId === positionId);
  }

  /** Takes the orders due at or before `atMs`, in the order they were sent; the caller lets them arrive. */
  takeArrivals(atMs: number): OrderInFlight[] {
    const due = this.inFlight.filter((o) => o.atMs <= atMs);
    for (const o of due) this.inFlight.splice(this.inFlight.indexOf(o), 1);
    return due;
  }
}

/**
 * Where a lockstep run gets its market events: all at once (a loaded recording) or pulled as the
 * market clock moves (a feed whose exchange runs on a clock the run moves, e.g. the Kalshi emulator).
 */
export interface LockstepEventSource {
  /** Every event at or before `untilMs` not returned yet, in order. */
  readUntil(untilMs: number): Promise<UnitEvent[]>;
  /** Nothing happens before this time nor after `endMs`. */
  readonly startMs: number;
  readonly endMs: number;
  /** How far one pull moves the source's clock when nothing else is due (market ms). */
  readonly stepMs: number;
  /** A time before which the source will deliver nothing more (its next scheduled event), if it knows one. */
  quietUntil?(): Promise<number | undefined>;
}

/** The markets a lockstep run trades: their close times and events, and the source of their events. */
export interface LockstepFeed {
  markets: string[];
  info: Map<string, MarketInfo>;
  source: LockstepEventSource;
}

/** A loaded recording as a lockstep source (one pull returns it all). */
export function recordedEventSource(events: readonly UnitEvent[]): LockstepEventSource {
  let next = 0;
  return {
    startMs: events[0]?.ts ?? 0,
    endMs: events.at(-1)?.ts ?? 0,
    stepMs: Infinity,
    readUntil: async (untilMs) => {
      const from = next;
      while (next < events.length && events[next]!.ts <= untilMs) next++;
      return events.slice(from, next);
    },
  };
}

/**
 * Paper trading over a recorded window through the real Temporal workflows, in lockstep: the
 * replay applies recorded events to the stack's books and paper exchange and moves the market
 * clock; position workflows run on that clock (`clock: stepped`) and the replay only steps to the
 * next event or the next time a position waits for, after every workflow has acted. The order of
 * things is the backtester's (events at an instant first, then timers), so the two must agree
 * order for order (the parity test checks it).
 */
export async function runLockstepPaper(
  stack: Stack,
  replay: ReplayClock,
  opts: {
    window: RecordedWindow | LockstepFeed;
    /** Recorded metadata to store as market snapshots first (a feed from a venue stores its own). */
    dataDir?: string;
    strategy: Pick<BacktestConfig, 'strategyId' | 'rules' | 'position'>;
    rule: SignalRule;
    /** The immutable strategy and model versions the run's positions record. */
    provenance?: { strategyVersionId?: number; modelVersionId?: number };
    /** Stores a proposed entry's signal as a `signals` row and returns the id positions refer to it by (`signal:<id>`). */
    recordSignal?: (signal: EntrySignal) => Promise<string>;
    log?: (line: string) => void;
  },
): Promise<{ strategyWorkflowId: string; strategy: StrategySnapshot; positions: PositionSnapshot[] }> {
  const { window } = opts;
  const source = 'source' in window ? window.source : recordedEventSource(window.events);
  // Settlement reads the recorded results from the market snapshots, as in the paper session.
  for (const market of opts.dataDir === undefined ? [] : window.markets) {
    const meta = readGoldMarketMetadata(opts.dataDir!, market);
    if (meta) await upsertMarketSnapshot(stack.database.db, meta.meta, meta.observedAtMs);
  }
  const input: StrategyInput = { strategyId: opts.strategy.strategyId, version: 'lockstep', strategyVersionId: opts.provenance?.strategyVersionId, modelVersionId: opts.provenance?.modelVersionId, rules: opts.strategy.rules, position: { ...opts.strategy.position, clock: 'stepped' } };
  const strategyWorkflowId = `strategy/${opts.strategy.strategyId}`;
  const strategy = await stack.temporal.workflow.start(strategyWorkflow, { args: [input], taskQueue: stack.config.temporal.taskQueue, workflowId: strategyWorkflowId });
  const positions = new Map<string, { handle: WorkflowHandle; snapshot?: PositionSnapshot; done: boolean }>();

  const refresh = async () => {
    await Promise.all(
      [...positions.values()]
        .filter((p) => !p.done)
        .map(async (p) => {
          const description = await p.handle.describe();
          if (description.status.name !== 'RUNNING') {
            p.snapshot = (await p.handle.result()) as PositionSnapshot;
            p.done = true;
          } else p.snapshot = (await p.handle.query(positionQuery).catch(() => undefined));
        }),
    );
  };
  /** Every position is blocked on a future clock time or finished, and the strategy knows how each finished one ended. */
  const waitIdle = async () => {
    for (let spins = 0; ; spins++) {
      await refresh();
      // A position that has not answered a query yet counts as busy; one whose order is in flight waits on the clock.
      const busy = [...positions].some(([id, p]) => !p.done && !(p.snapshot?.waitingUntilMs !== undefined && p.snapshot.waitingUntilMs > replay.nowMs) && !replay.hasOrderInFlight(id));
      let lagging = false;
      if (!busy && [...positions.values()].some((p) => p.done)) {
        const s = (await strategy.query(strategyQuery));
        lagging = [...positions.values()].some((p) => p.done && s.positions.find((x) => x.positionId === p.snapshot?.positionId)?.status !== p.snapshot?.status);
      }
      if (!busy && !lagging) return;
      if (spins > 4000) throw new Error(`lockstep replay stuck at ${replay.nowMs}: ${JSON.stringify([...positions.values()].map((p) => p.snapshot))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  let events: UnitEvent[] = [];
  let i = 0;
  // Every event at or before `covered` has been pulled from the source.
  let covered = source.startMs - 1;
  for (;;) {
    const eventAt = i < events.length ? events[i]!.ts : Infinity;
    const waits = [...positions.values()].filter((p) => !p.done).map((p) => p.snapshot?.waitingUntilMs ?? Infinity);
    const timerAt = Math.min(replay.nextArrivalMs(), ...waits);
    const nextAt = Math.min(eventAt, timerAt);
    if (nextAt > covered && covered < source.endMs) {
      // Nothing may happen before an event the source has not delivered yet: pull up to the next thing due
      // (a source that knows it stays quiet for a while lets the run jump over the silence).
      const quietUntil = (await source.quietUntil?.()) ?? -Infinity;
      covered = Math.min(nextAt, Math.max(covered + source.stepMs, quietUntil), source.endMs);
      events = [...events.slice(i), ...(await source.readUntil(covered))];
      i = 0;
      continue;
    }
    if (eventAt === Infinity && timerAt === Infinity) break;
    if (eventAt <= timerAt) {
      replay.nowMs = eventAt;
      const group = [];
      while (i < events.length && events[i]!.ts === eventAt) group.push(events[i++]!);
      stack.books.applyAll(group, replay.nowMs);
      // On paper the exchange matches resting orders here; a venue (the emulator) matched them as its clock moved.
      await stack.paper?.onMarketEvents(group);
      const proposals: EntrySignal[] = [];
      for (const market of new Set(group.map((e) => e.m))) {
        const info = window.info.get(market);
        const proposal = info && opts.rule({ market, nowMs: replay.nowMs, store: stack.books, info: { closeTimeMs: info.closeTimeMs, event: info.event }, events: group });
        if (proposal && info) proposals.push({ ...proposal, closeTimeMs: info.closeTimeMs, firedAtMs: replay.nowMs });
      }
      if (proposals.length === 0) continue;
      if (opts.recordSignal) for (const p of proposals) p.signalId = await opts.recordSignal(p);
      await waitIdle();
      await strategy.signal(signalsSignal, proposals);
      // Wait until the strategy has decided on every signal sent (a decision is recorded after its child started).
      let snapshot: StrategySnapshot;
      for (;;) {
        snapshot = (await strategy.query(strategyQuery));
        if (proposals.every((p) => snapshot.decisions.some((d) => d.signalId === p.signalId))) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      for (const p of snapshot.positions) if (!positions.has(p.positionId)) positions.set(p.positionId, { handle: stack.temporal.workflow.getHandle(p.positionId), done: false });
      await waitIdle();
    } else {
      replay.nowMs = timerAt;
      const arrivals = replay.takeArrivals(timerAt);
      // A position whose order arrives reads the arrival time when its order call returns (the backtester's
      // clock has moved on by the latency too): the clock signal is in its history before the order completes.
      await Promise.all(arrivals.map((o) => stack.temporal.workflow.getHandle(o.positionId).signal(clockSignal, timerAt)));
      for (const o of arrivals) o.arrive();
      await Promise.all([...positions.values()].filter((p) => !p.done && p.snapshot?.waitingUntilMs !== undefined && p.snapshot.waitingUntilMs <= timerAt).map((p) => p.handle.signal(clockSignal, timerAt)));
      await waitIdle();
    }
  }
  await waitIdle();
  const final = (await strategy.executeUpdate(stopStrategyUpdate)) as StrategySnapshot;
  return { strategyWorkflowId, strategy: final, positions: [...positions.values()].map((p) => p.snapshot!) };
}
