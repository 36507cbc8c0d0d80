import { desc, inArray } from 'drizzle-orm';
import type { Database } from '../db/client';
import { positions, retrainingRuns, signals, strategyRuns } from '../db/schema';
import { readRiskState } from '../db/risk-repo';
import { Dec } from '../domain/decimal';
import { OPEN_STATUSES } from '../domain/trading/strategy-rules';

export interface DashboardData {
  generatedAt: string;
  temporalUi: string;
  risk: { mode: string; dailyPnl: string; consecutiveLosses: number; tripped: { breaker: string; reason: string }[] };
  open: { positionId: string; market: string; outcome: string; status: string; entryPrice: string | null; remaining: string; mark: string | null; unrealizedPnl: string | null }[];
  closed: { positionId: string; market: string; realizedPnl: string; closedAt: string | null }[];
  /** Cumulative realized P&L after each closed position, oldest first. */
  pnlCurve: { at: string; cumulative: string }[];
  signals: { id: number; firedAt: string; type: string; market: string; direction: string | null; priority: string; actionable: boolean }[];
  strategyRuns: { workflowId: string; feed: string; status: string; startedAt: string }[];
  retraining: { at: string; model: string; status: string; outOfSample: number | null; reason: string }[];
}

/** A market's published best YES bid and ask (decimal texts, '' for an empty side; `stale` says why, '' when fresh). */
export type MarkSource = (markets: readonly string[]) => Promise<ReadonlyMap<string, { yesBid: string; yesAsk: string; stale: string }>>;

/**
 * What a held outcome would sell at now, its best bid (NO's is 1 − the YES ask); none when the
 * side is empty or the book is stale.
 */
function markOf(top: { yesBid: string; yesAsk: string; stale: string } | undefined, outcome: string): Dec | undefined {
  if (!top || top.stale) return undefined;
  const side = outcome === 'yes' ? top.yesBid : top.yesAsk;
  if (!side) return undefined;
  return outcome === 'yes' ? new Dec(side) : new Dec(1).minus(side);
}

/**
 * Everything the dashboard page shows, read from Postgres (the same numbers as the CLI and
 * /metrics); open positions are marked at their outcome's best bid from `marks` (published tops of
 * book), unrealized P&L before exit fees.
 */
export async function dashboardData(db: Database, temporalUi: string, nowMs: number, marks?: MarkSource): Promise<DashboardData> {
  const [open, closed, recentSignals, risk, runs, retraining] = await Promise.all([
    db.select().from(positions).where(inArray(positions.status, [...OPEN_STATUSES])).orderBy(desc(positions.updatedAt)).limit(100),
    db.select().from(positions).where(inArray(positions.status, ['closed', 'settled'])).orderBy(desc(positions.closedAt)).limit(500),
    db.select().from(signals).orderBy(desc(signals.firedAt), desc(signals.id)).limit(25),
    readRiskState(db, nowMs),
    db.select().from(strategyRuns).orderBy(desc(strategyRuns.startedAt)).limit(10),
    db.select().from(retrainingRuns).orderBy(desc(retrainingRuns.id)).limit(5),
  ]);
  const tops = marks ? await marks(open.map((p) => p.marketTicker)) : new Map<string, { yesBid: string; yesAsk: string; stale: string }>();
  const chronological = [...closed].reverse();
  let cumulative = new Dec(0);
  const pnlCurve = chronological.map((p) => {
    cumulative = cumulative.plus(p.realizedPnl);
    return { at: (p.closedAt ?? p.updatedAt).toISOString(), cumulative: cumulative.toFixed(4) };
  });
  return {
    generatedAt: new Date(nowMs).toISOString(),
    temporalUi,
    risk: { mode: risk.mode, dailyPnl: risk.dailyPnl.toFixed(4), consecutiveLosses: risk.consecutiveLosses, tripped: risk.tripped.map((t) => ({ breaker: t.breaker, reason: t.reason })) },
    open: open.map((p) => {
      const mark = markOf(tops.get(p.marketTicker), p.outcome);
      const unrealized = mark && p.entryPrice ? mark.minus(p.entryPrice).times(p.remainingSize) : undefined;
      return { positionId: p.positionId, market: p.marketTicker, outcome: p.outcome, status: p.status, entryPrice: p.entryPrice, remaining: p.remainingSize, mark: mark?.toFixed(4) ?? null, unrealizedPnl: unrealized?.toFixed(4) ?? null };
    }),
    closed: closed.slice(0, 25).map((p) => ({ positionId: p.positionId, market: p.marketTicker, realizedPnl: p.realizedPnl, closedAt: p.closedAt?.toISOString() ?? null })),
    pnlCurve,
    signals: recentSignals.map((s) => ({ id: s.id, firedAt: s.firedAt.toISOString(), type: s.type, market: s.marketTicker, direction: s.direction, priority: s.priority, actionable: s.actionable })),
    strategyRuns: runs.map((r) => ({ workflowId: r.workflowId, feed: r.feed, status: r.status, startedAt: r.startedAt.toISOString() })),
    retraining: retraining.map((r) => ({ at: r.createdAt.toISOString(), model: r.modelName, status: r.status, outOfSample: r.outOfSample, reason: r.reason })),
  };
}

/** One static page; it polls /api/dashboard and renders with plain DOM and an SVG chart (no build step, no CDN). */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kestrel</title>
<style>
body{font:14px system-ui,sans-serif;margin:20px;background:#0f1419;color:#e6e6e6}
h1{font-size:20px;margin:0 0 12px} h2{font-size:15px;margin:18px 0 6px;color:#9ecbff}
table{border-collapse:collapse;width:100%} td,th{padding:3px 8px;border-bottom:1px solid #2a3139;text-align:left}
a{color:#79c0ff} .pos{color:#56d364} .neg{color:#f85149} #mode{font-weight:bold;padding:2px 8px;border-radius:4px}
.ACTIVE{background:#1f6f3f} .REDUCING{background:#9e6a03} .HALTED{background:#b62324} svg{background:#161b22;border-radius:4px}
</style></head><body>
<h1>Kestrel <span id="mode"></span> <small id="updated"></small></h1>
<div>Daily P&amp;L <b id="daily"></b> · loss streak <b id="streak"></b> · <a id="ui" href="#">Temporal UI</a></div>
<div id="breakers"></div>
<h2>P&amp;L (cumulative realized, after fees)</h2><svg id="chart" width="720" height="180"></svg>
<h2>Open positions</h2><table id="open"><thead><tr><th>position</th><th>market</th><th>side</th><th>status</th><th>entry</th><th>remaining</th><th>mark</th><th>unrealized</th></tr></thead><tbody></tbody></table>
<h2>Recently closed</h2><table id="closed"><thead><tr><th>position</th><th>market</th><th>P&amp;L</th><th>closed</th></tr></thead><tbody></tbody></table>
<h2>Strategy runs</h2><table id="runs"><thead><tr><th>workflow</th><th>feed</th><th>status</th><th>started</th></tr></thead><tbody></tbody></table>
<h2>Retraining</h2><table id="retraining"><thead><tr><th>at</th><th>model</th><th>decision</th><th>out-of-sample</th><th>why</th></tr></thead><tbody></tbody></table>
<h2>Signals</h2><table id="signals"><thead><tr><th>fired</th><th>type</th><th>market</th><th>dir</th><th>priority</th><th></th></tr></thead><tbody></tbody></table>
<script>
const esc = (s) => String(s ?? '-').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
function rows(id, items, cells) { document.querySelector('#' + id + ' tbody').innerHTML = items.map((x) => '<tr>' + cells(x).map((c) => '<td>' + c + '</td>').join('') + '</tr>').join(''); }
function chart(points) {
  const svg = document.getElementById('chart'); const w = 720, h = 180, pad = 20;
  if (points.length === 0) { svg.innerHTML = '<text x="20" y="90" fill="#888">no closed positions yet</text>'; return; }
  const ys = [0, ...points.map((p) => Number(p.cumulative))]; const lo = Math.min(0, ...ys), hi = Math.max(0, ...ys), span = hi - lo || 1;
  const x = (i) => pad + (i * (w - 2 * pad)) / (ys.length - 1); const y = (v) => h - pad - ((v - lo) * (h - 2 * pad)) / span;
  svg.innerHTML = '<line x1="' + pad + '" x2="' + (w - pad) + '" y1="' + y(0) + '" y2="' + y(0) + '" stroke="#444"/>' +
    '<polyline id="pnl-line" fill="none" stroke="' + (ys[ys.length - 1] >= 0 ? '#56d364' : '#f85149') + '" stroke-width="2" points="' + ys.map((v, i) => x(i) + ',' + y(v)).join(' ') + '"/>' +
    '<text x="' + (w - pad) + '" y="14" fill="#ccc" text-anchor="end">' + esc(points[points.length - 1].cumulative) + '</text>';
}
async function refresh() {
  const d = await (await fetch('/api/dashboard')).json();
  const wf = (id) => '<a href="' + d.temporalUi + '/workflows/' + encodeURIComponent(id) + '">' + esc(id) + '</a>';
  document.getElementById('mode').textContent = d.risk.mode; document.getElementById('mode').className = d.risk.mode;
  document.getElementById('daily').textContent = d.risk.dailyPnl; document.getElementById('streak').textContent = d.risk.consecutiveLosses;
  document.getElementById('ui').href = d.temporalUi + '/workflows'; document.getElementById('updated').textContent = 'updated ' + d.generatedAt;
  document.getElementById('breakers').innerHTML = d.risk.tripped.map((t) => '<div class="neg">TRIPPED ' + esc(t.breaker) + ': ' + esc(t.reason) + '</div>').join('');
  chart(d.pnlCurve);
  rows('open', d.open, (p) => [wf(p.positionId), esc(p.market), esc(p.outcome.toUpperCase()), esc(p.status), esc(p.entryPrice), esc(p.remaining), esc(p.mark), p.unrealizedPnl === null ? '-' : '<span class="' + (Number(p.unrealizedPnl) >= 0 ? 'pos' : 'neg') + '">' + esc(p.unrealizedPnl) + '</span>']);
  rows('closed', d.closed, (p) => [wf(p.positionId), esc(p.market), '<span class="' + (Number(p.realizedPnl) >= 0 ? 'pos' : 'neg') + '">' + esc(p.realizedPnl) + '</span>', esc(p.closedAt)]);
  rows('runs', d.strategyRuns, (r) => [wf(r.workflowId), esc(r.feed), esc(r.status), esc(r.startedAt)]);
  rows('retraining', d.retraining, (r) => [esc(r.at), esc(r.model), esc(r.status), esc(r.outOfSample === null ? '-' : r.outOfSample.toFixed(1)), esc(r.reason)]);
  rows('signals', d.signals, (s) => [esc(s.firedAt), esc(s.type), esc(s.market), esc(s.direction), esc(s.priority), s.actionable ? 'actionable' : '']);
  document.body.dataset.loaded = 'true';
}
refresh().catch((e) => (document.getElementById('updated').textContent = 'error: ' + e.message)); setInterval(() => refresh().catch(() => {}), 2000);
</script></body></html>`;
