import { Dec } from '../decimal';

/**
 * Reconciliation (NautilusTrader's, at start-up and after reconnects): what the venue says of our
 * orders and positions against what Kestrel recorded. Pure: the caller fetches both sides, this
 * names every difference, and the caller applies or reports each one.
 */

export interface VenueOrderView {
  venueOrderId: string;
  clientOrderId: string;
  market: string;
  status: 'resting' | 'filled' | 'canceled';
  /** Contracts filled so far. */
  filled: string;
}

export interface RecordedOrderView {
  clientOrderId: string;
  venueOrderId?: string;
  market: string;
  /** As recorded; `submitting` = sent, outcome not yet known. */
  status: string;
  filled: string;
}

export interface RecordedPositionView {
  positionId: string;
  market: string;
  outcome: 'yes' | 'no';
  /** Contracts Kestrel holds in this position now. */
  remaining: string;
}

/** Net contracts per market as the venue holds them: YES positive, NO negative (Kalshi's `position_fp`). */
export interface VenuePositionView {
  market: string;
  netYes: string;
}

export type ReconciliationDifference =
  /** The venue has moved on (more filled, or no longer resting): Kestrel's record is behind. */
  | { kind: 'order_behind'; clientOrderId: string; market: string; recorded: { status: string; filled: string }; venue: { status: string; filled: string } }
  /** Sent with an unknown outcome, and the venue has it: the outcome is now known. */
  | { kind: 'order_outcome_found'; clientOrderId: string; market: string; venue: { status: string; filled: string } }
  /** Recorded as resting (or sent), the venue has no such order. */
  | { kind: 'order_missing_at_venue'; clientOrderId: string; market: string; recordedStatus: string }
  /** Resting at the venue under a client order id Kestrel never recorded (another tool, or lost records). */
  | { kind: 'unknown_venue_order'; venueOrderId: string; clientOrderId: string; market: string }
  /** The venue's net position in a market differs from the sum of Kestrel's open positions there. */
  | { kind: 'position_mismatch'; market: string; venueNetYes: string; recordedNetYes: string };

const RESTING_LIKE = new Set(['resting', 'submitting']);

export function reconcile(recorded: { orders: readonly RecordedOrderView[]; positions: readonly RecordedPositionView[] }, venue: { orders: readonly VenueOrderView[]; positions: readonly VenuePositionView[] }): ReconciliationDifference[] {
  const out: ReconciliationDifference[] = [];
  const venueByClientId = new Map(venue.orders.map((o) => [o.clientOrderId, o]));
  const recordedIds = new Set(recorded.orders.map((o) => o.clientOrderId));
  for (const ours of recorded.orders) {
    const theirs = venueByClientId.get(ours.clientOrderId);
    if (!theirs) {
      if (RESTING_LIKE.has(ours.status)) out.push({ kind: 'order_missing_at_venue', clientOrderId: ours.clientOrderId, market: ours.market, recordedStatus: ours.status });
      continue;
    }
    if (ours.status === 'submitting') {
      out.push({ kind: 'order_outcome_found', clientOrderId: ours.clientOrderId, market: ours.market, venue: { status: theirs.status, filled: theirs.filled } });
      continue;
    }
    if (new Dec(theirs.filled).gt(ours.filled) || (ours.status === 'resting' && theirs.status !== 'resting')) {
      out.push({ kind: 'order_behind', clientOrderId: ours.clientOrderId, market: ours.market, recorded: { status: ours.status, filled: ours.filled }, venue: { status: theirs.status, filled: theirs.filled } });
    }
  }
  for (const theirs of venue.orders) {
    if (theirs.status === 'resting' && !recordedIds.has(theirs.clientOrderId)) out.push({ kind: 'unknown_venue_order', venueOrderId: theirs.venueOrderId, clientOrderId: theirs.clientOrderId, market: theirs.market });
  }
  const recordedNet = new Map<string, Dec>();
  for (const p of recorded.positions) recordedNet.set(p.market, (recordedNet.get(p.market) ?? new Dec(0)).plus(p.outcome === 'yes' ? p.remaining : new Dec(p.remaining).neg()));
  const venueNet = new Map(venue.positions.map((p) => [p.market, new Dec(p.netYes)]));
  for (const market of new Set([...recordedNet.keys(), ...venueNet.keys()])) {
    const ours = recordedNet.get(market) ?? new Dec(0);
    const theirs = venueNet.get(market) ?? new Dec(0);
    if (!ours.eq(theirs)) out.push({ kind: 'position_mismatch', market, venueNetYes: theirs.toFixed(2), recordedNetYes: ours.toFixed(2) });
  }
  return out;
}
