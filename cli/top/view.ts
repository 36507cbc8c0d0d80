import type { DashboardData } from '../../observability/dashboard';
import { Dec } from '../../domain/decimal';
import type { PublishedTopOfBook } from '../../workers/market-data/top-of-book';

/** One refresh of `kestrel top`: the console's data, the published tops of the held markets and who owns the market-data partitions. */
export interface TopSnapshot {
  data: DashboardData;
  tops: ReadonlyMap<string, PublishedTopOfBook>;
  partitions: { partition: number; owner: string | null; ttlMs: number | null }[];
  /** Live market-data processes (lease members). */
  members: string[];
  readAtMs: number;
}

/** A signed amount at 4 decimals ('+0.1200', '-0.0500'), '—' when unknown. */
export function signed(amount: string | null | undefined): string {
  if (amount === null || amount === undefined || amount === '') return '—';
  const d = new Dec(amount);
  return `${d.gt(0) ? '+' : ''}${d.toFixed(4)}`;
}

/** Green for gains, red for losses, none for zero or unknown (ink colour names). */
export function pnlColor(amount: string | null | undefined): 'green' | 'red' | undefined {
  if (!amount) return undefined;
  const d = new Dec(amount);
  return d.gt(0) ? 'green' : d.lt(0) ? 'red' : undefined;
}

const BARS = '▁▂▃▄▅▆▇█';

/** The last `width` points of a series as block characters, lowest to highest; '' for no points. */
export function sparkline(values: readonly string[], width: number): string {
  const points = values.slice(-Math.max(0, width)).map((v) => new Dec(v));
  if (points.length === 0) return '';
  const lo = Dec.min(...points);
  const span = Dec.max(...points).minus(lo);
  return points.map((p) => (span.isZero() ? BARS[3] : BARS[p.minus(lo).div(span).times(BARS.length - 1).round().toNumber()])).join('');
}

/** Sum of the open positions' unrealized P&L that could be marked, and how many could not. */
export function unrealizedTotal(open: DashboardData['open']): { total: string; unmarked: number } {
  let total = new Dec(0);
  let unmarked = 0;
  for (const p of open) {
    if (p.unrealizedPnl === null) unmarked++;
    else total = total.plus(p.unrealizedPnl);
  }
  return { total: total.toFixed(4), unmarked };
}

/** A duration for humans: 850ms, 12s, 4m, 3h. */
export function age(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}

export interface FeedRow {
  market: string;
  bid: string;
  ask: string;
  /** How long ago the partition's owner applied the market's newest event ('—' when it did not say). */
  age: string;
  state: 'ok' | 'stale' | 'no top';
  detail: string;
}

const FEED_STATE_ORDER: Record<FeedRow['state'], number> = { stale: 0, 'no top': 1, ok: 2 };

/** Feed health of each held market: its published top, how old it is and why it is stale, if it is; trouble first. */
export function feedRows(snapshot: TopSnapshot): FeedRow[] {
  const markets = [...new Set(snapshot.data.open.map((p) => p.market))].sort();
  const rows = markets.map((market): FeedRow => {
    const top = snapshot.tops.get(market);
    if (!top) return { market, bid: '—', ask: '—', age: '—', state: 'no top', detail: 'no book worker has published this market' };
    return {
      market,
      bid: top.yesBid || '—',
      ask: top.yesAsk || '—',
      age: top.receivedAtMs === undefined ? '—' : age(snapshot.readAtMs - top.receivedAtMs),
      state: top.stale ? 'stale' : 'ok',
      detail: top.stale,
    };
  });
  // Stable sort: markets stay alphabetical within a state.
  return rows.sort((a, b) => FEED_STATE_ORDER[a.state] - FEED_STATE_ORDER[b.state]);
}

/** One line on the market-data partitions: how many are owned, by how many live processes. */
export function partitionSummary(snapshot: TopSnapshot): { text: string; healthy: boolean } {
  const owned = snapshot.partitions.filter((p) => p.owner !== null).length;
  const total = snapshot.partitions.length;
  const unowned = snapshot.partitions.filter((p) => p.owner === null).map((p) => p.partition);
  const processes = `${snapshot.members.length} market-data process${snapshot.members.length === 1 ? '' : 'es'}`;
  return {
    text: `partitions ${owned}/${total} owned, ${processes}${unowned.length ? `; no owner: ${unowned.join(', ')}` : ''}`,
    healthy: owned === total && total > 0,
  };
}

/** The first row to show so that `selected` stays inside a window of `height` rows over `count` rows. */
export function windowStart(count: number, selected: number, height: number): number {
  if (height <= 0 || count <= height) return 0;
  const clamped = Math.min(Math.max(selected, 0), count - 1);
  return Math.min(Math.max(0, clamped - Math.floor(height / 2)), count - height);
}

/** Rows the screen's parts take besides the sections: header, risk, P&L, message or prompt, key help. */
export const FIXED_ROWS = 5;
export interface SectionRows {
  positions: number;
  feeds: number;
  closed: number;
  signals: number;
  runs: number;
}

/** A section's title and column header. */
const SECTION_CHROME = 2;

/**
 * Row counts for each section on a screen `rows` high, given how many rows each has to show. The
 * open positions first get up to 5 rows (at least one), then feed health, recently closed
 * positions, signals and strategy runs a few rows each while they fit (in that order), then the
 * open positions everything left.
 */
export function sectionHeights(rows: number, have: SectionRows): SectionRows {
  const positionsFirst = Math.max(1, Math.min(5, have.positions, rows - FIXED_ROWS - SECTION_CHROME));
  let spare = rows - FIXED_ROWS - SECTION_CHROME - positionsFirst;
  const take = (want: number) => {
    const n = Math.min(want, spare - SECTION_CHROME);
    if (n < 1) return 0;
    spare -= n + SECTION_CHROME;
    return n;
  };
  // An empty section still takes one row, to say it is empty.
  const feeds = take(Math.min(4, Math.max(1, have.feeds)));
  const closed = take(Math.min(3, Math.max(1, have.closed)));
  const signals = take(Math.min(5, Math.max(1, have.signals)));
  const runs = take(Math.min(3, Math.max(1, have.runs)));
  return { positions: positionsFirst + Math.max(0, spare), feeds, closed, signals, runs };
}

/** Truncates text to `width` columns, ending in '…' when cut. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
