// The crash test's Polymarket mode: the Polymarket CLOB emulator (in the crash-test process, over
// real HTTP and WebSocket), the worker environment that points a stack at it through Kestrel's
// Polymarket execution client, and the venue-side checks of a cycle.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { inArray } from 'drizzle-orm';
import { generatePrivateKey } from 'viem/accounts';
import type { Database } from '../../db/client';
import { orders } from '../../db/schema';
import { Dec } from '../../domain/decimal';
import { startPolymarketEmulator, type PolymarketEmulator } from '../../venues/polymarket/emulator/server';
import { polymarketSignerFromKey } from '../../venues/polymarket/signer';
import { positionQuery } from '../../workflows/position';
import { crashCycle, judge, kill, spawnWorker, type CrashEnv } from './crash-harness';
import { addVenueCycle, bookTop, venueDuplicates, type CrashBook, type VenueCrashTotals, type VenueOrdersSeen } from './crash-kalshi';
import { SHARED_DATA_DIR, uniqueName, type Harness } from './harness';

/**
 * The recording's one token whose market shows both tokens (the other has recorded trades), so the
 * venue's market object is complete: 0.46 bid (38.13 shares) / 0.47 ask (1401.82), tick 0.01. A LOW
 * exit rests at 0.48 and 0.47 before it reaches the bid at its third attempt. The emulator's clock
 * stays at the end of the recording (speed 0): the book changes only by our own trades.
 */
export const POLYMARKET_CRASH_ASSET = '1627500284739545390204314775735988068784669364445492030335161034375823784781';
export const POLYMARKET_DATA_DIR = path.join(SHARED_DATA_DIR, 'polymarket-ws-samples');
/** The taker fee the emulator charges (and the orders sign): not the recording's 0, so fees show. */
const FEE_RATE_BPS = '200';

export interface PolymarketCrashVenue {
  emulator: PolymarketEmulator;
  market: string;
  /** The wallet the workers sign with (an EOA: its orders' maker). */
  address: string;
  /** Worker environment: execution on Polymarket (the emulator), the wallet key. */
  workerEnv: Record<string, string>;
  book(): CrashBook;
  /** The wallet's net shares of the token, from the venue's trades. */
  netPosition(): Dec;
  /** Every venue order of the wallet, with the client order id Kestrel recorded for it ('' when none did). */
  orders(db: Database): Promise<{ orderId: string; clientOrderId: string }[]>;
  close(): Promise<void>;
}

export async function startPolymarketCrashVenue(): Promise<PolymarketCrashVenue> {
  const emulator = await startPolymarketEmulator({ dataDir: POLYMARKET_DATA_DIR, speed: 0, defaultFeeRateBps: FEE_RATE_BPS, confirmAfterMs: 20 });
  emulator.advanceTo(emulator.exchange.endMs());
  const privateKey = generatePrivateKey();
  const address = polymarketSignerFromKey(privateKey).address.toLowerCase();
  const market = POLYMARKET_CRASH_ASSET;
  return {
    emulator,
    market,
    address,
    workerEnv: {
      POLYMARKET_PRIVATE_KEY: privateKey,
      KESTREL__VENUES__EXECUTION: 'polymarket',
      KESTREL__VENUES__POLYMARKET__ENVIRONMENT: 'emulator',
      KESTREL__VENUES__POLYMARKET__EMULATOR_PORT: String(emulator.port),
      KESTREL__VENUES__POLYMARKET__HEARTBEAT_MS: '1000',
    },
    book() {
      const summary = emulator.exchange.bookSummary(market) as { bids: { price: string; size: string }[]; asks: { price: string; size: string }[] } | undefined;
      if (!summary) throw new Error(`the emulator has no book of ${market}`);
      // Bids come low → high; an ask at a is a NO bid at 1 − a, and asks come high → low: both ladders ascend.
      return { yes: summary.bids.map((l) => [l.price, l.size]), no: summary.asks.map((l) => [new Dec(1).minus(l.price).toString(), l.size]) };
    },
    netPosition() {
      return emulator.exchange.trades.filter((t) => t.assetId === market && t.makerAddress === address).reduce((net, t) => (t.side === 'BUY' ? net.plus(t.size) : net.minus(t.size)), new Dec(0));
    },
    async orders(db) {
      const venueOrders = [...emulator.exchange.orders.values()].filter((o) => o.makerAddress === address);
      const ids = venueOrders.map((o) => o.id);
      const recorded = ids.length ? await db.select({ clientOrderId: orders.clientOrderId, venueOrderId: orders.venueOrderId }).from(orders).where(inArray(orders.venueOrderId, ids)) : [];
      const clientOf = new Map(recorded.map((r) => [r.venueOrderId!, r.clientOrderId]));
      return venueOrders.map((o) => ({ orderId: o.id, clientOrderId: clientOf.get(o.id) ?? '' }));
    },
    close: () => emulator.close(),
  };
}

/** What each cycle does besides the kill, in turn: where in the walk the worker dies. */
const WALK_KILL_ATTEMPTS = [1, 2, 'entry'] as const;

/** Shares per cycle: the CLOB's minimum order (the bid's 38.13 shares last 7 cycles; after that exits reach the next level). */
const POLYMARKET_SIZE = '5';

export interface PolymarketCrashTotals extends VenueCrashTotals {
  venue: 'polymarket-emulator';
  market: string;
  cycles: number;
  venueTrades: number;
  venueFees: string;
  heartbeatCancels: number;
}

/**
 * The crash cycles on the Polymarket emulator: each opens a position (an IOC at the ask), starts a
 * LOW exit (a walk of cancel-and-replace orders: the venue cannot amend), SIGKILLs the worker at a
 * point of the walk (or right after the entry was requested), restarts it, lets the workflow finish,
 * and judges the cycle in Postgres (attempts in order, one order per attempt) and at the venue
 * (every order is one Kestrel recorded, the venue's net shares moved as Kestrel's position did).
 */
export async function runPolymarketCrashCycles(opts: { harness: Harness; db: Database; cycles: number; log: (line: string) => void }): Promise<PolymarketCrashTotals> {
  const { harness, db } = opts;
  const venue = await startPolymarketCrashVenue();
  let worker: ChildProcess | undefined;
  const totals: PolymarketCrashTotals = {
    venue: 'polymarket-emulator',
    market: venue.market,
    cycles: opts.cycles,
    kills: 0,
    lostPositions: 0,
    duplicateOrders: 0,
    venueDuplicateOrders: 0,
    venuePositionMismatches: 0,
    ordersSent: 0,
    venueOrders: 0,
    venueTrades: 0,
    venueFees: '0',
    heartbeatCancels: 0,
    attempts: 0,
    killedAtAttempts: [],
    exitFilledAtAttempts: [],
    secondsPerCycle: [],
  };
  try {
    const env: CrashEnv = { databaseUrl: harness.databaseUrl, redisUrl: harness.redisUrl, temporalAddress: harness.temporalAddress, taskQueue: uniqueName('crash-tq'), redisPrefix: uniqueName('crash'), workerEnv: venue.workerEnv };
    const seen: VenueOrdersSeen = { orderIds: new Set(), clientOrderIds: new Set() };
    worker = await spawnWorker(env, {});
    for (let i = 0; i < opts.cycles; i++) {
      // The venue's book now: the worker quotes from it (the live feed's job on the running system).
      const book = venue.book();
      const { bid, ask } = bookTop(book);
      if (!bid || !ask) throw new Error(`${venue.market} has no two-sided book: ${JSON.stringify(book)}`);
      await kill(worker);
      worker = await spawnWorker(env, { [venue.market]: book });
      const started = Date.now();
      const positionBefore = venue.netPosition();
      const kind = WALK_KILL_ATTEMPTS[i % WALK_KILL_ATTEMPTS.length]!;
      const cycle = await crashCycle({
        env,
        client: harness.env.client,
        db,
        market: venue.market,
        positionId: `position/crash/${uniqueName(`pm${i}`)}`,
        book,
        entry: { limitPrice: ask.toFixed(4), size: POLYMARKET_SIZE },
        killAfterMs: 0,
        worker,
        killWhen: async (handle) => {
          if (kind === 'entry') return;
          // Killed once the walk reached its attempt, a little into it (the order may be in flight, resting, or being cancelled).
          const deadline = Date.now() + 30_000;
          while (Date.now() < deadline) {
            const s = await handle.query(positionQuery);
            if ((s.status !== 'exiting' && s.status !== 'open') || (s.currentExit?.attemptNo ?? 0) >= kind) break;
            await new Promise((r) => setTimeout(r, 10));
          }
          await new Promise((r) => setTimeout(r, (i * 97) % 250));
        },
      });
      worker = cycle.worker;
      const verdict = judge(cycle.result);
      const venueChange = venue.netPosition().minus(positionBefore);
      const dup = await venueDuplicates(db, await venue.orders(db), seen);
      const { lost } = addVenueCycle(totals, { ...cycle.result, lost: verdict.lost, duplicateOrders: verdict.duplicateOrders, venueChange, remaining: cycle.final.remaining, dup, startedMs: started });
      opts.log(
        `[${i + 1}/${opts.cycles}] kill ${kind === 'entry' ? 'after the entry' : `at walk attempt ${kind}`}: book ${bid.toFixed(2)}/${ask.toFixed(2)}; killed at attempt ${cycle.result.killedAtAttempt ?? '-'}; attempts ${cycle.result.attemptNumbers.join(',')}; orders ${cycle.result.ordersSent} (venue ${dup.newOrders}); ` +
          `kestrel remaining ${cycle.final.remaining}, venue change ${venueChange.toFixed(2)}; ${lost ? 'LOST' : 'ok'}${dup.detail.length ? `; ${dup.detail.join('; ')}` : ''}`,
      );
    }
    const ours = venue.emulator.exchange.trades.filter((t) => t.makerAddress === venue.address);
    totals.venueTrades = ours.length;
    totals.venueFees = ours.reduce((sum, t) => sum.plus(t.fee), new Dec(0)).toFixed(5);
    totals.heartbeatCancels = venue.emulator.rest.counters.heartbeatCancels;
    return totals;
  } finally {
    if (worker) await kill(worker);
    await venue.close();
  }
}
