import assert from 'node:assert/strict';
import { Dec } from '../../domain/decimal';
import { exitConfigSchema } from '../../domain/trading/exits';
import { exitPlanConfigSchema } from '../../domain/trading/exit-plan';
import { PositionState, runPosition, type PositionInput, type PositionPorts, type PositionRuntime } from '../../domain/trading/position-engine';
import type { ExitAttemptRecord, OrderRequestWire, OrderStateWire, PositionExitRecord, QuoteWire } from '../../domain/trading/wire';

/**
 * The exit walk against a scripted venue: what it sends (new orders, amendments, cancels) and how
 * it credits fills to attempts. The venue fills nothing unless the test says so (`fillOn`).
 */
class ScriptedVenue {
  readonly calls: string[] = [];
  readonly orders = new Map<string, OrderStateWire & { limitPrice: string }>();
  /** Fills the venue makes when it sees the given call: `amend:<price>` or `cancel`, with the size it fills. */
  fillOn = new Map<string, string>();
  canAmend = true;
  quote: QuoteWire = { market: 'M', outcome: 'yes', bid: '0.4500', bidSize: '100', ask: '0.5600', askSize: '100', tsMs: 0, stale: false };
  attempts: ExitAttemptRecord[] = [];
  exits: PositionExitRecord[] = [];

  private fill(o: OrderStateWire & { limitPrice: string }, size: string) {
    const filled = new Dec(o.filled).plus(size);
    o.fills = [...o.fills, { price: o.limitPrice, size: new Dec(size).toFixed(6), liquidity: 'taker', fee: '0.010000', tsMs: 0 }];
    o.filled = filled.toFixed(6);
    o.fees = new Dec(o.fees).plus('0.01').toFixed(6);
    o.averagePrice = o.fills.reduce((n, f) => n.plus(new Dec(f.size).times(f.price)), new Dec(0)).div(filled).toFixed(6);
    if (filled.gte(o.size)) o.status = 'filled';
  }

  ports(): PositionPorts {
    const copy = (o: OrderStateWire): OrderStateWire => ({ ...o, fills: [...o.fills] });
    return {
      getQuote: async () => this.quote,
      submitOrder: async (req: OrderRequestWire) => {
        this.calls.push(`submit ${req.purpose} ${req.tif} ${req.limitPrice} x${new Dec(req.size).toFixed(0)}`);
        const o = { clientOrderId: req.clientOrderId, status: 'resting' as const, size: req.size, filled: '0', fees: '0', fills: [], limitPrice: req.limitPrice } as OrderStateWire & { limitPrice: string };
        this.orders.set(req.clientOrderId, o);
        // Entries and IOCs fill at once.
        if (req.purpose === 'entry' || req.tif === 'ioc') this.fill(o, req.size);
        return copy(o);
      },
      getOrder: async (id) => copy(this.orders.get(id)!),
      cancelOrder: async (id) => {
        this.calls.push('cancel');
        const o = this.orders.get(id)!;
        const size = this.fillOn.get('cancel');
        if (size && o.status === 'resting') this.fill(o, size);
        if (o.status === 'resting') o.status = 'canceled';
        return copy(o);
      },
      amendOrder: async ({ clientOrderId, limitPrice, size }) => {
        const o = this.orders.get(clientOrderId)!;
        if (!this.canAmend) {
          this.calls.push('cancel (cannot amend)');
          if (o.status === 'resting') o.status = 'canceled';
          return copy(o);
        }
        this.calls.push(`amend ${limitPrice} total ${new Dec(size).toFixed(0)}`);
        o.limitPrice = limitPrice;
        const fill = this.fillOn.get(`amend:${limitPrice}`);
        if (fill) this.fill(o, fill);
        return copy(o);
      },
      marketResult: async () => null,
      recordPosition: async () => {},
      recordExitAttempt: async (a) => void this.attempts.push(a),
      recordPositionExit: async (e) => void this.exits.push(e),
      checkEntryRisk: async () => ({ allowed: true }),
      recordPositionClosed: async () => {},
    };
  }
}

async function walk(venue: ScriptedVenue, urgency: 'LOW' | 'MEDIUM' = 'MEDIUM', patched = true) {
  let nowMs = 0;
  const input: PositionInput = {
    strategyId: 's',
    market: 'M',
    outcome: 'yes',
    closeTimeMs: 10_000_000,
    entry: { limitPrice: '0.56', size: '10', timeoutMs: 1000 },
    cadence: { normalMs: 100, urgentMs: 100, pollMs: 50, settleTimeoutMs: 1000 },
  };
  const p = new PositionState('pos', input);
  p.pendingManualExit = { urgency, reason: 'test' };
  const rt: PositionRuntime = {
    now: () => nowMs,
    sleep: async (ms) => void (nowMs += ms),
    waitForCommand: async (_p, ms) => void (nowMs += ms),
    patched: (id) => patched || id !== 'exit-walk-amends-resting-order',
    onStatus: () => {},
    maybeContinueAsNew: async () => {},
    finished: async () => {},
    log: () => {},
  };
  return runPosition(p, input, { exitConfig: exitConfigSchema.parse({}), planConfig: exitPlanConfigSchema.parse({}) }, venue.ports(), rt);
}

describe('the exit walk moves one resting order', () => {
  it('amends the walk order at each new price, cancels it only to go marketable, and sells everything once', async () => {
    const venue = new ScriptedVenue();
    const final = await walk(venue);
    assert.equal(final.status, 'closed');
    // MEDIUM: the touch 0.56, then 0.55 … 0.51 (amended in place), then a marketable IOC at the bid minus 5 ticks.
    assert.deepEqual(venue.calls, ['submit entry gtc 0.56 x10', 'submit exit gtc 0.5600 x10', 'amend 0.5500 total 10', 'amend 0.5400 total 10', 'amend 0.5300 total 10', 'amend 0.5200 total 10', 'amend 0.5100 total 10', 'cancel', 'submit exit ioc 0.4000 x10']);
    assert.deepEqual(venue.attempts.map((a) => [a.attemptNo, a.clientOrderId, a.outcome]), [
      ...[1, 2, 3, 4, 5, 6].map((n) => [n, 'pos/exit-1/attempt-1', 'unfilled']),
      [7, 'pos/exit-1/attempt-7', 'filled'],
    ]);
    assert.equal(venue.exits[0]!.attempts, 7);
    assert.equal(venue.exits[0]!.filledSize, '10.000000');
  });

  it('a step at the same price keeps the order (and its queue place): no amendment is sent', async () => {
    const venue = new ScriptedVenue();
    // A one-tick spread: MEDIUM's walk reaches the bid at once and stays there.
    venue.quote = { ...venue.quote, bid: '0.5500', ask: '0.5600' };
    venue.fillOn.set('cancel', '0');
    await walk(venue);
    assert.deepEqual(venue.calls.slice(1, 4), ['submit exit gtc 0.5600 x10', 'amend 0.5500 total 10', 'cancel']);
    assert.deepEqual(venue.attempts.slice(0, 6).map((a) => a.limitPrice), ['0.5600', '0.5500', '0.5500', '0.5500', '0.5500', '0.5500']);
    assert.equal(new Set(venue.attempts.slice(0, 6).map((a) => a.clientOrderId)).size, 1);
  });

  it('credits fills to the attempt that saw them: an amendment crossing the book, and fills taken while canceling', async () => {
    const venue = new ScriptedVenue();
    venue.fillOn.set('amend:0.5400', '4');
    venue.fillOn.set('cancel', '1');
    const final = await walk(venue);
    assert.equal(final.status, 'closed');
    const filledBy = venue.attempts.map((a) => [a.attemptNo, a.filledSize, a.outcome]);
    assert.deepEqual(filledBy, [
      [1, '0.000000', 'unfilled'], [2, '0.000000', 'unfilled'], [3, '4.000000', 'partial'], [4, '0.000000', 'unfilled'], [5, '0.000000', 'unfilled'], [6, '0.000000', 'unfilled'],
      // Canceling the walk order found 1 more sold; the IOC sells the last 5.
      [7, '6.000000', 'filled'],
    ]);
    // The amendments keep the order's total at 10: its fills count toward what is left to sell.
    assert.ok(venue.calls.includes('amend 0.5300 total 10'));
    assert.equal(venue.calls.at(-1), 'submit exit ioc 0.4000 x5');
    const exit = venue.exits[0]!;
    assert.equal(exit.filledSize, '10.000000');
    // 4 at 0.54 + 1 at 0.51 + 5 at 0.40 = 4.67; fees 0.01 per fill (3 exit fills).
    assert.equal(exit.averagePrice, '0.467000');
    assert.equal(exit.fees, '0.030000');
  });

  it('a venue that cannot amend gets cancel and a new order at each step', async () => {
    const venue = new ScriptedVenue();
    venue.canAmend = false;
    await walk(venue);
    assert.deepEqual(venue.calls.slice(1, 5), ['submit exit gtc 0.5600 x10', 'cancel (cannot amend)', 'submit exit gtc 0.5500 x10', 'cancel (cannot amend)']);
    assert.deepEqual(venue.attempts.slice(0, 3).map((a) => a.clientOrderId), ['pos/exit-1/attempt-1', 'pos/exit-1/attempt-2', 'pos/exit-1/attempt-3']);
  });

  it('a workflow started before the change replays as it ran: a new order per attempt', async () => {
    const venue = new ScriptedVenue();
    await walk(venue, 'MEDIUM', false);
    assert.equal(venue.calls.filter((c) => c.startsWith('amend')).length, 0);
    assert.equal(venue.calls.filter((c) => c.startsWith('submit exit')).length, 7);
  });
});
