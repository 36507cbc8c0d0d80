import { sql } from 'drizzle-orm';
import type { Database } from './client';

/** One window's trading activity, as the daily report shows it (money as decimal text, dollars). */
export interface TradingActivity {
  /** Closed or settled in the window, per strategy version and venue. */
  closed: { strategy: string; venue: string; trades: number; wins: number; losses: number; pnl: string; fees: string }[];
  opened: number;
  /** Open at the end of the window: count and entry cost of the contracts bought. */
  open: { positions: number; exposure: string };
  /** Orders submitted in the window, by status. */
  orders: { status: string; count: number }[];
  fills: { count: number; contracts: string; fees: string };
  exits: { reason: string; count: number; pnl: string }[];
  signals: { type: string; fired: number; actionable: number }[];
  reconciliation: { kind: string; count: number }[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Positions, orders, fills, exits, signals and reconciliation differences of [fromMs, toMs). */
export async function tradingActivity(db: Database, range: { fromMs: number; toMs: number }): Promise<TradingActivity> {
  if (!(Number.isFinite(range.fromMs) && Number.isFinite(range.toMs) && range.fromMs < range.toMs)) throw new RangeError(`report window must be a non-empty range, got ${range.fromMs} … ${range.toMs}`);
  const from = sql`${iso(range.fromMs)}::timestamptz`;
  const to = sql`${iso(range.toMs)}::timestamptz`;
  const rows = async <T>(query: ReturnType<typeof sql>) => (await db.execute(query)) as unknown as T[];
  const [closed, [opened], [open], orders, [fills], exits, signals, reconciliation] = await Promise.all([
    rows<TradingActivity['closed'][number]>(sql`
      select coalesce(sv.strategy_name || ' ' || sv.version, p.strategy_id) as strategy, p.venue,
             count(*)::int as trades, count(*) filter (where p.realized_pnl > 0)::int as wins, count(*) filter (where p.realized_pnl < 0)::int as losses,
             sum(p.realized_pnl)::text as pnl, sum(p.fees)::text as fees
      from positions p left join strategy_versions sv on sv.id = p.strategy_version_id
      where p.status in ('closed', 'settled') and p.closed_at >= ${from} and p.closed_at < ${to}
      group by 1, 2 order by 1, 2`),
    rows<{ n: number }>(sql`select count(*)::int as n from positions where opened_at >= ${from} and opened_at < ${to}`),
    rows<{ positions: number; exposure: string }>(sql`
      select count(*)::int as positions, coalesce(sum(size * coalesce(entry_price, 0)), 0)::text as exposure
      from positions where size > 0 and opened_at < ${to} and (closed_at is null or closed_at >= ${to})`),
    rows<{ status: string; count: number }>(sql`select status, count(*)::int as count from orders where submitted_at >= ${from} and submitted_at < ${to} group by 1 order by 1`),
    rows<TradingActivity['fills']>(sql`select count(*)::int as count, coalesce(sum(size), 0)::text as contracts, coalesce(sum(fee), 0)::text as fees from fills where filled_at >= ${from} and filled_at < ${to}`),
    rows<TradingActivity['exits'][number]>(sql`select reason, count(*)::int as count, sum(realized_pnl)::text as pnl from position_exits where finished_at >= ${from} and finished_at < ${to} group by 1 order by 2 desc, 1`),
    rows<TradingActivity['signals'][number]>(sql`select type, count(*)::int as fired, count(*) filter (where actionable)::int as actionable from signals where fired_at >= ${from} and fired_at < ${to} group by 1 order by 2 desc, 1`),
    rows<TradingActivity['reconciliation'][number]>(sql`select kind, count(*)::int as count from reconciliation_events where at >= ${from} and at < ${to} group by 1 order by 1`),
  ]);
  return { closed, opened: opened?.n ?? 0, open: open ?? { positions: 0, exposure: '0' }, orders, fills: fills ?? { count: 0, contracts: '0', fees: '0' }, exits, signals, reconciliation };
}
