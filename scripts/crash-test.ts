// `npm run crash-test -- [cycles] [--venue paper|kalshi-emulator|polymarket-emulator]`: repeatedly SIGKILLs the worker
// process in the middle of an exit walk and restarts it, then checks every position finished with
// one order per attempt and no attempt skipped or repeated. With `--venue kalshi-emulator` the
// workers trade on the Kalshi emulator (started here, over real HTTP), and the cycles take turns:
// killed mid-walk; killed between "accepted by the venue" and "recorded" (a lost order response);
// killed while an amendment's response is lost; killed mid-walk through a burst of 429s and 5xx.
// Every cycle is also judged against the venue: no duplicate venue orders, the venue position
// matches Kestrel's. With `--venue polymarket-emulator` the workers trade on the Polymarket CLOB
// emulator through Kestrel's Polymarket execution client (EIP-712 signed orders, no amend: each walk
// step cancels and places anew), killed at spread points of the walk; every venue order must be one
// Kestrel recorded (by its order hash), and the venue's net shares must match Kestrel's.
// Progress on stderr; the last line is a JSON object of counts.
import type { ChildProcess } from 'node:child_process';
import { openDatabase } from '../db/client';
import { Dec } from '../domain/decimal';
import { WALK_STEPS } from '../domain/trading/exit-plan';
import { crashCycle, judge, kill, spawnWorker, WALK_BOOK, type CrashEnv } from '../test/support/crash-harness';
import { addVenueCycle, bookTop, startKalshiCrashVenue, venueDuplicates, type KalshiCrashVenue, type VenueOrdersSeen } from '../test/support/crash-kalshi';
import { runPolymarketCrashCycles } from '../test/support/crash-polymarket';
import { getHarness, teardownHarness, uniqueName } from '../test/support/harness';
import { positionQuery } from '../workflows/position';

const USAGE = 'usage: npm run crash-test -- [cycles ≥ 1] [--venue paper|kalshi-emulator|polymarket-emulator]\n';
type Venue = 'paper' | 'kalshi-emulator' | 'polymarket-emulator';

function parseArgs(argv: string[]): { cycles: number; venue: Venue } | undefined {
  let cycles: number | undefined;
  let venue: Venue = 'paper';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--venue' || arg.startsWith('--venue=')) {
      const value = arg === '--venue' ? argv[++i] : arg.slice('--venue='.length);
      if (value !== 'paper' && value !== 'kalshi-emulator' && value !== 'polymarket-emulator') return undefined;
      venue = value;
    } else if (cycles === undefined && /^\d+$/.test(arg) && Number(arg) >= 1 && Number.isSafeInteger(Number(arg))) cycles = Number(arg);
    else return undefined;
  }
  return { cycles: cycles ?? 10, venue };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!args) {
    process.stderr.write(USAGE);
    return 2;
  }
  return args.venue === 'paper' ? paper(args.cycles) : args.venue === 'kalshi-emulator' ? kalshiEmulator(args.cycles) : polymarketEmulator(args.cycles);
}

async function paper(cycles: number): Promise<number> {
  const harness = await getHarness();
  const db = openDatabase(harness.databaseUrl, { max: 2 });
  const env: CrashEnv = { databaseUrl: harness.databaseUrl, redisUrl: harness.redisUrl, temporalAddress: harness.temporalAddress, taskQueue: uniqueName('crash-tq'), redisPrefix: uniqueName('crash') };
  const totals = { cycles, kills: 0, lostPositions: 0, duplicateOrders: 0, ordersSent: 0, attempts: 0, killedAtAttempts: [] as (number | null)[], secondsPerCycle: [] as number[] };
  let worker = await spawnWorker(env, {});
  try {
    for (let i = 0; i < cycles; i++) {
      const market = uniqueName(`CRASH${i}`);
      await kill(worker);
      worker = await spawnWorker(env, { [market]: WALK_BOOK });
      const started = Date.now();
      // Kill points spread over the walk: an attempt (quote, order, 200 ms resting, cancel, record) takes about a second.
      const killAfterMs = 300 + ((i * 1097) % 9000);
      const cycle = await crashCycle({ env, client: harness.env.client, db: db.db, market, killAfterMs, worker });
      worker = cycle.worker;
      const verdict = judge(cycle.result);
      totals.kills++;
      totals.lostPositions += verdict.lost ? 1 : 0;
      totals.duplicateOrders += verdict.duplicateOrders;
      totals.ordersSent += cycle.result.ordersSent;
      totals.attempts += cycle.result.attemptsRecorded;
      totals.killedAtAttempts.push(cycle.result.killedAtAttempt ?? null);
      totals.secondsPerCycle.push(Math.round((Date.now() - started) / 100) / 10);
      process.stderr.write(`[${i + 1}/${cycles}] killed at attempt ${cycle.result.killedAtAttempt ?? '-'}; attempts ${cycle.result.attemptNumbers.join(',')}; orders ${cycle.result.ordersSent}; ${verdict.lost ? 'LOST' : 'ok'}\n`);
    }
  } finally {
    await kill(worker);
    await db.close();
    await teardownHarness();
  }
  process.stdout.write(`${JSON.stringify(totals)}\n`);
  return totals.lostPositions === 0 && totals.duplicateOrders === 0 ? 0 : 1;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` or the deadline; returns whether `done` became true. */
async function until(done: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await sleep(everyMs);
  }
  return false;
}

/** What each cycle does besides the kill, in turn. */
const CYCLE_KINDS = ['walk', 'lost order response', 'lost amend response', '429s and 5xx'] as const;

/** Contracts per cycle: small next to the touch's depth, so each cycle sees about the same book. */
const KALSHI_SIZE = '5';

async function kalshiEmulator(cycles: number): Promise<number> {
  const harness = await getHarness();
  const db = openDatabase(harness.databaseUrl, { max: 2 });
  let venue: KalshiCrashVenue | undefined;
  let worker: ChildProcess | undefined;
  const totals = {
    venue: 'kalshi-emulator',
    market: '',
    cycles,
    kills: 0,
    lostPositions: 0,
    duplicateOrders: 0,
    venueDuplicateOrders: 0,
    venuePositionMismatches: 0,
    ordersSent: 0,
    venueOrders: 0,
    lostResponseKills: 0,
    lostAmendKills: 0,
    faultBurstCycles: 0,
    rateLimited: 0,
    serverErrors: 0,
    amendsAtVenue: 0,
    attempts: 0,
    killedAtAttempts: [] as (number | null)[],
    exitFilledAtAttempts: [] as (number | null)[],
    secondsPerCycle: [] as number[],
  };
  try {
    venue = await startKalshiCrashVenue();
    const v = venue;
    totals.market = v.market;
    const env: CrashEnv = { databaseUrl: harness.databaseUrl, redisUrl: harness.redisUrl, temporalAddress: harness.temporalAddress, taskQueue: uniqueName('crash-tq'), redisPrefix: uniqueName('crash'), workerEnv: v.workerEnv };
    const seen: VenueOrdersSeen = { orderIds: new Set(), clientOrderIds: new Set() };
    // Anything already on the venue (nothing, on a fresh emulator) is not this run's.
    for (const o of await v.orders()) {
      seen.orderIds.add(o.orderId);
      seen.clientOrderIds.add(o.clientOrderId);
    }
    worker = await spawnWorker(env, {});
    for (let i = 0; i < cycles; i++) {
      // The venue's book now: the worker quotes from it (the live feed's job on the running system).
      const book = await v.book();
      const { bid, ask } = bookTop(book);
      if (!bid || !ask) throw new Error(`${v.market} has no two-sided book: ${JSON.stringify(book)}`);
      const tick = new Dec('0.01');
      // LOW starts one tick above the ask and walks a tick per attempt; at the bid it fills.
      const expectedFillAttempt = Math.min(WALK_STEPS.LOW + 1, ask.minus(bid).div(tick).round().toNumber() + 2);
      await kill(worker);
      worker = await spawnWorker(env, { [v.market]: book });
      const started = Date.now();
      const positionBefore = await v.netPosition();
      const kind = CYCLE_KINDS[i % CYCLE_KINDS.length]!;
      const injected = v.emulator.faults.injected;
      const lostBefore = kind === 'lost amend response' ? injected.lostAmendResponses : injected.lostResponses;
      const lostNow = () => (kind === 'lost amend response' ? injected.lostAmendResponses : injected.lostResponses);
      const faultsBefore = { rateLimited: injected.rateLimited, serverErrors: injected.serverErrors };
      const amendsBefore = v.emulator.exchange.counters.amends;
      const lostResponse = kind === 'lost order response' || kind === 'lost amend response';
      let hungAtKill = false;
      // Walk cycles: kill points spread over the walk (by attempt, plus a little into it).
      const normalNo = Math.floor(i / 2);
      const targetAttempt = 1 + ((normalNo * 4) % Math.max(1, expectedFillAttempt - 1));
      const cycle = await crashCycle({
        env,
        client: harness.env.client,
        db: db.db,
        market: v.market,
        positionId: `position/crash/${uniqueName(`kx${i}`)}`,
        book,
        entry: { limitPrice: ask.toFixed(4), size: KALSHI_SIZE },
        killAfterMs: 0,
        worker,
        beforeExit: () =>
          void v.emulator.faults.apply(
            kind === 'lost order response' ? { lose_order_responses: 1, lose_mode: 'hang' }
            : kind === 'lost amend response' ? { lose_amend_responses: 1, lose_mode: 'hang' }
            : kind === '429s and 5xx' ? { rate_limit: 3, server_errors: 2 }
            : {},
          ),
        killWhen: async (handle) => {
          if (lostResponse) {
            // The exit's first order (or the walk's first amendment) is executed at the venue; its response never comes. Kill while it hangs.
            hungAtKill = await until(() => lostNow() > lostBefore, 15_000, 5);
            if (hungAtKill) await sleep(50);
            return;
          }
          await until(async () => {
            const s = await handle.query(positionQuery);
            return s.status !== 'exiting' && s.status !== 'open' ? true : (s.currentExit?.attemptNo ?? 0) >= targetAttempt;
          }, 30_000);
          await sleep((normalNo * 97) % 250);
        },
      });
      worker = cycle.worker;
      const verdict = judge(cycle.result);
      const positionAfter = await v.netPosition();
      const venueChange = positionAfter.minus(positionBefore);
      const dup = await venueDuplicates(db.db, await v.orders(), seen);
      const { lost } = addVenueCycle(totals, { ...cycle.result, lost: verdict.lost, duplicateOrders: verdict.duplicateOrders, venueChange, remaining: cycle.final.remaining, dup, startedMs: started });
      totals.lostResponseKills += kind === 'lost order response' && hungAtKill ? 1 : 0;
      totals.lostAmendKills += kind === 'lost amend response' && hungAtKill ? 1 : 0;
      totals.faultBurstCycles += kind === '429s and 5xx' ? 1 : 0;
      totals.rateLimited += injected.rateLimited - faultsBefore.rateLimited;
      totals.serverErrors += injected.serverErrors - faultsBefore.serverErrors;
      totals.amendsAtVenue += v.emulator.exchange.counters.amends - amendsBefore;
      // A fault the cycle did not use up would hit the next one's entry instead: say so.
      const left = v.emulator.faults.pending();
      const leftover = left.rate_limit + left.server_errors + left.lose_order_responses + left.lose_amend_responses;
      const label = leftover > 0 ? `${kind} (${leftover} fault(s) left pending)` : lostResponse ? (hungAtKill ? kind : `${kind} NOT INJECTED`) : `${kind} (target attempt ${targetAttempt})`;
      process.stderr.write(
        `[${i + 1}/${cycles}] ${label}: book ${bid.toFixed(2)}/${ask.toFixed(2)}; killed at attempt ${cycle.result.killedAtAttempt ?? '-'}; attempts ${cycle.result.attemptNumbers.join(',')}; orders ${cycle.result.ordersSent} (venue ${dup.newOrders}); ` +
          `kestrel remaining ${cycle.final.remaining}, venue change ${venueChange.toFixed(2)}; ${lost ? 'LOST' : 'ok'}${dup.detail.length ? `; ${dup.detail.join('; ')}` : ''}\n`,
      );
    }
  } finally {
    if (worker) await kill(worker);
    await venue?.close();
    await db.close();
    await teardownHarness();
  }
  process.stdout.write(`${JSON.stringify(totals)}\n`);
  return totals.lostPositions === 0 && totals.duplicateOrders === 0 && totals.venueDuplicateOrders === 0 && totals.venuePositionMismatches === 0 ? 0 : 1;
}

async function polymarketEmulator(cycles: number): Promise<number> {
  const harness = await getHarness();
  const db = openDatabase(harness.databaseUrl, { max: 2 });
  try {
    const totals = await runPolymarketCrashCycles({ harness, db: db.db, cycles, log: (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(`${JSON.stringify(totals)}\n`);
    return totals.lostPositions === 0 && totals.duplicateOrders === 0 && totals.venueDuplicateOrders === 0 && totals.venuePositionMismatches === 0 ? 0 : 1;
  } finally {
    await db.close();
    await teardownHarness();
  }
}

main().then((code) => process.exit(code), (err: unknown) => (process.stderr.write(`${String(err)}\n`), process.exit(1)));
