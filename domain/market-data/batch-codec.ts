import { z } from 'zod';
import { describeIssues } from '../validation';
import { PRICE_DECIMALS, SIZE_DECIMALS } from '../fixed-point';
import { marketEventSchema, tryToUnits, type MarketEvent, type UnitEvent } from './events';
import { MAX_MARKET_ID_LENGTH } from './validation';
import { EVENT_KIND, EventColumnsBuilder, fitsColumns, fitsPriceColumn, type EventColumns } from './event-columns';

/**
 * The compact form a batch of market events crosses Redis in: one string instead of an array of
 * objects, so BullMQ serialises and parses one string per batch, and the book worker turns it into
 * unit events with a scan over character codes instead of a schema check per event.
 *
 * Values stay exact: prices and sizes travel as the venue's decimal text, unchanged, and are turned
 * into integer units on the way out by the same rules as `toUnits`. Anything the fast reading is
 * not sure of (unusual text, a value off the grid, an id of the wrong length) is rebuilt into its
 * wire object and goes through `marketEventSchema` and `tryToUnits` like an unpacked event, so the
 * packed path refuses exactly what the object path refuses, with the same message. Events that do
 * not have their declared shape at all are carried as their JSON text, in place.
 *
 * Records, one after the other (a market's first use in the batch defines it: `M` + string; markets
 * are then referenced by their number in order of definition; strings are `length:` + UTF-16 units):
 *   d<market>,<ts>,<y|n><price>,<delta>,        delta
 *   l<market>,<ts>,<y|n><price>,<size>,         level
 *   t<market>,<ts>,<y|n><yesPrice>,<count>,<id> trade (taker side)
 *   s<market>,<ts>,<reason>                     stale
 *   S<market>,<ts>,<nYes>,<nNo>,(<price>,<size>,)×(nYes + nNo)   snapshot
 *   j<json>                                     any event not of its declared shape
 * where <ts> is the difference from the previous record's timestamp (the first record's from 0).
 */
export const PACKED_FORMAT = 'k1';

/** Longest packed text a batch may carry (far above 50,000 events of any venue's shape). */
export const MAX_PACKED_CHARS = 256 * 2 ** 20;

/**
 * A batch as the publisher enqueues it: the envelope (checked once per batch), and its events
 * packed into one string (`count` of them, checked again while unpacking).
 */
export const packedMarketEventBatchSchema = z.object({
  source: z.string().min(1).max(100),
  partition: z.number().int().nonnegative(),
  /** Strictly increasing per (source, partition): a batch at or below the checkpoint was applied already. */
  batchSeq: z.number().int().nonnegative(),
  format: z.literal(PACKED_FORMAT),
  count: z.number().int().min(1).max(50_000),
  packed: z.string().min(1).max(MAX_PACKED_CHARS),
});
export type PackedMarketEventBatch = z.infer<typeof packedMarketEventBatchSchema>;

/** Whether job data claims to be a packed batch (it is then checked against that schema only). */
export const isPackedBatch = (data: unknown): boolean => typeof data === 'object' && data !== null && 'packed' in data;

/** Decimal texts packed as they are: what cannot hold the field separator. */
const PACKABLE_DECIMAL = /^[0-9.+-]{1,40}$/;
const packableDecimal = (v: unknown): v is string => typeof v === 'string' && PACKABLE_DECIMAL.test(v);
const packableTs = (ts: unknown): ts is number => Number.isSafeInteger(ts) && (ts as number) >= 0 && ((ts as number) !== 0 || 1 / (ts as number) > 0);
const sideCode = (side: unknown): string | undefined => (side === 'yes' ? 'y' : side === 'no' ? 'n' : undefined);

/** Builds one batch's packed text, event by event. */
class PackedEventWriter {
  text = '';
  private readonly markets = new Map<string, number>();
  /** Timestamp of the previous record: records carry the difference (small numbers, cheap to write). */
  private ts = 0;

  push(e: MarketEvent): void {
    this.text += this.record(e) ?? `j${str(jsonText(e))}`;
  }

  private record(e: MarketEvent): string | undefined {
    if (typeof e !== 'object' || e === null || typeof e.m !== 'string' || !packableTs(e.ts)) return undefined;
    const record = this.body(e);
    if (record !== undefined) this.ts = e.ts;
    return record;
  }

  private body(e: MarketEvent): string | undefined {
    const ts = e.ts - this.ts;
    switch (e.t) {
      case 'delta': {
        const side = sideCode(e.side);
        if (side === undefined || !packableDecimal(e.price) || !packableDecimal(e.delta)) return undefined;
        return `${this.ref(e.m, 'd')}${ts},${side}${e.price},${e.delta},`;
      }
      case 'level': {
        const side = sideCode(e.side);
        if (side === undefined || !packableDecimal(e.price) || !packableDecimal(e.size)) return undefined;
        return `${this.ref(e.m, 'l')}${ts},${side}${e.price},${e.size},`;
      }
      case 'trade': {
        const side = sideCode(e.takerSide);
        if (side === undefined || typeof e.id !== 'string' || !packableDecimal(e.yesPrice) || !packableDecimal(e.count)) return undefined;
        return `${this.ref(e.m, 't')}${ts},${side}${e.yesPrice},${e.count},${str(e.id)}`;
      }
      case 'stale':
        if (typeof e.reason !== 'string') return undefined;
        return `${this.ref(e.m, 's')}${ts},${str(e.reason)}`;
      case 'snapshot': {
        if (!Array.isArray(e.yes) || !Array.isArray(e.no)) return undefined;
        let levels = '';
        for (const side of [e.yes, e.no] as unknown[][]) {
          for (const level of side) {
            if (!Array.isArray(level) || level.length !== 2 || !packableDecimal(level[0]) || !packableDecimal(level[1])) return undefined;
            levels += `${level[0]},${level[1]},`;
          }
        }
        return `${this.ref(e.m, 'S')}${ts},${e.yes.length},${e.no.length},${levels}`;
      }
      default:
        return undefined;
    }
  }

  /** A record's kind and market number (after the market's definition, on its first use in this batch). */
  private ref(m: string, kind: string): string {
    let index = this.markets.get(m);
    if (index !== undefined) return `${kind}${index},`;
    index = this.markets.size;
    this.markets.set(m, index);
    return `M${str(m)}${kind}${index},`;
  }
}

const str = (s: string) => `${s.length}:${s}`;

function jsonText(e: unknown): string {
  try {
    return JSON.stringify(e) ?? 'null';
  } catch {
    return 'null';
  }
}

/** All the events of a batch packed at once, as one flat string. */
export function packEvents(events: readonly MarketEvent[]): string {
  const writer = new PackedEventWriter();
  for (const e of events) writer.push(e);
  const text = writer.text;
  // A search flattens the rope of records now, while its pieces are young.
  text.indexOf('\u0000');
  return text;
}

/** An event of a packed batch that must not reach a book: its wire form (for the log) and why. */
export class RefusedWireEvent {
  constructor(
    readonly raw: unknown,
    readonly error: string,
  ) {}
}

/** A wire event (unknown data) in units, or why not: `marketEventSchema`, then `tryToUnits`. */
export function wireEventToUnits(raw: unknown): UnitEvent | RefusedWireEvent {
  const parsed = marketEventSchema.safeParse(raw);
  if (!parsed.success) return new RefusedWireEvent(raw, describeIssues(parsed.error.issues, 3));
  const converted = tryToUnits(parsed.data);
  return converted.ok ? converted.value : new RefusedWireEvent(raw, converted.error);
}

/** Thrown for packed text that is not a sequence of well-formed records: the batch is malformed, not one of its events. */
export class MalformedPackedBatch extends Error {}

const ZERO = 48;
const COMMA = 44;
const COLON = 58;
const DOT = 46;
const MINUS = 45;
const PLUS = 43;
const FAIL = Number.NaN;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
// Module-level copies: the hot loops below read them on every value.
const PRICE = PRICE_DECIMALS;
const SIZE = SIZE_DECIMALS;
const MAX_MARKET = MAX_MARKET_ID_LENGTH;

/**
 * Units of the decimal text s[from, to) when it is certainly on the grid of `decimals`, else NaN
 * (the caller then takes the slow path, which refuses or accepts it with the usual message). Same
 * result as `textToUnits` on every text it accepts: an optional sign, digits with at most one
 * point, at least one digit, no significant digit past `decimals`, a safe integer.
 */
export function fastDecimalUnits(s: string, from: number, to: number, decimals: number): number {
  let i = from;
  let negative = false;
  const first = s.charCodeAt(i);
  if (first === MINUS) {
    negative = true;
    i++;
  } else if (first === PLUS) i++;
  let whole = 0;
  let wholeDigits = 0;
  for (; i < to; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) break;
    whole = whole * 10 + d;
    wholeDigits++;
  }
  // Beyond 15 digits the running value could round: the slow path decides those.
  if (wholeDigits > 15) return FAIL;
  let fraction = 0;
  let fractionDigits = 0;
  let digits = wholeDigits;
  if (i < to && s.charCodeAt(i) === DOT) {
    for (i++; i < to; i++) {
      const d = s.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) break;
      digits++;
      if (fractionDigits < decimals) {
        fraction = fraction * 10 + d;
        fractionDigits++;
      } else if (d !== 0) return FAIL;
    }
  }
  if (i !== to || digits === 0) return FAIL;
  const units = whole * POW10[decimals]! + fraction * POW10[decimals - fractionDigits]!;
  if (!Number.isSafeInteger(units)) return FAIL;
  return negative ? -units : units;
}

const [D, L, T, M, SNAPSHOT, S, J, Y, N] = [...'dltMSsjyn'].map((c) => c.charCodeAt(0));

/**
 * The events of a packed batch, in order: each in units, or refused (`RefusedWireEvent`) exactly
 * as `wireEventToUnits` would refuse its wire form. Throws `MalformedPackedBatch` when the text is
 * not well-formed records, or holds other than `expectedCount` events; nothing is returned then.
 */
export function unpackEvents(packed: string, expectedCount: number): (UnitEvent | RefusedWireEvent)[] {
  const sink = new ObjectSink();
  readAll(packed, expectedCount, sink);
  return sink.events;
}

/**
 * The events of a packed batch as columns, without an object per event (what the book worker
 * applies): the same events `unpackEvents` returns, except that each refused one is replaced by
 * what `onRefused` returns for it (nothing, or e.g. a stale mark for its market). Throws
 * `MalformedPackedBatch` like `unpackEvents`, before anything is returned.
 */
export function unpackColumns(packed: string, expectedCount: number, onRefused: (refused: RefusedWireEvent, index: number) => UnitEvent | undefined): EventColumns {
  const sink = new ColumnSink(expectedCount, onRefused);
  readAll(packed, expectedCount, sink);
  return sink.builder.build();
}

function readAll(packed: string, expectedCount: number, sink: EventSink): void {
  const reader = new PackedReader(packed, sink);
  while (!reader.done() && sink.count <= expectedCount) reader.next();
  if (sink.count !== expectedCount) throw new MalformedPackedBatch(`packed batch holds ${sink.count > expectedCount ? 'more than' : ''} ${sink.count} events, its envelope says ${expectedCount}`);
}

/**
 * Where the reader puts each event: plain ones (read on the fast path, already checked) field by
 * field, anything else (slow path) as an object or a refusal. `mi` is the market's number in the batch.
 */
interface EventSink {
  /** Events taken so far, refused ones included. */
  count: number;
  market(m: string): void;
  change(delta: boolean, mi: number, ts: number, side: number, price: number, size: number): void;
  trade(mi: number, ts: number, side: number, price: number, count: number, id: string): void;
  event(e: UnitEvent | RefusedWireEvent): void;
}

const SIDE_NAMES = ['yes', 'no'] as const;

class ObjectSink implements EventSink {
  readonly events: (UnitEvent | RefusedWireEvent)[] = [];
  private readonly markets: string[] = [];
  count = 0;

  market(m: string): void {
    this.markets.push(m);
  }

  change(delta: boolean, mi: number, ts: number, side: number, price: number, size: number): void {
    const m = this.markets[mi]!;
    const s = SIDE_NAMES[side]!;
    this.event(delta ? { t: 'delta', m, ts, side: s, price, delta: size } : { t: 'level', m, ts, side: s, price, size });
  }

  trade(mi: number, ts: number, side: number, price: number, count: number, id: string): void {
    this.event({ t: 'trade', m: this.markets[mi]!, ts, id, price, count, takerSide: SIDE_NAMES[side]! });
  }

  event(e: UnitEvent | RefusedWireEvent): void {
    this.events.push(e);
    this.count++;
  }
}

class ColumnSink implements EventSink {
  readonly builder: EventColumnsBuilder;
  /** The batch's markets, and the builder's number of each. */
  private readonly names: string[] = [];
  private readonly markets: number[] = [];
  count = 0;

  constructor(
    expectedCount: number,
    private readonly onRefused: (refused: RefusedWireEvent, index: number) => UnitEvent | undefined,
  ) {
    this.builder = new EventColumnsBuilder([], Math.min(expectedCount, 65_536));
  }

  market(m: string): void {
    this.names.push(m);
    // An id that is not a market's never reaches the builder: its events all take the slow path and are refused.
    this.markets.push(m.length >= 1 && m.length <= MAX_MARKET ? this.builder.marketOf(m) : -1);
  }

  change(delta: boolean, mi: number, ts: number, side: number, price: number, size: number): void {
    if (!fitsPriceColumn(price)) return this.event(delta ? { t: 'delta', m: this.names[mi]!, ts, side: SIDE_NAMES[side]!, price, delta: size } : { t: 'level', m: this.names[mi]!, ts, side: SIDE_NAMES[side]!, price, size });
    this.builder.pushRow(delta ? DELTA_KIND : LEVEL_KIND, this.markets[mi]!, ts, side, price, size);
    this.count++;
  }

  trade(mi: number, ts: number, side: number, price: number, count: number, id: string): void {
    if (!fitsPriceColumn(price)) return this.event({ t: 'trade', m: this.names[mi]!, ts, id, price, count, takerSide: SIDE_NAMES[side]! });
    this.builder.pushRow(TRADE_KIND, this.markets[mi]!, ts, side, price, count, id);
    this.count++;
  }

  event(e: UnitEvent | RefusedWireEvent): void {
    const index = this.count++;
    // A price beyond the columns is far outside any book: refused here, as the book would refuse it.
    const checked = e instanceof RefusedWireEvent || fitsColumns(e) ? e : new RefusedWireEvent(e, 'a price is outside the range of book prices');
    const kept = checked instanceof RefusedWireEvent ? this.onRefused(checked, index) : checked;
    if (kept !== undefined) this.builder.push(kept);
  }
}

const DELTA_KIND = EVENT_KIND.delta;
const LEVEL_KIND = EVENT_KIND.level;
const TRADE_KIND = EVENT_KIND.trade;

class PackedReader {
  private pos = 0;
  /** The previous record's timestamp: records carry the difference. */
  private ts = 0;
  private readonly markets: string[] = [];
  /** Per market: whether it is a valid market id (else its events take the slow path, which refuses them). */
  private readonly marketOk: boolean[] = [];

  constructor(
    private readonly s: string,
    private readonly sink: EventSink,
  ) {}

  done(): boolean {
    return this.pos >= this.s.length;
  }

  private malformed(what: string): never {
    throw new MalformedPackedBatch(`packed batch: ${what} at ${this.pos}`);
  }

  /** Integer (negative only if `signed`) terminated by `end`, at most 16 digits. */
  private int(end: number, signed = false): number {
    const s = this.s;
    let i = this.pos;
    const negative = signed && s.charCodeAt(i) === MINUS;
    if (negative) i++;
    const start = i;
    let v = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === end) break;
      const d = c - ZERO;
      if (d < 0 || d > 9) this.malformed('expected a digit');
      v = v * 10 + d;
    }
    if (i === start || i === s.length || i - start > 16 || !Number.isSafeInteger(v)) this.malformed('expected a number');
    this.pos = i + 1;
    return negative ? -v : v;
  }

  private string(): string {
    const length = this.int(COLON);
    const end = this.pos + length;
    if (end > this.s.length) this.malformed('string runs past the end');
    const text = this.s.slice(this.pos, end);
    this.pos = end;
    return text;
  }

  /** End (exclusive) of the field starting at pos, which moves past its comma. */
  private field(): number {
    const end = this.s.indexOf(',', this.pos);
    if (end < 0) this.malformed('unterminated field');
    this.pos = end + 1;
    return end;
  }

  private market(): number {
    const index = this.int(COMMA);
    if (index >= this.markets.length) this.malformed(`market ${index} is not defined`);
    return index;
  }

  private timestamp(): number {
    const ts = this.ts + this.int(COMMA, true);
    if (!(ts >= 0 && Number.isSafeInteger(ts))) this.malformed('timestamp out of range');
    this.ts = ts;
    return ts;
  }

  /** 0 for yes, 1 for no. */
  private side(): number {
    const c = this.s.charCodeAt(this.pos++);
    if (c === Y) return 0;
    if (c === N) return 1;
    return this.malformed('expected y or n');
  }

  /** Reads the next record into the sink (a market definition included). */
  next(): void {
    switch (this.s.charCodeAt(this.pos++)) {
      case D:
        return this.change(true);
      case L:
        return this.change(false);
      case T:
        return this.trade();
      case M: {
        const m = this.string();
        this.marketOk.push(m.length >= 1 && m.length <= MAX_MARKET);
        this.markets.push(m);
        this.sink.market(m);
        return;
      }
      case SNAPSHOT:
        return this.sink.event(this.snapshot());
      case S:
        return this.sink.event(this.stale());
      case J:
        return this.sink.event(this.json());
      default:
        this.pos--;
        return this.malformed(`unknown record ${JSON.stringify(this.s[this.pos])}`);
    }
  }

  /** Fields 1 and 2 of the record being read: a price and a size, as [start, end) in the text. */
  private aAt = 0;
  private aEnd = 0;
  private bAt = 0;
  private bEnd = 0;

  /** Reads `<market>,<ts>,<side><decimal>,<decimal>,` (deltas, levels, trades); the decimals' bounds go to aAt..bEnd. */
  private sided(): { mi: number; ts: number; side: number } {
    const mi = this.market();
    const ts = this.timestamp();
    const side = this.side();
    this.aAt = this.pos;
    this.aEnd = this.field();
    this.bAt = this.pos;
    this.bEnd = this.field();
    return { mi, ts, side };
  }

  private change(delta: boolean): void {
    const s = this.s;
    const { mi, ts, side } = this.sided();
    const price = fastDecimalUnits(s, this.aAt, this.aEnd, PRICE);
    const size = fastDecimalUnits(s, this.bAt, this.bEnd, SIZE);
    if (this.marketOk[mi] && price === price && size === size) return this.sink.change(delta, mi, ts, side, price, size);
    const m = this.markets[mi]!;
    const priceText = s.slice(this.aAt, this.aEnd);
    const sizeText = s.slice(this.bAt, this.bEnd);
    const sideName = SIDE_NAMES[side]!;
    this.sink.event(wireEventToUnits(delta ? { t: 'delta', m, ts, side: sideName, price: priceText, delta: sizeText } : { t: 'level', m, ts, side: sideName, price: priceText, size: sizeText }));
  }

  private trade(): void {
    const s = this.s;
    const { mi, ts, side } = this.sided();
    const id = this.string();
    const price = fastDecimalUnits(s, this.aAt, this.aEnd, PRICE);
    const count = fastDecimalUnits(s, this.bAt, this.bEnd, SIZE);
    if (this.marketOk[mi] && id.length >= 1 && price === price && count === count) return this.sink.trade(mi, ts, side, price, count, id);
    this.sink.event(wireEventToUnits({ t: 'trade', m: this.markets[mi]!, ts, id, yesPrice: s.slice(this.aAt, this.aEnd), count: s.slice(this.bAt, this.bEnd), takerSide: SIDE_NAMES[side]! }));
  }

  private stale(): UnitEvent | RefusedWireEvent {
    const mi = this.market();
    const ts = this.timestamp();
    const reason = this.string();
    const m = this.markets[mi]!;
    if (this.marketOk[mi] && reason.length >= 1 && reason.length <= 500) return { t: 'stale', m, ts, reason };
    return wireEventToUnits({ t: 'stale', m, ts, reason });
  }

  private snapshot(): UnitEvent | RefusedWireEvent {
    const s = this.s;
    const mi = this.market();
    const ts = this.timestamp();
    const yesCount = this.int(COMMA);
    const noCount = this.int(COMMA);
    // Each level takes at least four characters: a count past that is not this batch's.
    if ((yesCount + noCount) * 4 > s.length - this.pos) this.malformed('snapshot levels run past the end');
    const bounds: number[] = [];
    let fast = this.marketOk[mi]!;
    const yes: { price: number; size: number }[] = [];
    const no: { price: number; size: number }[] = [];
    for (let k = 0; k < yesCount + noCount; k++) {
      const priceAt = this.pos;
      const priceEnd = this.field();
      const sizeAt = this.pos;
      const sizeEnd = this.field();
      bounds.push(priceAt, priceEnd, sizeAt, sizeEnd);
      if (!fast) continue;
      const price = fastDecimalUnits(s, priceAt, priceEnd, PRICE);
      const size = fastDecimalUnits(s, sizeAt, sizeEnd, SIZE);
      if (price !== price || size !== size) fast = false;
      else (k < yesCount ? yes : no).push({ price, size });
    }
    const m = this.markets[mi]!;
    if (fast) return { t: 'snapshot', m, ts, yes, no };
    return wireEventToUnits({ t: 'snapshot', m, ts, yes: levelTexts(s, bounds, 0, yesCount), no: levelTexts(s, bounds, yesCount, yesCount + noCount) });
  }

  private json(): RefusedWireEvent | UnitEvent {
    const text = this.string();
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.malformed('an event carried as JSON is not JSON');
    }
    return wireEventToUnits(raw);
  }
}

function levelTexts(s: string, bounds: readonly number[], from: number, to: number): [string, string][] {
  const levels: [string, string][] = [];
  for (let k = from; k < to; k++) levels.push([s.slice(bounds[4 * k]!, bounds[4 * k + 1]!), s.slice(bounds[4 * k + 2]!, bounds[4 * k + 3]!)]);
  return levels;
}
