// The crash test's Kalshi mode: the emulator (in the crash-test process, over real HTTP), the
// worker environment that points a stack at it, and the venue-side checks of a cycle.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { orders } from '../../db/schema';
import { Dec } from '../../domain/decimal';
import { startKalshiEmulator, type KalshiEmulator } from '../../venues/kalshi/emulator/server';
import { KalshiRestClient } from '../../venues/kalshi/rest-client';
import { loadKalshiCredentials } from '../../venues/kalshi/signing';
import { GOLD_DATA_DIR } from './kalshi-openapi';

/**
 * A gold market with a wide, deep book at this point of the recording: 0.53 bid / 0.61 ask (8 ticks,
 * ~200 × ~115 contracts at the touch), so a LOW exit walks ~10 attempts before it reaches the bid.
 * The emulator's clock does not move after this (speed 0): the book only changes by our own trades.
 */
export const KALSHI_CRASH_MARKET = 'KXGOLD15M-26AUG050800-00';
const ADVANCE_MS = 280_000;

/** The order book as the crash worker takes it (KESTREL_CRASH_BOOKS): YES bids and NO bids, [price, size] ascending. */
export interface CrashBook {
  yes: [string, string][];
  no: [string, string][];
}

export interface KalshiCrashVenue {
  emulator: KalshiEmulator;
  rest: KalshiRestClient;
  market: string;
  /** Worker environment: execution on Kalshi (the emulator), credentials. */
  workerEnv: Record<string, string>;
  book(): Promise<CrashBook>;
  /** The account's net YES position in the market (NO counts negative). */
  netPosition(): Promise<Dec>;
  /** Every venue order in the market: order id and client order id. */
  orders(): Promise<{ orderId: string; clientOrderId: string }[]>;
  close(): Promise<void>;
}

export async function startKalshiCrashVenue(): Promise<KalshiCrashVenue> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiKeyId = `crash-${randomUUID()}`;
  const emulator = await startKalshiEmulator({ dataDir: GOLD_DATA_DIR, markets: [KALSHI_CRASH_MARKET], speed: 0, accounts: [{ apiKeyId, publicKey }] });
  await emulator.advanceTo(emulator.nowMs() + ADVANCE_MS);
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keyDir = mkdtempSync(path.join(tmpdir(), 'kestrel-crash-kalshi-'));
  const keyFile = path.join(keyDir, 'key.pem');
  writeFileSync(keyFile, pem, { mode: 0o600 });
  const rest = new KalshiRestClient({
    baseUrl: emulator.restUrl,
    credentials: loadKalshiCredentials(apiKeyId, pem),
    clock: { nowMs: () => Date.now() },
    limits: { read: { refillPerSecond: 200, capacity: 200 }, write: { refillPerSecond: 100, capacity: 100 } },
  });
  const market = KALSHI_CRASH_MARKET;
  return {
    emulator,
    rest,
    market,
    workerEnv: {
      KALSHI_API_KEY_ID: apiKeyId,
      KALSHI_PRIVATE_KEY_PATH: keyFile,
      KESTREL__VENUES__EXECUTION: 'kalshi',
      KESTREL__VENUES__KALSHI__ENVIRONMENT: 'emulator',
      KESTREL__VENUES__KALSHI__EMULATOR_PORT: String(emulator.port),
      KESTREL__VENUES__KALSHI__ORDER_POLL_MS: '50',
      KESTREL__VENUES__KALSHI__RECONCILE_EVERY_MS: '0',
    },
    async book() {
      const { orderbook_fp: b } = await rest.orderbook(market);
      return { yes: (b?.yes_dollars ?? []).map(([p, s]) => [p, s]), no: (b?.no_dollars ?? []).map(([p, s]) => [p, s]) };
    },
    async netPosition() {
      let net = new Dec(0);
      for await (const p of rest.positions({ ticker: market })) if (p.ticker === market) net = net.plus(p.position_fp);
      return net;
    },
    async orders() {
      const out: { orderId: string; clientOrderId: string }[] = [];
      for await (const o of rest.orders({ ticker: market })) out.push({ orderId: o.order_id, clientOrderId: o.client_order_id ?? '' });
      return out;
    },
    async close() {
      await emulator.close();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}

/** Best YES bid and ask of a crash book (the ask is 1 − the best NO bid). */
export function bookTop(book: CrashBook): { bid?: Dec; ask?: Dec } {
  const best = (ls: [string, string][]) => ls.reduce<Dec | undefined>((m, [p, s]) => (new Dec(s).gt(0) && (!m || new Dec(p).gt(m)) ? new Dec(p) : m), undefined);
  const bid = best(book.yes);
  const noBid = best(book.no);
  return { bid, ask: noBid && new Dec(1).minus(noBid) };
}

/** What the venue-order check has judged so far (the market is shared by the cycles). */
export interface VenueOrdersSeen {
  orderIds: Set<string>;
  clientOrderIds: Set<string>;
}

/**
 * The venue orders new since the last check, against Postgres: orders whose client order id is
 * already on another venue order, and orders whose client order id Kestrel never recorded.
 */
export async function venueDuplicates(db: Database, venueOrders: { orderId: string; clientOrderId: string }[], seen: VenueOrdersSeen): Promise<{ newOrders: number; sharedClientIds: number; unrecorded: number; detail: string[] }> {
  const fresh = venueOrders.filter((o) => !seen.orderIds.has(o.orderId));
  const detail: string[] = [];
  let sharedClientIds = 0;
  for (const o of fresh) {
    seen.orderIds.add(o.orderId);
    if (seen.clientOrderIds.has(o.clientOrderId)) {
      sharedClientIds++;
      detail.push(`${o.clientOrderId} is on the venue more than once (${venueOrders.filter((v) => v.clientOrderId === o.clientOrderId).map((v) => v.orderId).join(', ')})`);
    }
    seen.clientOrderIds.add(o.clientOrderId);
  }
  const ids = [...new Set(fresh.map((o) => o.clientOrderId))];
  const recorded = new Set(ids.length ? (await db.select({ id: orders.clientOrderId }).from(orders).where(inArray(orders.clientOrderId, ids))).map((r) => r.id) : []);
  const unrecorded = fresh.filter((o) => !recorded.has(o.clientOrderId));
  for (const o of unrecorded) detail.push(`venue order ${o.orderId} (${o.clientOrderId || 'no client order id'}) is not in Postgres`);
  return { newOrders: fresh.length, sharedClientIds, unrecorded: unrecorded.length, detail };
}

/** What every venue crash run counts per cycle (each venue adds its own figures beside these). */
export interface VenueCrashTotals {
  kills: number;
  lostPositions: number;
  duplicateOrders: number;
  venueDuplicateOrders: number;
  venuePositionMismatches: number;
  ordersSent: number;
  venueOrders: number;
  attempts: number;
  killedAtAttempts: (number | null)[];
  exitFilledAtAttempts: (number | null)[];
  secondsPerCycle: number[];
}

/**
 * Adds one killed-and-restarted cycle, judged against the venue, to the run's totals: the position
 * is lost if the workflow lost it or the venue's position moved by other than what Kestrel holds.
 */
export function addVenueCycle(
  totals: VenueCrashTotals,
  cycle: { lost: boolean; duplicateOrders: number; venueChange: Dec; remaining: string; dup: { newOrders: number; sharedClientIds: number; unrecorded: number }; ordersSent: number; attemptsRecorded: number; killedAtAttempt?: number; startedMs: number },
): { lost: boolean; mismatch: boolean } {
  const mismatch = !cycle.venueChange.eq(cycle.remaining);
  const lost = cycle.lost || mismatch;
  totals.kills++;
  totals.lostPositions += lost ? 1 : 0;
  totals.duplicateOrders += cycle.duplicateOrders;
  totals.venueDuplicateOrders += cycle.dup.sharedClientIds + cycle.dup.unrecorded;
  totals.venuePositionMismatches += mismatch ? 1 : 0;
  totals.ordersSent += cycle.ordersSent;
  totals.venueOrders += cycle.dup.newOrders;
  totals.attempts += cycle.attemptsRecorded;
  totals.killedAtAttempts.push(cycle.killedAtAttempt ?? null);
  totals.exitFilledAtAttempts.push(cycle.attemptsRecorded || null);
  totals.secondsPerCycle.push(Math.round((Date.now() - cycle.startedMs) / 100) / 10);
  return { lost, mismatch };
}
