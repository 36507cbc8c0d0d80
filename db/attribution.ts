import { sql } from 'drizzle-orm';
import { Dec } from '../domain/decimal';
import type { ClosedTrade } from '../domain/signals/degradation';
import type { Database } from './client';

/**
 * The signal behind a position (`p`): engine and rule signals are referred to as signal:<id>,
 * model-edge signals by their key (both indexed).
 */
const SIGNAL_OF_POSITION = sql`left join lateral (
      select type, category from signals
      where signal_key = p.signal_id or id = (case when p.signal_id ~ '^signal:[0-9]+$' then substring(p.signal_id from 8)::bigint end)
      limit 1
    ) s on true`;

/** Positions that traded and are done: closed or settled with contracts bought. */
const TRADED_AND_DONE = sql`p.status in ('closed', 'settled') and p.size > 0 and p.closed_at is not null`;

export interface SignalAttributionRow {
  /** Null: the position's signal is not a `signals` row (positions recorded before every entry's signal was). */
  type: string | null;
  category: string | null;
  modelVersionId: number | null;
  model: string | null;
  modelVersion: string | null;
  trades: number;
  wins: number;
  losses: number;
  /** wins / trades. */
  winRate: number;
  /** Realized P&L after fees, fees, and P&L per trade: dollars. */
  pnl: string;
  fees: string;
  pnlPerTrade: string;
}

/**
 * P&L, win rate and count per signal type × category × model version, from positions that closed
 * in [fromMs, toMs): real trades (live, paper, replays), joined positions → signals → model_versions.
 */
export async function signalAttribution(db: Database, range: { fromMs: number; toMs: number }): Promise<SignalAttributionRow[]> {
  if (!(Number.isFinite(range.fromMs) && Number.isFinite(range.toMs) && range.fromMs < range.toMs)) throw new RangeError(`attribution window must be a non-empty range, got ${range.fromMs} … ${range.toMs}`);
  const rows = (await db.execute(sql`
    select s.type, s.category, mv.id as model_version_id, mv.model_name, mv.version as model_version,
           count(*)::int as trades, count(*) filter (where p.realized_pnl > 0)::int as wins, count(*) filter (where p.realized_pnl < 0)::int as losses,
           sum(p.realized_pnl)::text as pnl, sum(p.fees)::text as fees
    from positions p
    ${SIGNAL_OF_POSITION}
    left join model_versions mv on mv.id = p.model_version_id
    where ${TRADED_AND_DONE} and p.closed_at >= ${new Date(range.fromMs).toISOString()}::timestamptz and p.closed_at < ${new Date(range.toMs).toISOString()}::timestamptz
    group by 1, 2, 3, 4, 5
    order by 1 nulls last, 2 nulls last, 3 nulls last`)) as unknown as { type: string | null; category: string | null; model_version_id: string | number | null; model_name: string | null; model_version: string | null; trades: number; wins: number; losses: number; pnl: string; fees: string }[];
  return rows.map((r) => ({
    type: r.type,
    category: r.category,
    modelVersionId: r.model_version_id === null ? null : Number(r.model_version_id),
    model: r.model_name,
    modelVersion: r.model_version,
    trades: r.trades,
    wins: r.wins,
    losses: r.losses,
    winRate: r.wins / r.trades,
    pnl: new Dec(r.pnl).toFixed(6),
    fees: new Dec(r.fees).toFixed(6),
    pnlPerTrade: new Dec(r.pnl).div(r.trades).toFixed(6),
  }));
}

/** Each signal type's last `perType` traded-and-closed positions (newest first), for the degradation rule. */
export async function recentClosedTradesByType(db: Database, perType: number): Promise<ClosedTrade[]> {
  if (!Number.isInteger(perType) || perType < 1) throw new RangeError(`perType must be a positive integer, got ${perType}`);
  const rows = (await db.execute(sql`
    select type, closed_at, pnl from (
      select s.type, p.closed_at, p.realized_pnl::text as pnl,
             row_number() over (partition by s.type order by p.closed_at desc, p.position_id desc) as n
      from positions p
      ${SIGNAL_OF_POSITION}
      where ${TRADED_AND_DONE} and s.type is not null
    ) t where n <= ${perType}
    order by type, closed_at desc`)) as unknown as { type: string; closed_at: Date | string; pnl: string }[];
  return rows.map((r) => ({ type: r.type, closedAtMs: new Date(r.closed_at).getTime(), pnl: r.pnl }));
}
