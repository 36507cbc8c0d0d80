import { Dec } from '../../domain/decimal';
import { polymarketTakerFee } from '../../domain/fees';
import type { FillWire } from '../../domain/trading/wire';
import { parsePolymarketUserMessage, tradeStatusMayFollow, type PolymarketTradeStatus, type PolymarketUserTrade } from './user-messages';

/** One of our fills in one venue trade: its status follows the trade's (a FAILED trade takes the fill back). */
export interface PolymarketFill {
  tradeId: string;
  orderId: string;
  status: PolymarketTradeStatus;
  fill: FillWire;
}

/** What a trade message did to our fills. */
export type FillChange = { kind: 'added' | 'status' | 'reverted'; fill: PolymarketFill } | { kind: 'ignored'; reason: string };

/**
 * Our fills from the user channel's trade messages, per order id. A trade names us as its taker
 * (`taker_order_id`) or among its maker orders; each of ours becomes a fill when the trade is first
 * seen (MATCHED: the venue matched it and is settling it on chain), follows it to MINED and
 * CONFIRMED, and is taken back if the trade ends FAILED. A status that does not move forward (a
 * repeat, or a late message) changes nothing. The taker pays `shares × rate × p × (1 − p)` floored
 * to 5 decimals; makers pay nothing.
 */
export class PolymarketFillLedger {
  private readonly fills = new Map<string, PolymarketFill>();

  constructor(private readonly isOurs: (orderId: string) => boolean) {}

  apply(trade: PolymarketUserTrade): FillChange[] {
    const ours: { orderId: string; size: string; price: string; liquidity: 'taker' | 'maker'; feeBps?: string }[] = [];
    if (trade.trader_side === 'TAKER' && this.isOurs(trade.taker_order_id)) ours.push({ orderId: trade.taker_order_id, size: trade.size, price: trade.price, liquidity: 'taker', feeBps: trade.fee_rate_bps });
    for (const maker of trade.maker_orders) if (this.isOurs(maker.order_id)) ours.push({ orderId: maker.order_id, size: maker.matched_amount, price: maker.price, liquidity: 'maker' });
    if (ours.length === 0) return [{ kind: 'ignored', reason: `trade ${trade.id} names none of our orders` }];
    return ours.map((o) => this.track(trade, o));
  }

  private track(trade: PolymarketUserTrade, o: { orderId: string; size: string; price: string; liquidity: 'taker' | 'maker'; feeBps?: string }): FillChange {
    const key = `${trade.id}|${o.orderId}`;
    const known = this.fills.get(key);
    if (known) {
      if (!tradeStatusMayFollow(known.status, trade.status)) return { kind: 'ignored', reason: `trade ${trade.id}: ${trade.status} after ${known.status}` };
      known.status = trade.status;
      return { kind: trade.status === 'FAILED' ? 'reverted' : 'status', fill: known };
    }
    const shares = new Dec(o.size);
    const price = new Dec(o.price);
    const fee = o.liquidity === 'taker' && o.feeBps !== undefined ? polymarketTakerFee({ contracts: shares, price, rate: new Dec(o.feeBps).div(10_000), exponent: 1 }) : new Dec(0);
    const fill: PolymarketFill = { tradeId: trade.id, orderId: o.orderId, status: trade.status, fill: { price: price.toFixed(4), size: shares.toFixed(6), liquidity: o.liquidity, fee: fee.toFixed(5), tsMs: trade.match_time } };
    this.fills.set(key, fill);
    // A trade first seen as FAILED never filled anything.
    return { kind: trade.status === 'FAILED' ? 'reverted' : 'added', fill };
  }

  /** A trade message (user channel, or a REST trade with `event_type: 'trade'`) applied; a malformed one is reported. */
  applyMessage(msg: unknown): { ok: true; changes: FillChange[] } | { ok: false; error: string } {
    const parsed = parsePolymarketUserMessage(msg);
    if (!parsed.ok) return parsed;
    if (parsed.value.kind !== 'trade') return { ok: false, error: `not a trade: ${parsed.value.kind}` };
    return { ok: true, changes: this.apply(parsed.value.trade) };
  }

  /** Whether the trade's fill of this order is known already. */
  knowsTrade(tradeId: string, orderId: string): boolean {
    return this.fills.has(`${tradeId}|${orderId}`);
  }

  /** Whether any trade ever named the order (its fills decide its filled size, even when all failed). */
  seen(orderId: string): boolean {
    for (const f of this.fills.values()) if (f.orderId === orderId) return true;
    return false;
  }

  /** The order's fills that stand (every status but FAILED). */
  fillsOf(orderId: string): PolymarketFill[] {
    return [...this.fills.values()].filter((f) => f.orderId === orderId && f.status !== 'FAILED');
  }
}
