import type { UnitEvent } from './events';
import type { BookSide, Level } from './order-book';

/**
 * Unit events stored column-wise in typed arrays: 2.2M events take ~53 MB instead of ~500 MB of
 * objects (~29 MB once `compact()`ed), load from a binary file without parsing, and are turned back
 * into `UnitEvent`s one at a time while iterating (or read as columns: `BookStore.applyColumns`).
 * Carries every kind of `UnitEvent`.
 */
export const EVENT_KINDS = ['snapshot', 'delta', 'level', 'trade', 'stale'] as const;
/** Values of the `kind` column. */
export const EVENT_KIND = { snapshot: 0, delta: 1, level: 2, trade: 3, stale: 4 } as const;
/** Values of the `side` column. */
export const SIDES: readonly BookSide[] = ['yes', 'no'];

/**
 * Each column holds its values as they are (the wide types a builder fills) or, after `compact()`,
 * in a narrower type with a scale (`ColumnScales`): read time as `ts[i] + tsBase` and sizes as
 * `size[i] * sizeUnit`, or through `tsAt` / `sizeAt`.
 */
export interface EventColumnArrays {
  /** Exchange time, ms, less `tsBase`. */
  ts: Float64Array | Uint32Array;
  /** Index into `markets`. */
  market: Uint16Array | Uint8Array;
  /** Index into EVENT_KINDS. */
  kind: Uint8Array;
  /** 0 = yes, 1 = no (a trade's taker side). */
  side: Uint8Array;
  /** Price units of a delta, level or trade. */
  price: Int32Array | Uint16Array;
  /** Size units (divided by `sizeUnit`) of a delta (signed), a level or a trade's count. Sizes can exceed int32 units. */
  size: Float64Array | Int32Array;
  /**
   * Snapshot i's levels (the i-th snapshot event, in order) are levelPrice/levelSize[snapshotStart[i] ..
   * snapshotStart[i + 1]), YES first. The i-th trade or stale event's id or reason is `texts[i]`.
   */
  snapshotStart: Uint32Array;
  snapshotYesCount: Uint32Array;
  levelPrice: Int32Array | Uint16Array;
  /** Size units divided by `levelSizeUnit`. */
  levelSize: Float64Array | Int32Array;
}

/** What the narrow columns are read with: time = ts[i] + tsBase, size = size[i] × sizeUnit, level size = levelSize[j] × levelSizeUnit. */
export interface ColumnScales {
  tsBase: number;
  sizeUnit: number;
  levelSizeUnit: number;
}

/**
 * Wide columns hold the values themselves. The base is −0, not 0, because x + (−0) is x for every
 * x, −0 included (x + 0 would turn a −0 into 0).
 */
export const WIDE_SCALES: ColumnScales = { tsBase: -0, sizeUnit: 1, levelSizeUnit: 1 };

/** Size units of a compact size column: multiples of a power of ten (Kalshi sizes have 2 decimals, so 10^4 units). */
export const SIZE_UNITS: readonly number[] = [1e6, 1e5, 1e4, 1e3, 100, 10, 1];

/**
 * Event indexes of the snapshots, and of the trade and stale events, ascending: the i-th one's data
 * is the i-th snapshot's levels, or `texts[i]`.
 */
export interface EventPositions {
  snapshotEvents: Uint32Array;
  textEvents: Uint32Array;
}

function eventPositions(kind: Uint8Array): EventPositions {
  const counts = countPositions(kind);
  const positions = { snapshotEvents: new Uint32Array(counts.snapshots), textEvents: new Uint32Array(counts.texted) };
  fillPositions(kind, positions);
  return positions;
}

// Each loop in a function of its own, so each is optimized on its own (see checkTimes).

function countPositions(kind: Uint8Array): { snapshots: number; texted: number } {
  let snapshots = 0;
  let texted = 0;
  for (let i = 0; i < kind.length; i++) {
    const k = kind[i]!;
    if (k === EVENT_KIND.snapshot) snapshots++;
    else if (k === EVENT_KIND.trade || k === EVENT_KIND.stale) texted++;
  }
  return { snapshots, texted };
}

function fillPositions(kind: Uint8Array, { snapshotEvents, textEvents }: EventPositions): void {
  let snapshots = 0;
  let texted = 0;
  for (let i = 0; i < kind.length; i++) {
    const k = kind[i]!;
    if (k === EVENT_KIND.snapshot) snapshotEvents[snapshots++] = i;
    else if (k === EVENT_KIND.trade || k === EVENT_KIND.stale) textEvents[texted++] = i;
  }
}

export class EventColumns implements Iterable<UnitEvent> {
  readonly length: number;
  readonly tsBase: number;
  readonly sizeUnit: number;
  readonly levelSizeUnit: number;
  private readonly snapshotEvents: Uint32Array;
  private readonly textEvents: Uint32Array;

  /** `positions`: as `validateEventColumns` returns them, or found here; `scales`: how narrow columns read (none: wide columns). */
  constructor(
    readonly markets: readonly string[],
    readonly columns: EventColumnArrays,
    readonly texts: readonly string[],
    opts: { positions?: EventPositions; scales?: ColumnScales } = {},
  ) {
    this.length = columns.ts.length;
    const positions = opts.positions ?? eventPositions(columns.kind);
    this.snapshotEvents = positions.snapshotEvents;
    this.textEvents = positions.textEvents;
    const scales = opts.scales ?? WIDE_SCALES;
    this.tsBase = scales.tsBase;
    this.sizeUnit = scales.sizeUnit;
    this.levelSizeUnit = scales.levelSizeUnit;
  }

  get scales(): ColumnScales {
    return { tsBase: this.tsBase, sizeUnit: this.sizeUnit, levelSizeUnit: this.levelSizeUnit };
  }

  /** Exchange time of event i, ms. */
  tsAt(i: number): number {
    return this.columns.ts[i]! + this.tsBase;
  }

  /** Size units of event i (a delta's signed change, a level's size, a trade's count). */
  sizeAt(i: number): number {
    return this.columns.size[i]! * this.sizeUnit;
  }

  /**
   * The same events in the narrowest columns their values fit: times as u32 ms after the earliest,
   * sizes as i32 multiples of a power of ten, prices as u16, market indexes as u8, so about 13
   * bytes an event instead of 24. A cached load pays for every page it touches, so this halves it.
   * A column whose values do not fit (or hold a −0) is kept as it is. Shares the texts.
   */
  compact(): EventColumns {
    const c = this.columns;
    const ts = narrowTimes(c.ts, this.tsBase);
    const size = narrowSizes(c.size, this.sizeUnit);
    const levelSize = narrowSizes(c.levelSize, this.levelSizeUnit);
    const price = narrowPrices(c.price);
    const levelPrice = narrowPrices(c.levelPrice);
    const market = this.markets.length <= 0x100 && !(c.market instanceof Uint8Array) ? Uint8Array.from(c.market) : c.market;
    if (!ts && !size && !levelSize && price === c.price && levelPrice === c.levelPrice && market === c.market) return this;
    return new EventColumns(
      this.markets,
      { ...c, ts: ts?.column ?? c.ts, market, price, size: size?.column ?? c.size, levelPrice, levelSize: levelSize?.column ?? c.levelSize },
      this.texts,
      {
        positions: { snapshotEvents: this.snapshotEvents, textEvents: this.textEvents },
        scales: { tsBase: ts?.base ?? this.tsBase, sizeUnit: size?.unit ?? this.sizeUnit, levelSizeUnit: levelSize?.unit ?? this.levelSizeUnit },
      },
    );
  }

  /** The id (trade) or reason (stale) of event i, which must be a trade or stale event. */
  textOf(i: number): string {
    return this.texts[rank(this.textEvents, i)]!;
  }

  /** The i-th event as a fresh object (callers may keep or mutate it). */
  at(i: number): UnitEvent {
    const c = this.columns;
    const m = this.markets[c.market[i]!]!;
    const ts = c.ts[i]! + this.tsBase;
    switch (c.kind[i]) {
      case EVENT_KIND.snapshot: {
        const s = rank(this.snapshotEvents, i);
        const start = c.snapshotStart[s]!;
        const split = start + c.snapshotYesCount[s]!;
        return { t: 'snapshot', m, ts, yes: this.levels(start, split), no: this.levels(split, c.snapshotStart[s + 1]!) };
      }
      case EVENT_KIND.delta:
        return { t: 'delta', m, ts, side: SIDES[c.side[i]!]!, price: c.price[i]!, delta: this.sizeAt(i) };
      case EVENT_KIND.level:
        return { t: 'level', m, ts, side: SIDES[c.side[i]!]!, price: c.price[i]!, size: this.sizeAt(i) };
      case EVENT_KIND.trade:
        return { t: 'trade', m, ts, id: this.textOf(i), price: c.price[i]!, count: this.sizeAt(i), takerSide: SIDES[c.side[i]!]! };
      default:
        return { t: 'stale', m, ts, reason: this.textOf(i) };
    }
  }

  *[Symbol.iterator](): Iterator<UnitEvent> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  toArray(): UnitEvent[] {
    const out = new Array<UnitEvent>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(i);
    return out;
  }

  /** Index of the first event at or after `ts` (events are in time order). */
  lowerBound(ts: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tsAt(mid) < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Events [from, to) as columns (copies: the slice does not pin this one's buffers). */
  slice(from: number, to: number): EventColumns {
    if (from === 0 && to === this.length) return this;
    return this.select((i) => i >= from && i < to, from, to);
  }

  /** The events of the given markets, in the same order. */
  ofMarkets(markets: ReadonlySet<string>): EventColumns {
    const wanted = this.markets.map((m) => markets.has(m));
    return this.select((i) => wanted[this.columns.market[i]!]!, 0, this.length);
  }

  private select(keep: (i: number) => boolean, from: number, to: number): EventColumns {
    const builder = new EventColumnsBuilder(this.markets);
    for (let i = from; i < to; i++) if (keep(i)) builder.push(this.at(i));
    return builder.build();
  }

  private levels(from: number, to: number): Level[] {
    const out = new Array<Level>(to - from);
    for (let j = from; j < to; j++) out[j - from] = { price: this.columns.levelPrice[j]!, size: this.columns.levelSize[j]! * this.levelSizeUnit };
    return out;
  }
}

/** Where `i` is in the ascending `events` (it must be there). */
function rank(events: Uint32Array, i: number): number {
  let lo = 0;
  let hi = events.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]! < i) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type GrowableArray = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

/** A typed array that doubles as it fills. */
class Growable<T extends GrowableArray> {
  length = 0;
  constructor(private data: T) {}

  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new (this.data.constructor as new (n: number) => T)(Math.max(16, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  /** Exactly `length` elements, in a buffer of their own. */
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}

/** Appends unit events (in time order) into columns. */
export class EventColumnsBuilder {
  private readonly marketIndex = new Map<string, number>();
  private readonly marketNames: string[] = [];
  /** Events so far. The per-event columns are plain fields (one typed array type each, grown together), so every store is monomorphic. */
  private n = 0;
  private ts: Float64Array;
  private market: Uint16Array;
  private kind: Uint8Array;
  private side: Uint8Array;
  private price: Int32Array;
  private size: Float64Array;
  private readonly snapshotStart = new Growable(new Uint32Array(64));
  private readonly snapshotYesCount = new Growable(new Uint32Array(64));
  private readonly levelPrice = new Growable(new Int32Array(1024));
  private readonly levelSize = new Growable(new Float64Array(1024));
  private readonly texts: string[] = [];

  /** `capacity`: events expected (the columns grow past it as needed). */
  constructor(markets: readonly string[] = [], capacity = 1024) {
    const n = Math.max(16, capacity);
    this.ts = new Float64Array(n);
    this.market = new Uint16Array(n);
    this.kind = new Uint8Array(n);
    this.side = new Uint8Array(n);
    this.price = new Int32Array(n);
    this.size = new Float64Array(n);
    for (const m of markets) this.marketOf(m);
  }

  get length(): number {
    return this.n;
  }

  push(e: UnitEvent): void {
    switch (e.t) {
      case 'snapshot':
        this.pushRow(EVENT_KIND.snapshot, this.marketOf(e.m), e.ts, 0, 0, 0);
        this.snapshotStart.push(this.levelPrice.length);
        this.snapshotYesCount.push(e.yes.length);
        for (const l of e.yes) this.level(l);
        for (const l of e.no) this.level(l);
        break;
      case 'delta':
        this.pushRow(EVENT_KIND.delta, this.marketOf(e.m), e.ts, sideIndex(e.side), e.price, e.delta);
        break;
      case 'level':
        this.pushRow(EVENT_KIND.level, this.marketOf(e.m), e.ts, sideIndex(e.side), e.price, e.size);
        break;
      case 'trade':
        this.pushRow(EVENT_KIND.trade, this.marketOf(e.m), e.ts, sideIndex(e.takerSide), e.price, e.count, e.id);
        break;
      case 'stale':
        this.pushRow(EVENT_KIND.stale, this.marketOf(e.m), e.ts, 0, 0, 0, e.reason);
        break;
    }
  }

  /**
   * One event by its fields (no event object): `market` from `marketOf`, `side` 0 = yes (a trade's
   * taker side), `text` a trade's id or a stale event's reason. The price must fit the column.
   */
  pushRow(kind: number, market: number, ts: number, side: number, price: number, size: number, text?: string): void {
    if (!fitsPriceColumn(price)) throw new Error(`price units ${price} do not fit the event columns`);
    if (this.n === this.ts.length) this.grow();
    const i = this.n++;
    this.ts[i] = ts;
    this.market[i] = market;
    this.kind[i] = kind;
    this.side[i] = side;
    this.price[i] = price;
    this.size[i] = size;
    if (text !== undefined) this.texts.push(text);
  }

  build(): EventColumns {
    const snapshotStart = new Uint32Array(this.snapshotStart.length + 1);
    snapshotStart.set(this.snapshotStart.done());
    snapshotStart[this.snapshotStart.length] = this.levelPrice.length;
    const n = this.n;
    // Exactly-sized columns; a builder filled to its capacity hands its own over.
    const exact = <T extends GrowableArray>(a: T): T => (a.length === n ? a : (a.slice(0, n) as T));
    return new EventColumns(
      [...this.marketNames],
      {
        ts: exact(this.ts),
        market: exact(this.market),
        kind: exact(this.kind),
        side: exact(this.side),
        price: exact(this.price),
        size: exact(this.size),
        snapshotStart,
        snapshotYesCount: this.snapshotYesCount.done(),
        levelPrice: this.levelPrice.done(),
        levelSize: this.levelSize.done(),
      },
      [...this.texts],
    );
  }

  private grow(): void {
    const n = this.ts.length * 2;
    const bigger = <T extends GrowableArray>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.ts = bigger(this.ts);
    this.market = bigger(this.market);
    this.kind = bigger(this.kind);
    this.side = bigger(this.side);
    this.price = bigger(this.price);
    this.size = bigger(this.size);
  }

  private level(l: Level): void {
    if (!fitsPriceColumn(l.price)) throw new Error(`price units ${l.price} do not fit the event columns`);
    this.levelPrice.push(l.price);
    this.levelSize.push(l.size);
  }

  /** The number of market `m` in these columns (given on its first use). */
  marketOf(m: string): number {
    let i = this.marketIndex.get(m);
    if (i === undefined) {
      if (this.marketNames.length > 0xffff) throw new Error('more than 65536 markets in one set of event columns');
      i = this.marketNames.length;
      this.marketIndex.set(m, i);
      this.marketNames.push(m);
    }
    return i;
  }
}

const sideIndex = (s: BookSide) => (s === 'yes' ? 0 : 1);

/** Whether a price in units fits the price columns (32-bit integers; far beyond any book's prices). */
export const fitsPriceColumn = (price: number): boolean => Number.isInteger(price) && price >= -(2 ** 31) && price < 2 ** 31;

/** Whether every price of a unit event fits the columns, so `EventColumnsBuilder.push` can take it. */
export function fitsColumns(e: UnitEvent): boolean {
  if (e.t === 'stale') return true;
  if (e.t !== 'snapshot') return fitsPriceColumn(e.price);
  for (const l of e.yes) if (!fitsPriceColumn(l.price)) return false;
  for (const l of e.no) if (!fitsPriceColumn(l.price)) return false;
  return true;
}

/**
 * k-way merge by exchange time; ties keep the order of the inputs (all of the first list's events
 * at a timestamp before the second's).
 */
export function mergeColumnsByTime(lists: readonly EventColumns[], markets: readonly string[]): EventColumns {
  const builder = new EventColumnsBuilder(markets);
  const idx = lists.map(() => 0);
  for (;;) {
    let best = -1;
    let bestTs = Infinity;
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i]!;
      const j = idx[i]!;
      if (j < list.length && (best < 0 || list.tsAt(j) < bestTs)) {
        best = i;
        bestTs = list.tsAt(j);
      }
    }
    if (best < 0) return builder.build();
    builder.push(lists[best]!.at(idx[best]!++));
  }
}

/**
 * Checks every cross-reference and invariant of columns read from outside (a cache file): a
 * corrupt file must be refused, never replayed. Throws with the first problem found (rule by rule).
 */
export function validateEventColumns(markets: readonly string[], c: EventColumnArrays, texts: readonly string[], scales: ColumnScales = WIDE_SCALES): EventPositions {
  const n = c.ts.length;
  for (const [name, col] of Object.entries(c) as [string, GrowableArray][]) {
    const expected = name === 'snapshotStart' ? c.snapshotYesCount.length + 1 : name === 'snapshotYesCount' ? col.length : name.startsWith('level') ? c.levelPrice.length : n;
    if (col.length !== expected) throw new Error(`column ${name} has ${col.length} entries, expected ${expected}`);
  }
  validateScales(c, scales);
  checkTimes(c.ts, scales.tsBase);
  checkCodes(c.market, markets.length, c.kind, c.side);
  // An i32 size times a unit of at most 10^6 is always a safe integer: only wide sizes need the check.
  if (c.size instanceof Float64Array) checkSizes(c.size, 'event');
  if (c.levelSize instanceof Float64Array) checkSizes(c.levelSize, 'level');
  const positions = findPositions(c.kind, c.snapshotYesCount.length, texts.length);
  validateLevels(c);
  return positions;
}

// One small function per rule, each one loop: a loop over millions of events is optimized on its own
// (on-stack replacement), with no code after it left without type feedback to deoptimize on.

function checkTimes(ts: Float64Array | Uint32Array, tsBase: number): void {
  if (ts instanceof Uint32Array) return checkTimeOffsets(ts, tsBase);
  let lastTs = -Infinity;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]! + tsBase;
    if (!(t >= lastTs) || !Number.isSafeInteger(t)) throw new Error(`event ${i}: time ${t} is not an integer at or after ${lastTs}`);
    lastTs = t;
  }
}

/**
 * u32 times are integers: ascending offsets and a safe last time are enough. The loop reads the
 * offsets alone (small integers): adding the base in it would box a double per event until the
 * loop is optimized.
 */
function checkTimeOffsets(ts: Uint32Array, tsBase: number): void {
  let last = 0;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    if (t < last) throw new Error(`event ${i}: time ${t + tsBase} is before ${last + tsBase}`);
    last = t;
  }
  if (!Number.isSafeInteger(tsBase + last)) throw new Error(`time ${tsBase + last} is not a safe integer`);
}

function checkCodes(market: Uint16Array | Uint8Array, markets: number, kind: Uint8Array, side: Uint8Array): void {
  for (let i = 0; i < market.length; i++) {
    if (market[i]! >= markets || kind[i]! >= EVENT_KINDS.length || side[i]! > 1) throw new Error(`event ${i}: market index ${market[i]}, kind ${kind[i]} or side ${side[i]} out of range`);
  }
}

function checkSizes(size: Float64Array, what: string): void {
  for (let i = 0; i < size.length; i++) if (!Number.isSafeInteger(size[i]!)) throw new Error(`${what} ${i}: size ${size[i]} is not an integer`);
}

/** Snapshots and texts are taken in order: one stored per snapshot event, one per trade or stale event. */
function findPositions(kind: Uint8Array, snapshots: number, texts: number): EventPositions {
  const positions = eventPositions(kind);
  if (positions.snapshotEvents.length !== snapshots) throw new Error(`${snapshots} snapshots stored, ${positions.snapshotEvents.length} snapshot events`);
  if (positions.textEvents.length !== texts) throw new Error(`${texts} texts stored, ${positions.textEvents.length} trade and stale events`);
  return positions;
}

/** Wide columns carry no scale; narrow ones a safe time base and a size unit from SIZE_UNITS. */
function validateScales(c: EventColumnArrays, { tsBase, sizeUnit, levelSizeUnit }: ColumnScales): void {
  if (c.ts instanceof Uint32Array ? !Number.isSafeInteger(tsBase) : tsBase !== 0) throw new Error(`time base ${tsBase} does not suit ${c.ts.constructor.name} times`);
  for (const [name, column, unit] of [
    ['size', c.size, sizeUnit],
    ['levelSize', c.levelSize, levelSizeUnit],
  ] as const) {
    if (column instanceof Int32Array ? !SIZE_UNITS.includes(unit) : unit !== 1) throw new Error(`${name} unit ${unit} does not suit ${column.constructor.name} sizes`);
  }
}

function validateLevels(c: EventColumnArrays): void {
  const snapshots = c.snapshotYesCount.length;
  if (c.snapshotStart[0] !== 0 && snapshots > 0) throw new Error('snapshot levels do not start at 0');
  for (let s = 0; s < snapshots; s++) {
    const start = c.snapshotStart[s]!;
    const end = c.snapshotStart[s + 1]!;
    if (end < start || start + c.snapshotYesCount[s]! > end) throw new Error(`snapshot ${s}: level range ${start}..${end} is inconsistent`);
  }
  if (c.snapshotStart[snapshots] !== c.levelPrice.length) throw new Error('snapshot levels do not cover the level columns');
}

const U32_MAX = 0xffff_ffff;
const I32_MAX = 0x7fff_ffff;
const U16_MAX = 0xffff;
const isNegativeZero = (v: number) => v === 0 && 1 / v < 0;

/** Wide times as u32 ms after the earliest, if every one is a safe integer (no −0) within 2^32 ms of it. */
function narrowTimes(ts: Float64Array | Uint32Array, tsBase: number): { column: Uint32Array; base: number } | undefined {
  if (ts instanceof Uint32Array || ts.length === 0) return undefined;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]! + tsBase;
    if (!Number.isSafeInteger(t) || isNegativeZero(t)) return undefined;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  if (max - min > U32_MAX) return undefined;
  const column = new Uint32Array(ts.length);
  for (let i = 0; i < ts.length; i++) column[i] = ts[i]! + tsBase - min;
  return { column, base: min };
}

/** Wide sizes as i32 multiples of the largest unit in SIZE_UNITS that divides them all, if they fit (and none is −0). */
function narrowSizes(size: Float64Array | Int32Array, unit: number): { column: Int32Array; unit: number } | undefined {
  if (size instanceof Int32Array) return undefined;
  let k = 0;
  let maxAbs = 0;
  for (let i = 0; i < size.length; i++) {
    const s = size[i]! * unit;
    if (!Number.isSafeInteger(s) || isNegativeZero(s)) return undefined;
    while (s % SIZE_UNITS[k]! !== 0) k++;
    maxAbs = Math.max(maxAbs, Math.abs(s));
  }
  const narrowUnit = SIZE_UNITS[k]!;
  if (maxAbs / narrowUnit > I32_MAX) return undefined;
  const column = new Int32Array(size.length);
  for (let i = 0; i < size.length; i++) column[i] = (size[i]! * unit) / narrowUnit;
  return { column, unit: narrowUnit };
}

/** Prices as u16 if all are in 0..65535 (book prices are 0..10000 units), else as they are. */
function narrowPrices(price: Int32Array | Uint16Array): Int32Array | Uint16Array {
  if (price instanceof Uint16Array) return price;
  for (let i = 0; i < price.length; i++) if (price[i]! < 0 || price[i]! > U16_MAX) return price;
  return Uint16Array.from(price);
}
