import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { WebSocketServer } from 'ws';
import { BookStore } from '../domain/market-data/book-store';
import type { MarketEvent, UnitEvent } from '../domain/market-data/events';
import type { BinaryOrderBook } from '../domain/market-data/order-book';
import { seededRandom } from '../domain/random';
import { KalshiWsClient } from '../venues/kalshi/ws-client';
import { PolymarketBookSync } from '../venues/polymarket/book-sync';
import { PolymarketMarketDataClient } from '../venues/polymarket/ws-client';
import { listRecordedMarkets, readRecording, recordedFiles } from '../venues/replay/gold-feed';
import { KalshiBookReplayer } from '../venues/replay/kalshi-book-replay';
import { replayKalshiRecording } from '../venues/replay/replay-source';
import { BatchApplier } from '../workers/market-data/book-worker';

/*
 * Fuzzed feed: real recorded messages (Kalshi gold WebSocket capture, Polymarket market-channel
 * samples), mutated with a seeded generator, through every parse/apply path: the live Kalshi
 * WebSocket client over a local socket, the recorded-feed source into the book worker's batch
 * apply (each batch interrupted half-way and retried), the Kalshi book replayer, the Polymarket
 * book sync and the domain book apply.
 *
 * Whether a message is valid, and what each book must then be, is decided by an oracle written
 * here from the venue specs (asyncapi-2026-03, the Polymarket market channel) and the book rules
 * (domain/market-data/order-book.ts), with its own decimal parser: it never calls the code under
 * test. Figures:
 * - exceptions: anything thrown out of a path, or caught by a last-resort handler (a socket
 *   listener's catch-all, an uncaught exception or rejection);
 * - acceptedInvalid: events a path applied that the oracle says must not be (invalid, crossed,
 *   duplicate or backward seq, or applied to a book that had to be stale);
 * - crossedBooks: books not stale but crossed at a checkpoint;
 * - halfAppliedBooks: books that at a checkpoint differ from the oracle's (levels, or fresh when
 *   they must be stale), including after a batch was interrupted and retried, or followed a gap.
 */

const ONE = 10_000;
const MAX_TICKER = 100;
const MAX_MARKET_ID = 200;
const MAX_TRADE_ID = 400;
/** A fresh snapshot (of the clean stream's book) every this many messages: books re-base, and are compared just before. */
const CHECKPOINT_EVERY = 12;

// ---------------------------------------------------------------------------------------------
// Oracle: decimal text, books, Kalshi and Polymarket message rules.

/** Fixed-point text → integer units (`decimals` places), or undefined when the text is not one. */
function units(text: unknown, decimals: number): number | undefined {
  if (typeof text !== 'string' || text.length > 40) return undefined;
  const m = /^\s*(-?)(\d+)(?:\.(\d*))?\s*$/.exec(text);
  if (!m) return undefined;
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  if (fraction.length > decimals) return undefined;
  const value = Number(m[2]) * 10 ** decimals + Number(fraction.padEnd(decimals, '0') || '0');
  if (!Number.isSafeInteger(value)) return undefined;
  return m[1] === '-' ? -value : value;
}
const priceOf = (text: unknown) => {
  const p = units(text, 4);
  return p !== undefined && p > 0 && p < ONE ? p : undefined;
};
const sizeOf = (text: unknown) => units(text, 6);
const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);
const isString = (v: unknown) => typeof v === 'string';

type Side = 'yes' | 'no';
type OracleLevels = Map<number, number>;

/** The book rules, independently: snapshots replace (unless crossed), deltas add, crossing judged per exchange ms. */
class OracleBook {
  yes: OracleLevels = new Map();
  no: OracleLevels = new Map();
  stale = true;
  private openMs: number | undefined;
  private before: { yes: OracleLevels; no: OracleLevels } | undefined;

  private static crossed(yes: OracleLevels, no: OracleLevels): boolean {
    let bestYes = 0;
    let bestNo = 0;
    for (const [p, s] of yes) if (s > 0 && p > bestYes) bestYes = p;
    for (const [p, s] of no) if (s > 0 && p > bestNo) bestNo = p;
    return bestYes > 0 && bestNo > 0 && bestYes + bestNo >= ONE;
  }

  markStale(): void {
    this.stale = true;
    this.openMs = undefined;
  }

  snapshot(yes: [number, number][], no: [number, number][]): boolean {
    const build = (levels: [number, number][]) => {
      const m: OracleLevels = new Map();
      for (const [p, s] of levels) if (s + (m.get(p) ?? 0) > 0) m.set(p, s + (m.get(p) ?? 0));
      return m;
    };
    const y = build(yes);
    const n = build(no);
    if (OracleBook.crossed(y, n)) {
      this.markStale();
      return false;
    }
    this.yes = y;
    this.no = n;
    this.stale = false;
    this.openMs = undefined;
    return true;
  }

  /** Closes the open ms: a book left crossed is rolled back to before it and goes stale. */
  settle(): boolean {
    if (this.openMs === undefined) return !this.stale;
    if (OracleBook.crossed(this.yes, this.no)) {
      this.yes = this.before!.yes;
      this.no = this.before!.no;
      this.markStale();
      return false;
    }
    this.openMs = undefined;
    return true;
  }

  /** `absolute`: a level's new size (Polymarket); otherwise a signed change (Kalshi). */
  change(side: Side, price: number, amount: number, ts: number, absolute: boolean): boolean {
    if (this.stale) return false;
    if (this.openMs !== ts) {
      if (!this.settle()) return false;
      this.openMs = ts;
      this.before = { yes: new Map(this.yes), no: new Map(this.no) };
    }
    const ladder = side === 'yes' ? this.yes : this.no;
    const next = absolute ? amount : (ladder.get(price) ?? 0) + amount;
    if (next < 0 || !Number.isSafeInteger(next)) {
      this.markStale();
      return false;
    }
    if (next === 0) ladder.delete(price);
    else ladder.set(price, next);
    return true;
  }

  digest(): string {
    if (this.stale) return 'stale';
    const text = (m: OracleLevels) => [...m].sort((a, b) => b[0] - a[0]).map(([p, s]) => `${p}:${s}`).join(',');
    return `${text(this.yes)}|${text(this.no)}`;
  }
}

function pathDigest(book: BinaryOrderBook): string {
  book.settle();
  if (book.stale) return 'stale';
  const text = (side: Side) => book.levels(side).map((l) => `${l.price}:${l.size}`).join(',');
  return `${text('yes')}|${text('no')}`;
}

function pathCrossed(book: BinaryOrderBook): boolean {
  const top = book.top();
  return !book.stale && top.yesBid !== undefined && top.yesAsk !== undefined && top.yesBid.price >= top.yesAsk.price;
}

/** What a path must apply, as a comparable signature. */
type Expected = string;

interface KalshiBody {
  kind: 'snapshot' | 'delta' | 'trade';
  market: string;
  yes?: [number, number][];
  no?: [number, number][];
  side?: Side;
  price?: number;
  amount?: number;
  ts: number;
  signature: Expected;
}

/** A Kalshi book or trade message body by the spec (fixed-point strings), or the reason it is not one. */
function kalshiBody(type: string, msg: unknown, fallbackTs: number): KalshiBody | string {
  if (!isObject(msg)) return 'msg is not an object';
  const market = msg.market_ticker;
  if (typeof market !== 'string' || market.length === 0 || market.length > MAX_TICKER) return 'bad market_ticker';
  if (type === 'orderbook_snapshot') {
    if (!optional(msg.market_id, isString)) return 'bad market_id';
    const side = (levels: unknown): [number, number][] | string => {
      if (levels === undefined) return [];
      if (!Array.isArray(levels)) return 'levels not a list';
      const out: [number, number][] = [];
      for (const l of levels as unknown[]) {
        if (!Array.isArray(l) || l.length !== 2) return 'level not a pair';
        const p = priceOf(l[0]);
        const s = sizeOf(l[1]);
        if (p === undefined || s === undefined || s < 0) return 'bad level';
        out.push([p, s]);
      }
      return out;
    };
    const yes = side(msg.yes_dollars_fp);
    const no = side(msg.no_dollars_fp);
    if (typeof yes === 'string' || typeof no === 'string') return 'bad snapshot levels';
    return { kind: 'snapshot', market, yes, no, ts: fallbackTs, signature: `S|${market}|${JSON.stringify(yes)}|${JSON.stringify(no)}` };
  }
  if (type === 'orderbook_delta') {
    const price = priceOf(msg.price_dollars);
    const amount = sizeOf(msg.delta_fp);
    const side = msg.side;
    if (!optional(msg.market_id, isString) || price === undefined || amount === undefined || (side !== 'yes' && side !== 'no') || !optional(msg.ts_ms, isNat)) return 'bad delta';
    const ts = (msg.ts_ms as number | undefined) ?? fallbackTs;
    return { kind: 'delta', market, side, price, amount, ts, signature: `D|${market}|${side}|${price}|${amount}|${ts}` };
  }
  const id = msg.trade_id;
  const price = priceOf(msg.yes_price_dollars);
  const count = sizeOf(msg.count_fp);
  const taker = msg.taker_side;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_TRADE_ID) return 'bad trade id';
  if (price === undefined || count === undefined || count <= 0 || (taker !== 'yes' && taker !== 'no')) return 'bad trade';
  if (!optional(msg.no_price_dollars, (v) => priceOf(v) !== undefined)) return 'bad no price';
  if (!optional(msg.ts, (v) => typeof v === 'number' && Number.isSafeInteger(v)) || !optional(msg.ts_ms, isNat)) return 'bad trade time';
  const ts = (msg.ts_ms as number | undefined) ?? (msg.ts !== undefined ? (msg.ts as number) * 1000 : fallbackTs);
  if (!isNat(ts)) return 'bad trade time';
  return { kind: 'trade', market, price, amount: count, ts, signature: `T|${market}|${id}|${price}|${count}|${taker}|${ts}` };
}

/**
 * The Kalshi feed rules: live (one connection; a seq gap or regression on the book channel stales
 * every book and restarts numbering; a refused book message stales its market) or recorded (one
 * market's capture, where forward jumps are expected and a lower-numbered snapshot is the
 * recorder's reconnect).
 */
class KalshiOracle {
  readonly books = new Map<string, OracleBook>();
  private lastBySid = new Map<number, number>();
  readonly expected: Expected[] = [];

  constructor(
    private readonly mode: 'live' | 'recorded',
    private readonly followed: ReadonlySet<string>,
    private readonly bookSid = 1,
  ) {}

  book(m: string): OracleBook {
    let b = this.books.get(m);
    if (!b) this.books.set(m, (b = new OracleBook()));
    return b;
  }

  newStream(): void {
    this.lastBySid.clear();
    for (const b of this.books.values()) b.markStale();
  }

  private staleIfBook(type: unknown, msg: unknown): void {
    if (type !== 'orderbook_snapshot' && type !== 'orderbook_delta') return;
    const m = isObject(msg) ? msg.market_ticker : undefined;
    if (typeof m !== 'string' || m.length === 0 || m.length > MAX_TICKER) return;
    if (this.mode === 'live' && !this.followed.has(m)) return;
    this.book(m).markStale();
  }

  /** One frame (its text for live, its parsed line for recorded); `fallbackTs` stamps what has no exchange time. */
  observe(frame: unknown, fallbackTs: number): void {
    if (!isObject(frame) || typeof frame.type !== 'string') return;
    const { type, sid, seq, msg } = frame;
    const isBook = type === 'orderbook_snapshot' || type === 'orderbook_delta';
    if (this.mode === 'recorded') {
      // The recording's line schema: sid/seq integers if present, msg present.
      if (!optional(sid, (v) => typeof v === 'number' && Number.isSafeInteger(v)) || !optional(seq, (v) => typeof v === 'number' && Number.isSafeInteger(v))) return this.staleIfBook(type, msg);
    } else if (!optional(sid, isNat) || !optional(seq, isNat)) return this.staleIfBook(type, msg);
    if (isBook && (sid === undefined || seq === undefined)) return this.staleIfBook(type, msg);
    if (sid !== undefined && seq !== undefined) {
      const s = sid as number;
      const q = seq as number;
      const last = this.lastBySid.get(s);
      if (last !== undefined && q > last + 1 && this.mode === 'live') {
        // Gap: the book channel's markets are resynced; numbering restarts.
        this.lastBySid.delete(s);
        if (s === this.bookSid) for (const m of this.followed) this.book(m).markStale();
        return;
      }
      if (last !== undefined && q <= last && !(type === 'orderbook_snapshot')) {
        if (q < last && this.mode === 'live') {
          this.lastBySid.delete(s);
          if (s === this.bookSid) for (const m of this.followed) this.book(m).markStale();
        }
        return;
      }
      if (last !== undefined && q <= last && this.mode === 'recorded') this.lastBySid.clear();
      this.lastBySid.set(s, q);
    }
    if (!isBook && type !== 'trade') return;
    if (this.mode === 'recorded' && msg === undefined) return this.staleIfBook(type, msg);
    const body = kalshiBody(type, msg, fallbackTs);
    if (typeof body === 'string') return this.staleIfBook(type, msg);
    this.apply(body);
  }

  private apply(body: KalshiBody): void {
    if (body.kind === 'trade') {
      this.expected.push(body.signature);
      return;
    }
    const book = this.book(body.market);
    const ok = body.kind === 'snapshot' ? book.snapshot(body.yes!, body.no!) : book.change(body.side!, body.price!, body.amount!, body.ts, false);
    if (ok) this.expected.push(body.signature);
  }
}

/** Signature of an event a path applied, in the oracle's terms. */
function eventSignature(e: MarketEvent | UnitEvent, inUnits: boolean): Expected {
  const p = (v: unknown) => (inUnits ? (v as number) : units(v, 4));
  const s = (v: unknown) => (inUnits ? (v as number) : units(v, 6));
  switch (e.t) {
    case 'snapshot': {
      const levels = (ls: unknown[]) => JSON.stringify(ls.map((l) => (inUnits ? [(l as { price: number }).price, (l as { size: number }).size] : [p((l as string[])[0]), s((l as string[])[1])])));
      return `S|${e.m}|${levels(e.yes)}|${levels(e.no)}`;
    }
    case 'delta':
      return `D|${e.m}|${e.side}|${p(e.price)}|${s(e.delta)}|${e.ts}`;
    case 'level':
      return `L|${e.m}|${e.side}|${p(e.price)}|${s(e.size)}|${e.ts}`;
    case 'trade':
      return `T|${e.m}|${e.id}|${p('yesPrice' in e ? e.yesPrice : e.price)}|${s(e.count)}|${e.takerSide}|${e.ts}`;
    default:
      return `X|${e.m}`;
  }
}

/** Applied events not in the oracle's list (in order; the oracle's own may be skipped, never invented). */
function countUnexpected(applied: readonly Expected[], expected: readonly Expected[]): { unexpected: number; missed: number; examples: string[] } {
  const positions = new Map<Expected, number[]>();
  expected.forEach((sig, i) => {
    let list = positions.get(sig);
    if (!list) positions.set(sig, (list = []));
    list.push(i);
  });
  let j = 0;
  let unexpected = 0;
  const examples: string[] = [];
  for (const sig of applied) {
    // The oracle's events may be skipped (refused by the path: reported, not unsafe) but only a
    // little way ahead: a match far off is a repeated message, and jumping to it would hide the rest.
    const next = positions.get(sig)?.find((i) => i >= j);
    if (next === undefined || next - j > 200) {
      unexpected++;
      if (examples.length < 5) examples.push(sig.slice(0, 200));
      continue;
    }
    j = next + 1;
  }
  return { unexpected, missed: expected.length - (applied.length - unexpected), examples };
}

// ---------------------------------------------------------------------------------------------
// Corpus: real messages, mutated.

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const WRONG_TYPES: unknown[] = [42, -1, 'abc', null, true, [], {}, ['0.5000', '1.00'], { a: 1 }];
const BAD_NUMBER_TEXT = ['NaN', 'Infinity', '-Infinity', '1e309', '1e3', '-5.00', '99999999999999999999.00', '0x10', '', ' ', '0.5.5', '--1', '1,5'];
const BAD_NUMBERS: unknown[] = [-1, -1786398369379, 1e300, 1.5, 2 ** 53, Number.MAX_VALUE, 0.1];
const PRICES_OUTSIDE = ['1.5', '0', '1', '1.0000', '-0.1', '0.0000', '2', '100', '-0.0001', '1.0001'];
const LONG_DECIMALS = ['0.12345', '0.123456789', '0.00001', '0.99999', '0.50000001', '0.1234567890123456789'];
const PROTO_TYPES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
const SIZE_BAD = ['-1.00', '-0.01', '1.1234567', 'NaN', '1e9', '99999999999999999999'];

/** One message of a corpus: the object to send (or raw text, for truncated JSON) and how its seq is set. */
interface CorpusItem {
  frame: Record<string, unknown> | string;
  /** seq handling at serialisation: keep the stream's, repeat the previous, go back `back`. */
  seq: 'stream' | 'dup' | 'back' | 'asIs';
  back?: number;
  recvMs: number;
  mutation?: string;
  /** Inserted fresh snapshot: the checkpoint before it is compared. */
  checkpoint?: boolean;
}

function mutateKalshi(random: Random, original: Record<string, unknown>): { item: Omit<CorpusItem, 'recvMs'> } {
  const frame = clone(original);
  const msg = isObject(frame.msg) ? frame.msg : {};
  const keys = Object.keys(msg);
  const priceKeys = keys.filter((k) => k.endsWith('price_dollars'));
  const kinds = ['drop', 'wrongType', 'badNumber', 'priceOutside', 'longDecimal', 'protoType', 'truncate', 'dupSeq', 'backSeq', 'crossed', 'longTicker', 'badSize', 'badLevel', 'badTs', 'badSeqType', 'dropEnvelope'] as const;
  const kind = pick(random, kinds);
  switch (kind) {
    case 'drop':
      if (keys.length) delete msg[pick(random, keys)];
      break;
    case 'dropEnvelope':
      delete frame[pick(random, ['type', 'sid', 'seq', 'msg'])];
      break;
    case 'wrongType':
      if (keys.length) msg[pick(random, keys)] = pick(random, WRONG_TYPES);
      break;
    case 'badNumber': {
      const numeric = keys.filter((k) => k.endsWith('_fp') || k.endsWith('_dollars'));
      if (numeric.length) msg[pick(random, numeric)] = pick(random, BAD_NUMBER_TEXT);
      else if (Array.isArray(msg.yes_dollars_fp) && msg.yes_dollars_fp.length) (msg.yes_dollars_fp as unknown[][])[0]![0] = pick(random, BAD_NUMBER_TEXT);
      break;
    }
    case 'priceOutside':
    case 'longDecimal': {
      const value = pick(random, kind === 'priceOutside' ? PRICES_OUTSIDE : LONG_DECIMALS);
      if (priceKeys.length) msg[pick(random, priceKeys)] = value;
      else {
        const side = pick(random, ['yes_dollars_fp', 'no_dollars_fp']);
        const levels = Array.isArray(msg[side]) ? (msg[side] as unknown[][]) : [];
        if (levels.length) levels[Math.floor(random() * levels.length)]![0] = value;
        else msg[side] = [[value, '1.00']];
      }
      break;
    }
    case 'protoType':
      frame.type = pick(random, PROTO_TYPES);
      break;
    case 'truncate': {
      const text = JSON.stringify(frame);
      return { item: { frame: text.slice(0, Math.max(1, Math.floor(random() * (text.length - 1)))), seq: 'asIs', mutation: kind } };
    }
    case 'dupSeq':
      return { item: { frame, seq: 'dup', mutation: kind } };
    case 'backSeq':
      return { item: { frame, seq: 'back', back: 1 + Math.floor(random() * 5), mutation: kind } };
    case 'crossed': {
      // A snapshot whose best YES bid meets the best YES ask.
      const no = Array.isArray(msg.no_dollars_fp) ? (msg.no_dollars_fp as string[][]) : [];
      const noBest = no.reduce((best, l) => Math.max(best, priceOf(l[0]) ?? 0), 0) || 4000;
      frame.type = 'orderbook_snapshot';
      frame.msg = { market_ticker: msg.market_ticker, yes_dollars_fp: [[((ONE - noBest + Math.floor(random() * 3) * 100) / ONE).toFixed(4), '5.00']], no_dollars_fp: no.length ? no : [['0.4000', '5.00']] };
      if (ONE - noBest + 200 >= ONE) (frame.msg as Record<string, unknown>).yes_dollars_fp = [['0.9900', '5.00']];
      break;
    }
    case 'longTicker':
      msg.market_ticker = random() < 0.5 ? 'K'.repeat(100_000) : 'K'.repeat(MAX_TICKER + 1);
      break;
    case 'badSize': {
      const sizeKeys = keys.filter((k) => k.endsWith('_fp') && !Array.isArray(msg[k]));
      if (sizeKeys.length) msg[pick(random, sizeKeys)] = pick(random, SIZE_BAD);
      else if (Array.isArray(msg.yes_dollars_fp) && msg.yes_dollars_fp.length) (msg.yes_dollars_fp as unknown[][])[0]![1] = pick(random, SIZE_BAD);
      else msg.no_dollars_fp = [['0.3000', '-5.00']];
      break;
    }
    case 'badLevel': {
      const side = pick(random, ['yes_dollars_fp', 'no_dollars_fp']);
      msg[side] = pick(random, [[['0.5000']], [['0.5000', '1.00', 'x']], ['0.5000'], [null], [[0.5, 1]], 'levels']);
      if (frame.type !== 'orderbook_snapshot') msg.price_dollars = pick(random, [['0.5000'], { v: 1 }]);
      break;
    }
    case 'badTs':
      msg.ts_ms = pick(random, BAD_NUMBERS);
      if (frame.type === 'trade' && random() < 0.5) {
        delete msg.ts_ms;
        msg.ts = pick(random, [-5, 1.5, 'soon', 1e300]);
      }
      break;
    case 'badSeqType':
      frame[pick(random, ['seq', 'sid'])] = pick(random, ['7', -3, 1.5, null, 1e300]);
      return { item: { frame, seq: 'asIs', mutation: kind } };
  }
  return { item: { frame, seq: 'stream', mutation: kind } };
}

async function loadKalshiCorpus(dataDir: string, random: Random, opts: { markets: number; perMarket: number; mutationRate: number }): Promise<{ markets: string[]; streams: CorpusItem[][]; mutations: number }> {
  const markets = listRecordedMarkets(dataDir).slice(0, opts.markets);
  const streams: CorpusItem[][] = [];
  let mutations = 0;
  for (const market of markets) {
    const stream: CorpusItem[] = [];
    // The clean stream's books (oracle rules), for fresh snapshots inserted at checkpoints.
    const truth = new KalshiOracle('recorded', new Set([market]));
    let sinceCheckpoint = 0;
    for (const file of recordedFiles(dataDir, market)) {
      for await (const rec of readRecording(file)) {
        if (stream.length >= opts.perMarket) break;
        const frame = rec.event as unknown as Record<string, unknown>;
        if (++sinceCheckpoint >= CHECKPOINT_EVERY) {
          sinceCheckpoint = 0;
          const book = truth.book(market);
          book.settle();
          if (!book.stale) {
            const level = ([p, s]: [number, number]) => [(p / ONE).toFixed(4), (s / 1e6).toFixed(6)];
            const snapshot = { type: 'orderbook_snapshot', sid: frame.sid, seq: frame.seq, msg: { market_ticker: market, yes_dollars_fp: [...book.yes].map(level), no_dollars_fp: [...book.no].map(level) } };
            stream.push({ frame: snapshot, seq: 'stream', recvMs: rec.recvMs, checkpoint: true });
          }
        }
        truth.observe(frame, rec.recvMs);
        if (random() < opts.mutationRate) {
          const { item } = mutateKalshi(random, frame);
          stream.push({ ...item, recvMs: rec.recvMs });
          mutations++;
        } else stream.push({ frame, seq: 'stream', recvMs: rec.recvMs });
      }
    }
    streams.push(stream);
  }
  return { markets, streams, mutations };
}

/** Frames with seq set for one numbering: live (consecutive per sid) or recorded (as captured). */
function numbered(stream: readonly CorpusItem[], mode: 'live' | 'recorded', counters: Map<number, number>): { frame: unknown; text: string; recvMs: number; checkpoint: boolean }[] {
  const out: { frame: unknown; text: string; recvMs: number; checkpoint: boolean }[] = [];
  for (const item of stream) {
    if (typeof item.frame === 'string') {
      out.push({ frame: undefined, text: item.frame, recvMs: item.recvMs, checkpoint: false });
      continue;
    }
    const frame = { ...item.frame };
    // Live: the local server's subscription puts the book channel on sid 1 and trades on sid 2.
    if (mode === 'live' && typeof frame.sid === 'number') frame.sid = frame.type === 'trade' ? 2 : frame.type === 'orderbook_snapshot' || frame.type === 'orderbook_delta' ? 1 : frame.sid;
    const sid = frame.sid;
    if (item.seq !== 'asIs' && typeof sid === 'number' && typeof frame.seq === 'number') {
      const last = counters.get(sid);
      if (mode === 'live') {
        const next = (last ?? 0) + 1;
        if (item.seq === 'stream') {
          frame.seq = next;
          counters.set(sid, next);
        } else frame.seq = Math.max(0, (last ?? 1) - (item.seq === 'dup' ? 0 : item.back!));
      } else {
        // Recorded: captured numbers kept; an inserted snapshot repeats the last (the recorder's
        // resubscribe), a duplicate repeats it too, a backward one goes below it.
        if ((item.checkpoint || item.seq === 'dup') && last !== undefined) frame.seq = last;
        if (item.seq === 'back' && last !== undefined) frame.seq = Math.max(0, last - item.back!);
        if (item.seq === 'stream') counters.set(sid, frame.seq as number);
      }
    }
    out.push({ frame, text: JSON.stringify(frame), recvMs: item.recvMs, checkpoint: item.checkpoint ?? false });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Figures.

interface Figures {
  messages: number;
  exceptions: number;
  acceptedInvalid: number;
  crossedBooks: number;
  halfAppliedBooks: number;
}

class Tally {
  readonly figures: Figures = { messages: 0, exceptions: 0, acceptedInvalid: 0, crossedBooks: 0, halfAppliedBooks: 0 };
  readonly notes: string[] = [];

  constructor(private readonly log: (line: string) => void) {}

  exception(where: string, err: unknown): void {
    this.figures.exceptions++;
    if (this.notes.length < 40) this.notes.push(`exception in ${where}: ${(err as Error)?.message ?? String(err)}`);
  }

  /** Compares a path's books with the oracle's at a checkpoint. */
  compare(where: string, oracle: ReadonlyMap<string, OracleBook>, book: (m: string) => BinaryOrderBook | undefined): void {
    for (const [market, expected] of oracle) {
      expected.settle();
      const actual = book(market);
      const want = expected.digest();
      const got = actual ? pathDigest(actual) : 'stale';
      if (actual && pathCrossed(actual)) this.figures.crossedBooks++;
      if (want === got) continue;
      if (want !== 'stale' && got === 'stale') {
        // Refusing more than the oracle is not unsafe, but it is reported.
        if (this.notes.length < 40) this.notes.push(`${where}: ${market} stale, oracle has it fresh`);
        continue;
      }
      this.figures.halfAppliedBooks++;
      if (this.notes.length < 40) this.notes.push(`${where}: ${market} differs from the oracle (${got.slice(0, 120)} vs ${want.slice(0, 120)})`);
    }
  }

  unexpected(where: string, applied: readonly Expected[], expected: readonly Expected[]): void {
    const { unexpected, missed, examples } = countUnexpected(applied, expected);
    this.figures.acceptedInvalid += unexpected;
    this.log(`  ${where}: ${applied.length} applied, ${expected.length} expected, ${unexpected} not expected${examples.length ? ` (${examples.join('; ')})` : ''}, ${missed} expected but not applied`);
  }
}

// ---------------------------------------------------------------------------------------------
// Paths.

/** The live Kalshi WebSocket client over a local socket, into a book store. */
async function kalshiLivePath(markets: string[], streams: CorpusItem[][], tally: Tally, log: (line: string) => void): Promise<void> {
  const frames = numbered(streams.flat(), 'live', new Map());
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let send: (text: string) => void = () => {};
  server.on('connection', (ws) => {
    send = (text) => ws.send(text);
    ws.on('message', (data) => {
      const cmd = JSON.parse(data.toString()) as { id: number; cmd: string; params: { channels?: string[] } };
      // Book channel on sid 1, trades on sid 2; a get_snapshot is acknowledged (the corpus carries the snapshots).
      if (cmd.cmd === 'subscribe') cmd.params.channels!.forEach((channel, i) => ws.send(JSON.stringify({ id: cmd.id, type: 'subscribed', msg: { channel, sid: i + 1 } })));
      else ws.send(JSON.stringify({ id: cmd.id, type: 'ok', msg: {} }));
    });
  });
  const store = new BookStore({ historyCapacity: 4, sampleMs: 60_000 });
  const applied: Expected[] = [];
  let marker: (() => void) | undefined;
  const client = new KalshiWsClient({
    url,
    clock: { nowMs: () => 0 },
    onEvent: (event) => {
      const unit = toUnitsForBench(event);
      const outcome = store.applyAll([unit]);
      if (outcome.applied === 1) applied.push(eventSignature(unit, true));
    },
    onStale: (ms, reason) => void store.applyAll(ms.map((m) => ({ t: 'stale' as const, m, ts: 0, reason: reason.slice(0, 500) }))),
    onOther: (message) => {
      if (message.type === 'other' && message.channel === 'fuzz_marker') marker?.();
    },
    onMalformed: (_raw, error) => {
      if (error.startsWith('handling the frame failed')) tally.exception('kalshi live listener', new Error(error));
    },
    log: () => {},
    heartbeatTimeoutMs: 600_000,
  });
  const oracle = new KalshiOracle('live', new Set(markets));
  try {
    await client.connect();
    await client.subscribe(['orderbook_delta', 'trade'], markets);
    const flush = async () => {
      const done = new Promise<void>((r) => (marker = r));
      send(JSON.stringify({ type: 'fuzz_marker', msg: {} }));
      await done;
    };
    for (const f of frames) {
      if (f.checkpoint) {
        await flush();
        tally.compare('kalshi live', oracle.books, (m) => store.markets.get(m)?.book);
      }
      send(f.text);
      let parsed: unknown;
      try {
        parsed = JSON.parse(f.text);
      } catch {
        parsed = undefined;
      }
      oracle.observe(parsed, 0);
      tally.figures.messages++;
    }
    await flush();
    tally.compare('kalshi live', oracle.books, (m) => store.markets.get(m)?.book);
    tally.unexpected('kalshi live', applied, oracle.expected);
    log(`  kalshi live: client counters ${JSON.stringify(client.counters)}`);
  } finally {
    await client.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Converts a parsed event to units; a throw here is a parser that let through what `toUnits` cannot take. */
function toUnitsForBench(event: MarketEvent): UnitEvent {
  const level = (l: [string, string]) => ({ price: mustUnits(l[0], 4), size: mustUnits(l[1], 6) });
  switch (event.t) {
    case 'snapshot':
      return { t: 'snapshot', m: event.m, ts: event.ts, yes: event.yes.map(level), no: event.no.map(level) };
    case 'delta':
      return { t: 'delta', m: event.m, ts: event.ts, side: event.side, price: mustUnits(event.price, 4), delta: mustUnits(event.delta, 6) };
    case 'level':
      return { t: 'level', m: event.m, ts: event.ts, side: event.side, price: mustUnits(event.price, 4), size: mustUnits(event.size, 6) };
    case 'trade':
      return { t: 'trade', m: event.m, ts: event.ts, id: event.id, price: mustUnits(event.yesPrice, 4), count: mustUnits(event.count, 6), takerSide: event.takerSide };
    case 'stale':
      return event;
  }
}
function mustUnits(text: string, decimals: number): number {
  const u = units(text, decimals);
  if (u === undefined) throw new Error(`parser let through ${JSON.stringify(text).slice(0, 80)}`);
  return u;
}

/** Writes each market's corpus as a recording (one file per market) for the recorded paths. */
function writeRecordings(dir: string, markets: string[], streams: CorpusItem[][]): Map<string, ReturnType<typeof numbered>> {
  const byMarket = new Map<string, ReturnType<typeof numbered>>();
  markets.forEach((market, i) => {
    const frames = numbered(streams[i]!, 'recorded', new Map());
    byMarket.set(market, frames);
    mkdirSync(path.join(dir, 'events', market), { recursive: true });
    const lines = frames.map((f) => (f.frame === undefined ? `{"recv_ms":${f.recvMs},"event":${f.text}` : JSON.stringify({ recv_ms: f.recvMs, event: f.frame })));
    writeFileSync(path.join(dir, 'events', market, '2026-01-01.ndjson.gz'), gzipSync(`${lines.join('\n')}\n`));
  });
  return byMarket;
}

/** The recorded-feed source (paper session, stack replay) into the book worker's batch apply: every batch interrupted half-way and retried. */
async function recordedIngestPath(dir: string, markets: string[], byMarket: Map<string, ReturnType<typeof numbered>>, random: Random, tally: Tally, log: (line: string) => void): Promise<void> {
  const store = new BookStore({ historyCapacity: 4, sampleMs: 60_000 });
  const applier = new BatchApplier(store);
  const stream = { source: 'fuzz', partition: 0 };
  let batchSeq = 0;
  let compared = 0;
  const applied: Expected[] = [];
  const expectedAll: Expected[] = [];
  for (const market of markets) {
    const frames = byMarket.get(market)!;
    const oracle = new KalshiOracle('recorded', new Set([market]));
    oracle.newStream();
    // Oracle digests at each checkpoint (the message before each inserted snapshot), in order.
    const digests: Map<string, string>[] = [];
    for (const f of frames) {
      if (f.checkpoint) digests.push(new Map([...oracle.books].map(([m, b]) => (b.settle(), [m, b.digest()]))));
      let parsed: unknown;
      try {
        parsed = JSON.parse(f.text);
      } catch {
        parsed = undefined;
      }
      oracle.observe(parsed, f.recvMs);
      tally.figures.messages++;
    }
    digests.push(new Map([...oracle.books].map(([m, b]) => (b.settle(), [m, b.digest()]))));
    expectedAll.push(...oracle.expected);

    // Batches are cut before each inserted snapshot, so each checkpoint falls between batches.
    let pending: unknown[] = [];
    let checkpoint = 0;
    const flush = () => {
      if (pending.length === 0) return;
      // The wire form a batch crosses Redis in, plus a garbage event now and then.
      const events = JSON.parse(JSON.stringify(pending)) as unknown[];
      if (random() < 0.3) events.splice(Math.floor(random() * events.length), 0, pick(random, GARBAGE_EVENTS));
      pending = [];
      const batch = { ...stream, batchSeq: batchSeq++, events };
      try {
        const cut = Math.floor(random() * events.length);
        const first = applier.apply({ ...batch, events: events.slice(0, cut) }, 0);
        const retry = applier.apply(batch, 0);
        const refused = new Set([...first.outcome.refused, ...retry.outcome.refused].map((r) => r.index));
        retry.units.forEach((u, i) => u.t !== 'stale' && u.m !== GARBAGE_MARKET && !refused.has(i) && applied.push(eventSignature(u, true)));
        retry.units.forEach((u, i) => u.t !== 'stale' && u.m === GARBAGE_MARKET && !refused.has(i) && tally.figures.acceptedInvalid++);
      } catch (err) {
        tally.exception('batch apply', err);
      }
    };
    let inserted = 0;
    try {
      await replayKalshiRecording({
        dataDir: dir,
        markets: [market],
        pace: { kind: 'fast' },
        emit: async (event) => {
          if (event.t === 'snapshot' && isInsertedSnapshot(frames, event, inserted)) {
            flush();
            tally.compare('recorded ingest', new Map([...digests[checkpoint++]!].map(([m, d]) => [m, digestBook(d)])), (m) => store.markets.get(m)?.book);
            inserted++;
          }
          pending.push(event);
          if (pending.length >= 500) flush();
        },
      });
    } catch (err) {
      tally.exception('recorded source', err);
    }
    flush();
    tally.compare('recorded ingest', new Map([...digests[digests.length - 1]!].map(([m, d]) => [m, digestBook(d)])), (m) => store.markets.get(m)?.book);
    compared += checkpoint;
  }
  log(`  recorded ingest: ${compared} checkpoints compared, ${batchSeq} batches (each interrupted and retried)`);
  tally.unexpected('recorded ingest (applied)', applied, expectedAll);

  // A gap in batch numbers: every book the stream fed goes stale until a snapshot re-bases it.
  const market = markets[0]!;
  const snapshot = (m: string) => ({ t: 'snapshot', m, ts: 1, yes: [['0.4000', '1.00']], no: [['0.5000', '1.00']] });
  applier.apply({ ...stream, batchSeq: batchSeq++, events: markets.map(snapshot) }, 0);
  const fresh = [...store.markets].filter(([, s]) => !s.book.stale && s.appliedStream === 'fuzz:0').map(([m]) => m);
  applier.apply({ ...stream, batchSeq: batchSeq + 1, events: [{ t: 'delta', m: market, ts: 2, side: 'yes', price: '0.4000', delta: '1.00' }] }, 0);
  for (const m of fresh) if (!store.state(m).book.stale) tally.figures.halfAppliedBooks++;
  applier.apply({ ...stream, batchSeq: batchSeq + 2, events: [snapshot(market)] }, 0);
  if (store.state(market).book.stale) tally.notes.push('a snapshot after a gap did not re-base its book');
  log(`  gap in batch numbers: ${fresh.length} fresh book(s) before, all stale after: ${fresh.every((m) => m === market || store.state(m).book.stale)}`);
}

const GARBAGE_MARKET = 'FUZZ-GARBAGE';
const GARBAGE_EVENTS: unknown[] = [
  { t: 'delta', m: GARBAGE_MARKET, ts: 1, side: 'up', price: '0.5', delta: '1' },
  { t: 'delta', m: GARBAGE_MARKET, ts: 1, side: 'yes', price: '1.5', delta: '1' },
  { t: 'level', m: GARBAGE_MARKET, ts: 1, side: 'no', price: '0.12345', size: '1' },
  { t: 'snapshot', m: GARBAGE_MARKET, ts: 1, yes: [['0.6000', '1']], no: [['0.5000', '1']] },
  { t: 'snapshot', m: GARBAGE_MARKET, ts: 1, yes: [['0.4000', '-1']], no: [] },
  { t: 'trade', m: GARBAGE_MARKET, ts: 1, id: 'x', yesPrice: '1.2', count: '1', takerSide: 'yes' },
  { t: 'trade', m: GARBAGE_MARKET, ts: 1, id: 'x', yesPrice: '0.5', count: '-3', takerSide: 'yes' },
  { t: 'trade', m: 'K'.repeat(100_000), ts: 1, id: 'x', yesPrice: '0.5', count: '1', takerSide: 'yes' },
  { t: 'constructor', m: GARBAGE_MARKET, ts: 1 },
  { t: 'delta', m: GARBAGE_MARKET, ts: -5, side: 'yes', price: '0.5', delta: '1' },
  { t: 'delta', m: GARBAGE_MARKET, ts: 1, side: 'yes', price: 'NaN', delta: '1' },
  null,
  'garbage',
  42,
];

/** Whether an emitted snapshot is the next inserted (checkpoint) one: inserted snapshots are the truth book, compared by content. */
function isInsertedSnapshot(frames: ReturnType<typeof numbered>, event: Extract<MarketEvent, { t: 'snapshot' }>, already: number): boolean {
  const next = frames.filter((f) => f.checkpoint)[already];
  if (!next) return false;
  const msg = (next.frame as { msg: { market_ticker: string; yes_dollars_fp: string[][]; no_dollars_fp: string[][] } }).msg;
  return msg.market_ticker === event.m && JSON.stringify(msg.yes_dollars_fp) === JSON.stringify(event.yes) && JSON.stringify(msg.no_dollars_fp) === JSON.stringify(event.no);
}

/** An oracle book standing for a stored digest (comparison only). */
function digestBook(digest: string): OracleBook {
  const book = new OracleBook();
  book.digest = () => digest;
  book.settle = () => digest !== 'stale';
  return book;
}

/** The Kalshi book replayer (trade checks, gold-feed tests) on the same recordings. */
async function replayerPath(dir: string, markets: string[], byMarket: Map<string, ReturnType<typeof numbered>>, tally: Tally, log: (line: string) => void): Promise<void> {
  const replayer = new KalshiBookReplayer({ expectFilteredGaps: true });
  let unexpected = 0;
  let compared = 0;
  for (const market of markets) {
    replayer.beginStream();
    const frames = byMarket.get(market)!;
    const oracle = new KalshiOracle('recorded', new Set([market]));
    oracle.newStream();
    const checkpoints = frames.filter((f) => f.checkpoint).map((f) => f.text);
    let next = 0;
    for (const file of recordedFiles(dir, market)) {
      const pendingBad: Parameters<KalshiBookReplayer['refusedLine']>[0][] = [];
      const refuse = () => {
        for (const bad of pendingBad.splice(0)) {
          replayer.refusedLine(bad);
          let line: { recv_ms?: number; event?: unknown } | undefined;
          try {
            line = JSON.parse(bad.raw) as typeof line;
          } catch {
            line = undefined;
          }
          oracle.observe(line?.event, line?.recv_ms ?? 0);
        }
      };
      for await (const rec of readRecording(file, (bad) => pendingBad.push(bad))) {
        refuse();
        if (JSON.stringify(rec.event) === checkpoints[next]) {
          next++;
          tally.compare('replayer', oracle.books, (m) => replayer.store.markets.get(m)?.book);
        }
        const before = replayer.stats();
        const expectedBefore = oracle.expected.length;
        // The oracle sees the line as parsed JSON; lines the reader refused never reach either.
        try {
          replayer.apply(rec);
        } catch (err) {
          tally.exception('replayer', err);
        }
        oracle.observe(JSON.parse(JSON.stringify(rec.event)), rec.recvMs);
        const after = replayer.stats();
        const took = after.snapshots - before.snapshots - (after.refusedSnapshots - before.refusedSnapshots) + (after.deltas - before.deltas) - (after.refusedDeltas - before.refusedDeltas) + (after.trades - before.trades);
        if (took > oracle.expected.length - expectedBefore) unexpected += took - (oracle.expected.length - expectedBefore);
      }
      refuse();
    }
    tally.compare('replayer', oracle.books, (m) => replayer.store.markets.get(m)?.book);
    tally.figures.messages += frames.length;
    compared += next;
  }
  tally.figures.acceptedInvalid += unexpected;
  const stats = replayer.stats();
  log(`  replayer: ${compared} checkpoints compared; ${stats.snapshots} snapshots (${stats.refusedSnapshots} refused), ${stats.deltas} deltas (${stats.refusedDeltas} refused), ${stats.trades} trades, ${stats.malformed} malformed, seq ${JSON.stringify(stats.seq)}; ${unexpected} taken beyond the oracle`);
}

// ---------------------------------------------------------------------------------------------
// Polymarket.

interface PolyOracleState {
  books: Map<string, OracleBook>;
  ticks: Map<string, number>;
  known: Set<string>;
  expected: Expected[];
  /** Events of the messages that are valid on their own (before any book rule): what a parser may emit. */
  parsed: Expected[];
}

const polyTimestamp = (v: unknown): number | undefined => {
  if (typeof v === 'string') return /^\d{1,16}$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : undefined;
  return isNat(v) ? v : undefined;
};
const polyLevels = (v: unknown): [number, number][] | undefined | 'bad' => {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return 'bad';
  const out: [number, number][] = [];
  for (const l of v as unknown[]) {
    if (!isObject(l)) return 'bad';
    const p = priceOf(l.price);
    const s = sizeOf(l.size);
    if (p === undefined || s === undefined || s < 0) return 'bad';
    out.push([p, s]);
  }
  return out;
};
const reported = (v: unknown) => v === undefined || v === '' || (units(v, 4) !== undefined && units(v, 4)! >= 0 && units(v, 4)! <= ONE);
const assetOk = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_MARKET_ID;

function polyOracle(state: PolyOracleState, msg: unknown): void {
  const book = (a: string) => {
    state.known.add(a);
    let b = state.books.get(a);
    if (!b) state.books.set(a, (b = new OracleBook()));
    return b;
  };
  const refuse = () => {
    const candidates = [isObject(msg) ? msg.asset_id : undefined, ...(isObject(msg) && Array.isArray(msg.price_changes) ? (msg.price_changes as unknown[]).map((c) => (isObject(c) ? c.asset_id : undefined)) : [])];
    for (const a of candidates) if (typeof a === 'string' && state.known.has(a)) book(a).markStale();
  };
  if (!isObject(msg) || typeof msg.event_type !== 'string') return refuse();
  const ts = polyTimestamp(msg.timestamp);
  switch (msg.event_type) {
    case 'book': {
      const asset = msg.asset_id;
      const sides = [polyLevels(msg.bids), polyLevels(msg.asks), polyLevels(msg.buys), polyLevels(msg.sells)];
      const tick = msg.tick_size === undefined ? undefined : priceOf(msg.tick_size);
      if (!assetOk(asset) || ts === undefined || sides.includes('bad') || (msg.tick_size !== undefined && tick === undefined) || !optional(msg.market, isString) || !optional(msg.hash, isString)) return refuse();
      const bids = (sides[0] ?? sides[2] ?? []) as [number, number][];
      const asks = (sides[1] ?? sides[3] ?? []) as [number, number][];
      if (tick !== undefined && [...bids, ...asks].some(([p]) => p % tick !== 0)) return refuse();
      if (tick !== undefined) state.ticks.set(asset, tick);
      const known = state.ticks.get(asset);
      const no = asks.map(([p, s]) => [ONE - p, s] as [number, number]);
      state.parsed.push(`S|${asset}|${JSON.stringify(bids)}|${JSON.stringify(no)}`);
      if (known !== undefined && [...bids, ...no].some(([p]) => p % known !== 0)) {
        book(asset).markStale();
        return;
      }
      const b = book(asset);
      if (b.snapshot(bids, no)) state.expected.push(`S|${asset}|${JSON.stringify(bids)}|${JSON.stringify(no)}`);
      return;
    }
    case 'price_change': {
      const changes = msg.price_changes;
      if (ts === undefined || !Array.isArray(changes) || !optional(msg.market, isString)) return refuse();
      const parsed: { asset: string; side: Side; price: number; size: number }[] = [];
      for (const c of changes as unknown[]) {
        if (!isObject(c) || !assetOk(c.asset_id)) return refuse();
        const p = priceOf(c.price);
        const s = sizeOf(c.size);
        if (p === undefined || s === undefined || s < 0 || (c.side !== 'BUY' && c.side !== 'SELL') || !reported(c.best_bid) || !reported(c.best_ask)) return refuse();
        parsed.push({ asset: c.asset_id, side: c.side === 'BUY' ? 'yes' : 'no', price: c.side === 'BUY' ? p : ONE - p, size: s });
      }
      for (const c of parsed) state.parsed.push(`L|${c.asset}|${c.side}|${c.price}|${c.size}|${ts}`);
      for (const c of parsed) {
        const tick = state.ticks.get(c.asset);
        if (tick !== undefined && c.price % tick !== 0) {
          book(c.asset).markStale();
          continue;
        }
        // Crossing is judged per timestamp batch (a venue burst shares one): a batch that ends
        // crossed is undone when the asset's next timestamp begins (OracleBook.change settles it).
        if (book(c.asset).change(c.side, c.price, c.size, ts, true)) state.expected.push(`L|${c.asset}|${c.side}|${c.price}|${c.size}|${ts}`);
      }
      return;
    }
    case 'last_trade_price': {
      const asset = msg.asset_id;
      const p = priceOf(msg.price);
      const s = sizeOf(msg.size);
      const fee = msg.fee_rate_bps;
      const hash = msg.transaction_hash;
      if (!assetOk(asset) || ts === undefined || p === undefined || s === undefined || s <= 0 || (msg.side !== 'BUY' && msg.side !== 'SELL')) return refuse();
      if (!optional(fee, (v) => typeof v === 'string' && /^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(v.trim())) || !optional(hash, (v) => typeof v === 'string' && v.length > 0 && v.length <= 100)) return refuse();
      state.known.add(asset);
      const id = (hash as string | undefined) ?? `${asset}:${ts}:${msg.side}:${msg.price}:${msg.size}`;
      state.expected.push(`T|${asset}|${id}|${p}|${s}|${msg.side === 'BUY' ? 'yes' : 'no'}|${ts}`);
      state.parsed.push(state.expected[state.expected.length - 1]!);
      return;
    }
    case 'tick_size_change': {
      const tick = priceOf(msg.new_tick_size);
      if (!assetOk(msg.asset_id) || ts === undefined || tick === undefined || !optional(msg.old_tick_size, (v) => typeof v === 'string' && /^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(v.trim()))) return refuse();
      state.ticks.set(msg.asset_id, tick);
      return;
    }
    default:
      return;
  }
}

function mutatePolymarket(random: Random, original: Record<string, unknown>): unknown {
  const msg = clone(original);
  const change = Array.isArray(msg.price_changes) && msg.price_changes.length ? (msg.price_changes as Record<string, unknown>[])[0]! : undefined;
  const target = change && random() < 0.7 ? change : msg;
  const keys = Object.keys(target);
  const levelLists = ['bids', 'asks'].filter((k) => Array.isArray(msg[k]) && (msg[k] as unknown[]).length);
  switch (pick(random, ['drop', 'wrongType', 'badNumber', 'priceOutside', 'longDecimal', 'protoType', 'longAsset', 'badSize', 'crossed', 'offTick', 'badTs', 'notObject'] as const)) {
    case 'drop':
      delete target[pick(random, keys)];
      break;
    case 'wrongType':
      target[pick(random, keys)] = pick(random, WRONG_TYPES);
      break;
    case 'badNumber':
    case 'priceOutside':
    case 'longDecimal': {
      const values = pick(random, [BAD_NUMBER_TEXT, PRICES_OUTSIDE, LONG_DECIMALS]);
      if ('price' in target) target.price = pick(random, values);
      else if (levelLists.length) ((msg[pick(random, levelLists)] as Record<string, unknown>[])[0]!).price = pick(random, values);
      else if ('new_tick_size' in target) target.new_tick_size = pick(random, values);
      break;
    }
    case 'protoType':
      msg.event_type = pick(random, PROTO_TYPES);
      break;
    case 'longAsset':
      target.asset_id = 'A'.repeat(random() < 0.5 ? 100_000 : MAX_MARKET_ID + 1);
      break;
    case 'badSize':
      if ('size' in target) target.size = pick(random, SIZE_BAD);
      else if (levelLists.length) ((msg[pick(random, levelLists)] as Record<string, unknown>[])[0]!).size = pick(random, SIZE_BAD);
      break;
    case 'crossed':
      if (msg.event_type === 'book' && Array.isArray(msg.asks) && msg.asks.length) (msg.bids as unknown[]) = [{ price: (msg.asks as { price: string }[])[msg.asks.length - 1]!.price, size: '10' }];
      else if (change) change.price = change.side === 'BUY' ? '0.99' : '0.01';
      break;
    case 'offTick':
      if ('price' in target) target.price = '0.5050';
      else if (levelLists.length) ((msg[pick(random, levelLists)] as Record<string, unknown>[])[0]!).price = '0.1235';
      break;
    case 'badTs':
      msg.timestamp = pick(random, ['-1', '12345678901234567890', 'now', -5, 1.5, null]);
      break;
    case 'notObject':
      return pick(random, [null, 'book', 42, [msg], true]);
  }
  return msg;
}

/** Real Polymarket books and trades; price changes drawn from each book's own levels. */
function polymarketCorpus(dataDir: string, random: Random, opts: { perBook: number; mutationRate: number }): { stream: unknown[]; mutations: number; checkpoints: Set<number> } {
  const read = (file: string) =>
    readFileSync(path.join(dataDir, file), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const books = read('polymarket_book.jsonl');
  const trades = read('polymarket_trade.jsonl');
  const stream: unknown[] = [];
  const checkpoints = new Set<number>();
  let mutations = 0;
  const push = (msg: Record<string, unknown>) => {
    if (random() < opts.mutationRate) {
      stream.push(mutatePolymarket(random, msg));
      mutations++;
    } else stream.push(msg);
  };
  for (let round = 0; round < opts.perBook; round++) {
    for (const [i, book] of books.entries()) {
      const withType = { event_type: 'book', ...book };
      checkpoints.add(stream.length);
      stream.push(withType);
      let ts = Number(book.timestamp);
      const bids = (book.bids as { price: string; size: string }[]) ?? [];
      const asks = (book.asks as { price: string; size: string }[]) ?? [];
      for (let k = 0; k < 12; k++) {
        const buy = random() < 0.5 && bids.length > 0;
        const levels = buy ? bids : asks.length ? asks : bids;
        if (!levels.length) break;
        const level = pick(random, levels);
        ts += 1 + Math.floor(random() * 3);
        const size = random() < 0.2 ? '0' : (Math.floor(random() * 50_000) / 100).toString();
        push({ event_type: 'price_change', market: book.market, price_changes: [{ asset_id: book.asset_id, price: level.price, side: levels === bids ? 'BUY' : 'SELL', size }], timestamp: String(ts) });
      }
      const trade = trades[i % trades.length]!;
      push({ ...trade, asset_id: book.asset_id, timestamp: String(ts) });
      if (random() < 0.1) push({ event_type: 'tick_size_change', asset_id: book.asset_id, market: book.market, new_tick_size: book.tick_size, old_tick_size: book.tick_size, timestamp: String(ts) });
      push(withType);
    }
  }
  return { stream, mutations, checkpoints };
}

function polymarketPath(stream: unknown[], checkpoints: Set<number>, tally: Tally): void {
  const applied: Expected[] = [];
  class RecordingStore extends BookStore {
    override applyAll(events: readonly UnitEvent[], receivedAtMs?: number, position?: Parameters<BookStore['applyAll']>[2]) {
      const outcome = super.applyAll(events, receivedAtMs, position);
      const refused = new Set(outcome.refused.map((r) => r.index));
      events.forEach((e, i) => !refused.has(i) && e.t !== 'stale' && pendingApplied.push({ m: e.m, sig: eventSignature(e, true) }));
      return outcome;
    }
  }
  let pendingApplied: { m: string; sig: Expected }[] = [];
  const store = new RecordingStore({ historyCapacity: 4, sampleMs: 60_000 });
  const sync = new PolymarketBookSync(store, {
    requestResync: () => {},
    onMalformed: (_raw, error) => {
      if (error.startsWith('handling the message failed')) tally.exception('polymarket sync', new Error(error));
    },
  });
  const state: PolyOracleState = { books: new Map(), ticks: new Map(), known: new Set(), expected: [], parsed: [] };
  stream.forEach((msg, i) => {
    if (checkpoints.has(i)) tally.compare('polymarket sync', state.books, (m) => store.markets.get(m)?.book);
    pendingApplied = [];
    try {
      sync.handle(JSON.parse(JSON.stringify(msg ?? null)));
    } catch (err) {
      tally.exception('polymarket sync', err);
    }
    // A change the sync rolled back (the message left the book crossed) was not applied after all.
    for (const p of pendingApplied) if (p.sig.startsWith('T|') || !store.state(p.m).book.stale) applied.push(p.sig);
    polyOracle(state, JSON.parse(JSON.stringify(msg ?? null)));
    tally.figures.messages++;
  });
  tally.compare('polymarket sync', state.books, (m) => store.markets.get(m)?.book);
  tally.unexpected('polymarket sync', applied, state.expected);
}

/** The Polymarket market-channel client over a local socket: frames (single messages, arrays, truncated JSON) → events. */
async function polymarketLivePath(stream: unknown[], random: Random, tally: Tally): Promise<void> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  let send: (text: string) => void = () => {};
  const connected = new Promise<void>((resolve) =>
    server.on('connection', (ws) => {
      send = (text) => ws.send(text);
      resolve();
    }),
  );
  const emitted: Expected[] = [];
  const client = new PolymarketMarketDataClient({
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    assets: [],
    pingIntervalMs: 600_000,
    onMalformed: (_raw, error) => {
      if (error.startsWith('handling the frame failed')) tally.exception('polymarket live listener', new Error(error));
    },
  });
  const state: PolyOracleState = { books: new Map(), ticks: new Map(), known: new Set(), expected: [], parsed: [] };
  try {
    await client.start((event) => {
      // A stale mark is the client's resync, not data (the sync path above checks those rules).
      if (event.t === 'stale') return;
      try {
        emitted.push(eventSignature(toUnitsForBench(event), true));
      } catch (err) {
        tally.exception('polymarket live parser', err);
      }
    });
    await connected;
    let frames = 0;
    for (let i = 0; i < stream.length; ) {
      // The channel sends single objects or arrays of them; now and then a frame is cut short.
      const take = random() < 0.2 ? 1 + Math.floor(random() * 4) : 1;
      const group = stream.slice(i, i + take);
      i += take;
      const text = JSON.stringify(take === 1 ? (group[0] ?? null) : group);
      if (random() < 0.03) send(text.slice(0, Math.floor(random() * text.length)));
      else {
        send(text);
        // A frame is one message or an array of them (a lone array message is such a frame too).
        const messages = take === 1 && Array.isArray(group[0]) ? (group[0] as unknown[]) : group;
        for (const msg of messages) polyOracle(state, JSON.parse(JSON.stringify(msg ?? null)));
      }
      frames++;
      tally.figures.messages += group.length;
    }
    for (let waited = 0; client.counters.messages < frames; waited++) {
      if (waited > 2000) throw new Error(`the client handled ${client.counters.messages} of ${frames} frames`);
      await new Promise((r) => setTimeout(r, 5));
    }
    tally.unexpected('polymarket live client', emitted, state.parsed);
  } finally {
    await client.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

// ---------------------------------------------------------------------------------------------
// Domain book apply: events in units, mutated.

function unitProblem(e: unknown): { invalid: boolean; staleMarket?: string } {
  if (!isObject(e)) return { invalid: true };
  const m = e.m;
  const marketOk = typeof m === 'string' && m.length > 0 && m.length <= MAX_MARKET_ID;
  const stale = marketOk && e.t !== 'trade' ? (m as string) : undefined;
  const price = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v < ONE;
  const size = (v: unknown) => isNat(v);
  const side = (v: unknown) => v === 'yes' || v === 'no';
  if (!marketOk || !isNat(e.ts)) return { invalid: true, staleMarket: stale };
  const levels = (v: unknown) => Array.isArray(v) && v.length < ONE && (v as unknown[]).every((l) => isObject(l) && price(l.price) && size(l.size));
  let ok: boolean;
  switch (e.t) {
    case 'snapshot':
      ok = levels(e.yes) && levels(e.no);
      break;
    case 'delta':
      ok = side(e.side) && price(e.price) && typeof e.delta === 'number' && Number.isSafeInteger(e.delta);
      break;
    case 'level':
      ok = side(e.side) && price(e.price) && size(e.size);
      break;
    case 'trade':
      ok = typeof e.id === 'string' && e.id.length > 0 && e.id.length <= MAX_TRADE_ID && side(e.takerSide) && price(e.price) && typeof e.count === 'number' && Number.isSafeInteger(e.count) && e.count > 0;
      break;
    case 'stale':
      ok = typeof e.reason === 'string';
      break;
    default:
      ok = false;
  }
  return ok ? { invalid: false } : { invalid: true, staleMarket: stale };
}

function domainPath(source: UnitEvent[], random: Random, tally: Tally): number {
  const store = new BookStore({ historyCapacity: 4, sampleMs: 60_000 });
  const books = new Map<string, OracleBook>();
  const oracleBook = (m: string) => {
    let b = books.get(m);
    if (!b) books.set(m, (b = new OracleBook()));
    return b;
  };
  const applied: Expected[] = [];
  const expected: Expected[] = [];
  const cleanBooks = new Map<string, OracleBook>();
  const BAD_UNITS: unknown[] = [NaN, Infinity, -1, 1.5, 1e300, ONE, 0, -ONE, '5000', null, undefined, 2 ** 53];
  let mutations = 0;
  const rebased: UnitEvent[] = [];
  source.forEach((e, i) => {
    if (i % CHECKPOINT_EVERY === 0 && e.t !== 'stale') {
      // A fresh snapshot of the clean stream's book (kept by the oracle rules), as the venue would send on resync.
      const truth = cleanBooks.get(e.m);
      if (truth && (truth.settle(), !truth.stale)) rebased.push({ t: 'snapshot', m: e.m, ts: e.ts, yes: [...truth.yes].map(([price, size]) => ({ price, size })), no: [...truth.no].map(([price, size]) => ({ price, size })) });
    }
    rebased.push(e);
    const b = cleanBooks.get(e.m) ?? new OracleBook();
    cleanBooks.set(e.m, b);
    if (e.t === 'snapshot') b.snapshot(e.yes.map((l) => [l.price, l.size]), e.no.map((l) => [l.price, l.size]));
    else if (e.t === 'delta' || e.t === 'level') b.change(e.side, e.price, e.t === 'delta' ? e.delta : e.size, e.ts, e.t === 'level');
  });
  rebased.forEach((original, i) => {
    if (i % CHECKPOINT_EVERY === 0) tally.compare('domain apply', books, (m) => store.markets.get(m)?.book);
    let e: Record<string, unknown> = { ...original } as Record<string, unknown>;
    if (original.t === 'snapshot') e = { ...e, yes: original.yes.map((l) => ({ ...l })), no: original.no.map((l) => ({ ...l })) };
    if (random() < 0.3) {
      mutations++;
      const kind = pick(random, ['number', 'market', 'type', 'side', 'level', 'ts', 'id'] as const);
      if (kind === 'number') {
        const key = pick(random, ['price', 'delta', 'size', 'count'].filter((k) => k in e).concat(['price']));
        e[key] = pick(random, BAD_UNITS);
      } else if (kind === 'market') e.m = pick(random, ['', 'M'.repeat(MAX_MARKET_ID + 1), 42, null, 'M'.repeat(100_000)]);
      else if (kind === 'type') e.t = pick(random, PROTO_TYPES);
      else if (kind === 'side') e[e.t === 'trade' ? 'takerSide' : 'side'] = pick(random, ['maybe', 'YES', 1, undefined]);
      else if (kind === 'level') e = { ...e, t: 'snapshot', yes: pick(random, [[{ price: NaN, size: 1 }], [{ price: 5000, size: -1 }], [null], 'x', [{ price: 5000 }]]), no: [] };
      else if (kind === 'ts') e.ts = pick(random, BAD_UNITS);
      else e.id = pick(random, ['', 'I'.repeat(MAX_TRADE_ID + 1), 7]);
    }
    let outcome;
    try {
      outcome = store.applyAll([e as unknown as UnitEvent]);
    } catch (err) {
      tally.exception('domain apply', err);
    }
    if (outcome?.applied === 1 && e.t !== 'stale') applied.push(eventSignature(e as unknown as UnitEvent, true));
    const verdict = unitProblem(e);
    tally.figures.messages++;
    if (verdict.invalid) {
      if (verdict.staleMarket !== undefined) oracleBook(verdict.staleMarket).markStale();
      return;
    }
    const u = e as unknown as UnitEvent;
    const sig = eventSignature(u, true);
    if (u.t === 'trade') expected.push(sig);
    else if (u.t === 'stale') oracleBook(u.m).markStale();
    else if (u.t === 'snapshot') {
      if (oracleBook(u.m).snapshot(u.yes.map((l) => [l.price, l.size]), u.no.map((l) => [l.price, l.size]))) expected.push(sig);
    } else if (oracleBook(u.m).change(u.side, u.price, u.t === 'delta' ? u.delta : u.size, u.ts, u.t === 'level')) expected.push(sig);
  });
  tally.compare('domain apply', books, (m) => store.markets.get(m)?.book);
  tally.unexpected('domain apply', applied, expected);
  return mutations;
}

// ---------------------------------------------------------------------------------------------

export async function benchFuzz(opts: { dataDir: string; polymarketDir: string; seed?: number; markets?: number; log: (line: string) => void }): Promise<Figures> {
  const seed = opts.seed ?? 13;
  const random = seededRandom(seed);
  const tally = new Tally(opts.log);
  const onUncaught = (err: unknown) => tally.exception('process (uncaught)', err);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-fuzz-'));
  try {
    const kalshi = await loadKalshiCorpus(opts.dataDir, random, { markets: opts.markets ?? 4, perMarket: 14_000, mutationRate: 0.2 });
    const poly = polymarketCorpus(opts.polymarketDir, random, { perBook: 40, mutationRate: 0.3 });
    opts.log(`corpus (seed ${seed}): ${kalshi.streams.reduce((n, s) => n + s.length, 0)} Kalshi messages (${kalshi.mutations} mutated) from ${kalshi.markets.length} gold markets, ${poly.stream.length} Polymarket messages (${poly.mutations} mutated)`);

    opts.log('kalshi live WebSocket client');
    await kalshiLivePath(kalshi.markets, kalshi.streams, tally, opts.log);

    const byMarket = writeRecordings(dir, kalshi.markets, kalshi.streams);
    opts.log('recorded source → book worker batch apply');
    await recordedIngestPath(dir, kalshi.markets, byMarket, random, tally, opts.log);
    opts.log('kalshi book replayer');
    await replayerPath(dir, kalshi.markets, byMarket, tally, opts.log);

    opts.log('polymarket book sync');
    polymarketPath(poly.stream, poly.checkpoints, tally);

    opts.log('polymarket live WebSocket client');
    await polymarketLivePath(poly.stream, random, tally);

    opts.log('domain book apply');
    const clean: UnitEvent[] = [];
    await replayKalshiRecording({ dataDir: opts.dataDir, markets: kalshi.markets.slice(0, 2), pace: { kind: 'fast' }, emit: async (e) => void (clean.length < 12_000 && clean.push(toUnitsForBench(e))) });
    const domainMutations = domainPath(clean, random, tally);
    opts.log(`mutations: ${kalshi.mutations} Kalshi, ${poly.mutations} Polymarket, ${domainMutations} domain events`);
    for (const note of tally.notes) opts.log(`  note: ${note}`);
    return { ...tally.figures };
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    rmSync(dir, { recursive: true, force: true });
  }
}
