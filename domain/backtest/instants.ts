import type { BookStore } from '../market-data/book-store';
import { EventColumns } from '../market-data/event-columns';
import type { UnitEvent } from '../market-data/events';

/**
 * The backtester's events one instant at a time (every event of one exchange millisecond), from
 * an array of event objects or straight from event columns. Both apply an instant to the books the
 * same way (`BookStore.applyAll` / `applyColumns`); the columns build no event object unless one
 * is asked for (`events()`).
 */
export interface InstantSource {
  /** Exchange time of the next instant; Infinity once every event was applied. */
  nextTs(): number;
  /** Applies the next instant's events to `store`, in order, and returns how many there were. */
  applyNext(store: BookStore, receivedAtMs: number): number;
  /** The markets of the last instant applied, each once, in the order they first appear: `touched[0 .. touchedCount)`. */
  readonly touched: readonly string[];
  readonly touchedCount: number;
  /** The last instant's events as objects. */
  events(): readonly UnitEvent[];
}

export function instantsOf(events: Iterable<UnitEvent>): InstantSource {
  return events instanceof EventColumns ? new ColumnInstants(events) : new ObjectInstants(events);
}

class ObjectInstants implements InstantSource {
  touched: readonly string[] = [];
  touchedCount = 0;
  private readonly it: Iterator<UnitEvent>;
  private next: IteratorResult<UnitEvent>;
  private group: UnitEvent[] = [];

  constructor(events: Iterable<UnitEvent>) {
    this.it = events[Symbol.iterator]();
    this.next = this.it.next();
  }

  nextTs(): number {
    return this.next.done ? Infinity : this.next.value.ts;
  }

  applyNext(store: BookStore, receivedAtMs: number): number {
    const group: UnitEvent[] = [];
    const at = this.nextTs();
    while (!this.next.done && this.next.value.ts === at) {
      group.push(this.next.value);
      this.next = this.it.next();
    }
    this.group = group;
    store.applyAll(group, receivedAtMs);
    this.touched = group.length === 1 ? [group[0]!.m] : [...new Set(group.map((e) => e.m))];
    this.touchedCount = this.touched.length;
    return group.length;
  }

  events(): readonly UnitEvent[] {
    return this.group;
  }
}

class ColumnInstants implements InstantSource {
  readonly touched: string[] = [];
  touchedCount = 0;
  private next = 0;
  private from = 0;
  private group: UnitEvent[] | undefined;
  /** Per market index, the number of the last instant that touched it (dedupes `touched` without a Set). */
  private readonly seenIn: Uint32Array;
  private instant = 0;

  constructor(private readonly columns: EventColumns) {
    this.seenIn = new Uint32Array(columns.markets.length);
  }

  nextTs(): number {
    return this.next < this.columns.length ? this.columns.tsAt(this.next) : Infinity;
  }

  applyNext(store: BookStore, receivedAtMs: number): number {
    const { ts, market } = this.columns.columns;
    const names = this.columns.markets;
    const from = this.next;
    const at = ts[from];
    let to = from + 1;
    // Equal stored times are equal times (one base for the whole column).
    while (to < this.columns.length && ts[to] === at) to++;
    this.from = from;
    this.next = to;
    this.group = undefined;
    store.applyColumns(this.columns, from, to, receivedAtMs);
    if (to - from === 1) {
      this.touched[0] = names[market[from]!]!;
      this.touchedCount = 1;
    } else {
      const instant = ++this.instant;
      let n = 0;
      for (let i = from; i < to; i++) {
        const m = market[i]!;
        if (this.seenIn[m] === instant) continue;
        this.seenIn[m] = instant;
        this.touched[n++] = names[m]!;
      }
      this.touchedCount = n;
    }
    return to - from;
  }

  events(): readonly UnitEvent[] {
    if (this.group === undefined) {
      this.group = [];
      for (let i = this.from; i < this.next; i++) this.group.push(this.columns.at(i));
    }
    return this.group;
  }
}
