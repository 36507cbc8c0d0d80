import { URGENCIES } from '../../domain/trading/exits';
import { timeSeriesSvg } from './charts';
import type { latestWalkForward, BacktestReportFiles, ConsoleActionRow, ConsoleOverview, PositionDetail, PositionRow, SignalPerformance, TimeSeries } from './data';

/** HTML-escapes any value ('-' for null / undefined). */
export const esc = (v: unknown): string => (v === null || v === undefined ? '-' : String(v)).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const signed = (v: string | null) => (v === null ? '-' : `<span class="${Number(v) >= 0 ? 'pos' : 'neg'}">${esc(v)}</span>`);
const rows = (items: readonly string[][], empty: string, cols: number) => (items.length ? items.map((cells) => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('') : `<tr><td colspan="${cols}" class="muted">${esc(empty)}</td></tr>`);
const positionLink = (id: string) => `<a class="position-link" href="/position?id=${encodeURIComponent(id)}">${esc(id)}</a>`;
const workflowLink = (ui: string, id: string, text = 'Temporal') => `<a href="${esc(`${ui}/workflows/${encodeURIComponent(id)}`)}" target="_blank" rel="noopener">${esc(text)}</a>`;
const id = (text: string) => `<span class="id">${esc(text)}</span>`;
const time = (iso: string | null) => (iso ? `<time datetime="${esc(iso)}">${esc(iso.replace('T', ' ').slice(0, 23))}</time>` : '-');

export interface PageContext {
  title: string;
  /** Who is logged in (undefined: nobody, or a read-only console). */
  operator: string | undefined;
  readOnly: boolean;
  csrf: string;
  nonce: string;
  /** The SSE URL the page follows (fragments pushed by the server), if any. */
  stream?: string;
  temporalUi: string;
}

const STYLE = `
body{font:14px system-ui,sans-serif;margin:0;background:#0f1419;color:#e6e6e6}
header{display:flex;gap:16px;align-items:center;padding:10px 20px;background:#161b22;border-bottom:1px solid #2a3139}
header b{font-size:18px} header nav a{margin-right:12px} header .who{margin-left:auto;color:#8b949e}
main{padding:12px 20px 40px} h2{font-size:15px;margin:20px 0 6px;color:#9ecbff} h3{font-size:14px;margin:14px 0 4px}
table{border-collapse:collapse;width:100%} td,th{padding:3px 8px;border-bottom:1px solid #2a3139;text-align:left;vertical-align:top}
a{color:#79c0ff} .pos{color:#56d364} .neg{color:#f85149} .muted{color:#8b949e} .mode{font-weight:bold;padding:2px 8px;border-radius:4px}
.ACTIVE{background:#1f6f3f} .REDUCING{background:#9e6a03} .HALTED{background:#b62324}
.banner{padding:8px 20px;background:#3d2e00;color:#f2cc60} .live{color:#56d364} .offline{color:#f85149}
button{background:#21262d;color:#e6e6e6;border:1px solid #30363d;border-radius:4px;padding:3px 10px;cursor:pointer} button:hover{border-color:#8b949e}
button.danger{border-color:#b62324} input{background:#0d1117;color:#e6e6e6;border:1px solid #30363d;border-radius:4px;padding:3px 6px}
form.action{display:inline-flex;gap:6px;align-items:center;margin:4px 16px 4px 0;padding:6px;border:1px solid #2a3139;border-radius:4px}
.readonly [data-action]{display:none} #action-result{margin:8px 0;min-height:1.2em} #action-result.ok{color:#56d364} #action-result.rejected,#action-result.failed{color:#f85149}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#161b22;padding:8px;border-radius:4px;margin:4px 0} .id,a.position-link,td a{overflow-wrap:anywhere} .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:12px}
.chart{background:#161b22;border-radius:4px;max-width:100%;height:auto} img.report{background:#fff;max-width:100%;border-radius:4px}
`;

/**
 * The client: applies the HTML fragments the server pushes over Server-Sent Events (no polling),
 * and posts actions as JSON with the session's CSRF token, showing the answer (a rejection's message too).
 */
const CLIENT = `
const csrf = document.querySelector('meta[name="csrf"]').content;
const result = document.getElementById('action-result');
const stream = document.body.dataset.stream;
if (stream) {
  const status = document.getElementById('stream-status');
  const es = new EventSource(stream);
  es.addEventListener('fragments', (e) => {
    const fragments = JSON.parse(e.data);
    for (const id of Object.keys(fragments)) { const el = document.getElementById(id); if (el) el.innerHTML = fragments[id]; }
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  });
  es.onopen = () => { status.textContent = 'live'; status.className = 'live'; };
  es.onerror = () => { status.textContent = 'reconnecting…'; status.className = 'offline'; };
}
async function act(name, body, label) {
  result.className = ''; result.textContent = label + '…';
  try {
    const res = await fetch('/api/actions/' + name, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body), credentials: 'same-origin' });
    const answer = await res.json();
    result.className = answer.outcome || 'failed';
    result.textContent = label + ': ' + (answer.outcome || res.status) + ' — ' + answer.message;
  } catch (e) { result.className = 'failed'; result.textContent = label + ': ' + e.message; }
}
document.addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-action]');
  if (!b || b.form) return;
  ev.preventDefault();
  void act(b.dataset.action, JSON.parse(b.dataset.body), b.textContent);
});
document.addEventListener('submit', (ev) => {
  const f = ev.target.closest('form[data-action]');
  if (!f) return;
  ev.preventDefault();
  const body = {};
  for (const [k, v] of new FormData(f)) if (v !== '') body[k] = v;
  void act(f.dataset.action, body, f.dataset.label || f.dataset.action);
});
document.body.dataset.loaded = 'true';
`;

export function layout(ctx: PageContext, body: string): string {
  const nav = ['/', 'Positions', '/charts', 'P&L and signals', '/ops', 'Health', '/actions', 'Action log'];
  const links = Array.from({ length: nav.length / 2 }, (_, i) => `<a href="${nav[2 * i]}">${esc(nav[2 * i + 1])}</a>`).join('');
  const who = ctx.readOnly
    ? '<span>read-only</span>'
    : `signed in as <b id="operator">${esc(ctx.operator)}</b> <form method="post" action="/logout" style="display:inline"><input type="hidden" name="csrf" value="${esc(ctx.csrf)}"><button>log out</button></form>`;
  const banner = ctx.readOnly ? '<div class="banner" id="read-only">Read-only console: no token is configured, so no action can be taken. Set KESTREL_CONSOLE_TOKEN (or KESTREL_CONSOLE_TOKEN_FILE) and restart `kestrel up` to enable actions.</div>' : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="csrf" content="${esc(ctx.csrf)}"><title>${esc(ctx.title)} · Kestrel</title><style>${STYLE}</style></head>
<body class="${ctx.readOnly ? 'readonly' : ''}"${ctx.stream ? ` data-stream="${esc(ctx.stream)}"` : ''}>
<header><b>Kestrel</b><nav>${links}<a href="${esc(ctx.temporalUi)}/workflows" target="_blank" rel="noopener">Temporal UI</a></nav><span class="who">${ctx.stream ? '<span id="stream-status" class="offline">connecting…</span> · ' : ''}${who}</span></header>
${banner}<main><h1 style="font-size:18px">${esc(ctx.title)}</h1><div id="action-result"></div>${body}</main>
<script nonce="${ctx.nonce}">${CLIENT}</script></body></html>`;
}

export function loginPage(opts: { nonce: string; error?: string; readOnly: boolean }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in · Kestrel</title><style>${STYLE}</style></head><body><main style="max-width:420px;margin:60px auto">
<h1 style="font-size:20px">Kestrel console</h1>
${opts.readOnly ? '<p class="banner">No console token is configured: the console is read-only and needs no login. <a href="/">Open it</a>.</p>' : ''}
${opts.error ? `<p class="neg" id="login-error">${esc(opts.error)}</p>` : ''}
<form method="post" action="/login"><p><label>Operator<br><input name="operator" autocomplete="username" required maxlength="40"></label></p>
<p><label>Console token<br><input name="token" type="password" autocomplete="current-password" required></label></p><p><button type="submit">Log in</button></p></form>
<p class="muted">The token is KESTREL_CONSOLE_TOKEN (or the file KESTREL_CONSOLE_TOKEN_FILE names) of the process running <code>kestrel up</code>. Actions are recorded under the operator name.</p></main></body></html>`;
}

// ---- positions (overview) ----

const exitButtons = (id: string) => URGENCIES.map((u) => `<button data-action="exit" data-body="${esc(JSON.stringify({ positionId: id, urgency: u }))}">exit ${u}</button>`).join(' ');

export function overviewFragments(o: ConsoleOverview, temporalUi: string): Record<string, string> {
  const open = (p: PositionRow) => [positionLink(p.positionId), esc(p.strategyId), esc(p.market), esc(p.outcome.toUpperCase()), esc(p.status), esc(p.entryPrice), esc(p.remaining), esc(p.mark), signed(p.unrealizedPnl), time(p.openedAt), workflowLink(temporalUi, p.positionId)];
  const closed = (p: PositionRow) => [positionLink(p.positionId), esc(p.strategyId), esc(p.market), esc(p.status), signed(p.realizedPnl), time(p.closedAt)];
  const run = (r: ConsoleOverview['strategyRuns'][number]) => [workflowLink(temporalUi, r.workflowId, r.workflowId), esc(r.venue), esc(r.feed), esc(r.signalTypes.join(', ') || 'all'), esc(r.status), time(r.startedAt), time(r.stoppedAt), r.status === 'running' ? `<button class="danger" data-action="strategy-stop" data-body="${esc(JSON.stringify({ workflowId: r.workflowId }))}">stop</button>` : ''];
  return {
    'risk-bar': `<span class="mode ${esc(o.risk.mode)}" id="mode">${esc(o.risk.mode)}</span> daily P&amp;L <b>${signed(o.risk.dailyPnl)}</b> · loss streak <b>${o.risk.consecutiveLosses}</b> · open positions <b id="open-count">${o.openCount}</b> · as of ${time(o.generatedAt)}${o.risk.tripped.map((t) => `<div class="neg">TRIPPED ${esc(t.breaker)}: ${esc(t.reason)} (${time(t.at)})</div>`).join('')}`,
    'open-body': rows(o.open.map(open), 'no open positions', 11) + (o.openCount > o.open.length ? `<tr><td colspan="11" class="muted">${o.openCount - o.open.length} more not shown</td></tr>` : ''),
    'closed-body': rows(o.closed.map(closed), 'no closed positions yet', 6),
    'runs-body': rows(o.strategyRuns.map(run), 'no strategy runs', 8),
    'actions-body': actionRows(o.actions),
  };
}

export function actionRows(actions: readonly ConsoleActionRow[]): string {
  return rows(actions.map((a) => [time(a.at), esc(a.actor), esc(a.action), a.target?.startsWith('position/') ? positionLink(a.target) : esc(a.target), `<span class="${a.outcome === 'ok' ? 'pos' : 'neg'}">${esc(a.outcome)}</span>`, esc(a.message)]), 'no console actions yet', 6);
}

export function overviewBody(f: Record<string, string>, strategies: { name: string; version: string; status: string }[]): string {
  const options = strategies.map((s) => `<option value="${esc(s.name)}">${esc(s.name)} ${esc(s.version)} (${esc(s.status)})</option>`).join('');
  return `<div id="risk-bar">${f['risk-bar']}</div>
<h2>Actions</h2>
<form class="action" data-action="flatten-all" data-label="flatten-all"><b>Flatten all</b><input name="reason" placeholder="reason" required><input name="confirm" placeholder="type FLATTEN" required size="12"><button class="danger" type="submit">flatten all</button></form>
<form class="action" data-action="cancel-all" data-label="cancel-all"><b>Cancel all resting orders</b><input name="reason" placeholder="reason" required><input name="confirm" placeholder="type CANCEL" required size="12"><button class="danger" type="submit">cancel all</button></form>
<form class="action" data-action="risk-reset" data-label="risk reset"><b>Risk reset</b><input name="reason" placeholder="reason" required><button type="submit">reset breakers</button></form>
<form class="action" data-action="strategy-start" data-label="strategy start"><b>Start strategy</b><input name="name" list="strategy-names" placeholder="name" required><datalist id="strategy-names">${options}</datalist><input name="version" placeholder="version (latest)" size="10"><button type="submit">start</button></form>
<h2>Open positions</h2><table id="open"><thead><tr><th>position</th><th>strategy</th><th>market</th><th>side</th><th>status</th><th>entry</th><th>remaining</th><th>mark</th><th>unrealized</th><th>opened</th><th></th></tr></thead><tbody id="open-body">${f['open-body']}</tbody></table>
<h2>Recently closed</h2><table id="closed"><thead><tr><th>position</th><th>strategy</th><th>market</th><th>status</th><th>P&amp;L</th><th>closed</th></tr></thead><tbody id="closed-body">${f['closed-body']}</tbody></table>
<h2>Strategy runs</h2><table id="runs"><thead><tr><th>workflow</th><th>venue</th><th>feed</th><th>signals</th><th>status</th><th>started</th><th>stopped</th><th></th></tr></thead><tbody id="runs-body">${f['runs-body']}</tbody></table>
<h2>Recent console actions</h2><table id="actions"><thead><tr><th>at</th><th>who</th><th>action</th><th>target</th><th>outcome</th><th>message</th></tr></thead><tbody id="actions-body">${f['actions-body']}</tbody></table>`;
}

// ---- one position ----

export function positionFragments(d: PositionDetail, temporalUi: string): Record<string, string> {
  const p = d.position;
  const pv = d.provenance;
  const open = p.status === 'open' || p.status === 'exiting' || p.status === 'entering';
  return {
    'position-summary': `<table><tbody>
<tr><th>status</th><td id="position-status">${esc(p.status)}</td><th>market</th><td>${esc(p.market)} ${esc(p.outcome.toUpperCase())} (${esc(p.venue)})</td></tr>
<tr><th>entry</th><td>${esc(p.size)} @ ${esc(p.entryPrice)}</td><th>remaining</th><td>${esc(p.remaining)}</td></tr>
<tr><th>realized P&amp;L</th><td>${signed(p.realizedPnl)} (fees ${esc(p.fees)})</td><th>opened / closed</th><td>${time(p.openedAt)} / ${time(p.closedAt)}</td></tr>
<tr><th>workflow</th><td colspan="3">${workflowLink(temporalUi, p.positionId, 'open in the Temporal UI')}</td></tr></tbody></table>
${open ? `<p>Manual exit: ${exitButtons(p.positionId)}</p>` : ''}`,
    provenance: `<table><tbody>
<tr><th>strategy</th><td>${esc(p.strategyId)}${pv?.strategy ? ` — version <b>${esc(pv.strategy.version)}</b> of ${esc(pv.strategy.name)}` : p.strategyVersionId ? ` (version #${p.strategyVersionId})` : ''}</td></tr>
<tr><th>model</th><td>${pv?.model ? `${esc(pv.model.name)} <b>${esc(pv.model.version)}</b> (#${pv.model.id})${pv.model.weight ? `, weight ${esc(pv.model.weight.weight)} for ${esc(pv.model.weight.type)}/${esc(pv.model.weight.category)}` : ''}` : p.modelVersionId ? `#${p.modelVersionId}` : '(not recorded)'}</td></tr>
<tr><th>signal</th><td>${esc(p.signalId)}${pv?.signal ? ` — ${esc(pv.signal.type)}/${esc(pv.signal.category)} at ${time(pv.signal.firedAt)}${pv.signal.reason ? `: ${esc(pv.signal.reason)}` : ''}<pre>${esc(JSON.stringify(pv.signal.inputs))}</pre>` : ''}</td></tr>
<tr><th>market snapshot</th><td>${pv?.marketSnapshot ? `#${pv.marketSnapshot.id} (${esc(pv.marketSnapshot.status)}, since ${time(pv.marketSnapshot.effectiveTs)})` : '-'}</td></tr></tbody></table>`,
    'timeline-body': rows(d.timeline.map((t) => [time(t.at), esc(t.kind), `<span class="id">${esc(t.text)}</span>`]), 'nothing recorded yet', 3),
    'exits-body': rows(d.exits.map((e) => [String(e.exitNo), esc(e.reason), esc(e.urgency), `${esc(e.filled)} / ${esc(e.requested)}`, esc(e.averagePrice), signed(e.realizedPnl), String(e.attempts), `<pre>${esc(JSON.stringify(e.triggered, null, 1))}</pre>`, time(e.finishedAt)]), 'no exit decided yet', 9),
    'attempts-body': rows(d.exitAttempts.map((a) => [`${a.exitNo}.${a.attemptNo}`, esc(a.reason), esc(a.urgency), esc(a.orderType), esc(a.limitPrice), `${a.timeoutMs} ms`, esc(a.filled), esc(a.outcome), id(a.clientOrderId), time(a.attemptedAt)]), 'no exit attempts', 10),
    'orders-body': rows(d.orders.map((o) => [id(o.clientOrderId), esc(o.purpose), `${esc(o.action)} ${esc(o.outcome.toUpperCase())}`, esc(o.limitPrice), esc(o.size), esc(o.timeInForce), esc(o.status), esc(o.filled), esc(o.averagePrice), esc(o.fees), time(o.submittedAt)]), 'no orders', 11),
    'fills-body': rows(d.fills.map((f) => [id(f.clientOrderId), String(f.seq), esc(f.price), esc(f.size), esc(f.liquidity), esc(f.fee), time(f.filledAt)]), 'no fills', 7),
  };
}

export function positionBody(f: Record<string, string>): string {
  const table = (id: string, heads: string[]) => `<table id="${id.replace('-body', '')}"><thead><tr>${heads.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody id="${id}">${f[id]}</tbody></table>`;
  return `<div id="position-summary">${f['position-summary']}</div>
<h2>Provenance</h2><div id="provenance">${f.provenance}</div>
<h2>Timeline</h2>${table('timeline-body', ['at', 'what', ''])}
<h2>Exit decisions (all triggered conditions)</h2>${table('exits-body', ['#', 'reason', 'urgency', 'filled', 'avg price', 'P&amp;L', 'attempts', 'triggered', 'finished'])}
<h2>Exit attempts</h2>${table('attempts-body', ['#', 'reason', 'urgency', 'type', 'limit', 'given', 'filled', 'outcome', 'order', 'at'])}
<h2>Orders</h2>${table('orders-body', ['client order id', 'purpose', 'side', 'limit', 'size', 'tif', 'status', 'filled', 'avg', 'fees', 'submitted'])}
<h2>Fills</h2>${table('fills-body', ['order', 'seq', 'price', 'size', 'liquidity', 'fee', 'at'])}`;
}

// ---- charts ----

export function chartsFragments(pnl: readonly TimeSeries[], signals: readonly SignalPerformance[]): Record<string, string> {
  return {
    'pnl-chart': timeSeriesSvg('pnl-by-strategy', pnl, { empty: 'no closed positions yet', format: (v) => `$${v.toFixed(2)}` }),
    'signal-pnl-chart': timeSeriesSvg('signal-pnl', signals.map((s) => ({ name: s.type, points: s.cumulativePnl })), { empty: 'no closed positions traced to a signal yet', format: (v) => `$${v.toFixed(2)}` }),
    'signal-winrate-chart': timeSeriesSvg('signal-winrate', signals.map((s) => ({ name: s.type, points: s.winRateOverTime })), { empty: 'no closed positions traced to a signal yet', format: (v) => `${(v * 100).toFixed(0)}%` }),
    'signal-body': rows(signals.map((s) => [esc(s.type), String(s.trades), `${(s.winRate * 100).toFixed(1)}%`, signed(s.pnl)]), 'no signal trades yet', 4),
  };
}

/** The report's summary: its paragraphs as text, its Markdown table as a table. */
function markdownSummary(md: string): string {
  const cells = (line: string) => line.split('|').slice(1, -1).map((c) => c.trim());
  const out: string[] = [];
  const table = md.split('\n').filter((l) => l.startsWith('|'));
  for (const para of md.split('\n').filter((l) => l.trim() && !l.startsWith('|'))) out.push(`<p>${esc(para)}</p>`);
  if (table.length >= 2) {
    const [head, , ...body] = table;
    out.push(`<table><thead><tr>${cells(head!).map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${body.map((l) => `<tr>${cells(l).map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
  }
  return out.join('');
}

function walkForwardSection(wf: ReturnType<typeof latestWalkForward>): string {
  if (!wf) return '<p class="muted" id="walk-forward-none">No walk-forward run yet: run <code>npx kestrel walk-forward</code> (it writes backtest-output/walk-forward-&lt;time&gt;/walk-forward.json).</p>';
  if (!wf.summary) return `<p class="muted" id="walk-forward-error">${esc(wf.name)}/walk-forward.json is unreadable: ${esc(wf.error ?? '')}</p>`;
  const s = wf.summary;
  const folds = s.folds.map((f) => [esc(f.train.join(', ')), esc(f.test.join(', ')), esc(f.chosen), esc(f.inSample.toFixed(2)), esc(f.outOfSample.toFixed(2))]);
  return `<p>${esc(s.strategy)}, ${esc(wf.name)} (written ${time(s.writtenAt)}): in-sample ${esc(s.inSampleTotal.toFixed(2))}, out-of-sample ${esc(s.outOfSampleTotal.toFixed(2))}, efficiency ${esc(s.efficiency === null ? '-' : s.efficiency.toFixed(2))}</p>
<table id="walk-forward"><thead><tr><th>train</th><th>test</th><th>chosen</th><th>in-sample</th><th>out-of-sample</th></tr></thead><tbody>${rows(folds, 'no fold', 5)}</tbody></table>`;
}

export function chartsBody(f: Record<string, string>, backtest: BacktestReportFiles | undefined, retraining: { at: string; model: string; status: string; outOfSample: number | null; reason: string }[], walkForward?: ReturnType<typeof latestWalkForward>): string {
  const report = backtest
    ? `<p>${esc(backtest.name)} (written ${time(backtest.writtenAt)}) — <span class="muted">${esc(backtest.dir)}</span></p><div id="backtest-summary">${markdownSummary(backtest.summary)}</div><div class="grid">${backtest.equity ? '<img class="report" id="backtest-equity" alt="equity" src="/backtest/equity.svg">' : ''}${backtest.drawdown ? '<img class="report" id="backtest-drawdown" alt="drawdown" src="/backtest/drawdown.svg">' : ''}</div>`
    : '<p class="muted" id="backtest-none">No backtest report yet: run <code>npx kestrel backtest</code> (it writes backtest-output/&lt;time&gt;/report.md, equity.svg, drawdown.svg).</p>';
  return `<h2>Cumulative realized P&amp;L per strategy (after fees, by closing time, UTC)</h2><div id="pnl-chart">${f['pnl-chart']}</div>
<h2>Signal performance over time, per type (positions each signal type opened)</h2><div class="grid"><div><h3>Cumulative P&amp;L</h3><div id="signal-pnl-chart">${f['signal-pnl-chart']}</div></div><div><h3>Win rate so far</h3><div id="signal-winrate-chart">${f['signal-winrate-chart']}</div></div></div>
<table id="signal-table"><thead><tr><th>signal type</th><th>trades</th><th>win rate</th><th>P&amp;L</th></tr></thead><tbody id="signal-body">${f['signal-body']}</tbody></table>
<h2>Latest backtest report</h2>${report}
<h2>Latest walk-forward folds</h2>${walkForwardSection(walkForward)}
<h2>Retraining (walk-forward judged model versions)</h2><table id="retraining"><thead><tr><th>at</th><th>model</th><th>decision</th><th>out-of-sample</th><th>why</th></tr></thead><tbody>${rows(retraining.map((r) => [time(r.at), esc(r.model), esc(r.status), esc(r.outOfSample === null ? null : r.outOfSample.toFixed(2)), esc(r.reason)]), 'no retraining runs yet', 5)}</tbody></table>`;
}

// ---- health ----

export interface HealthPanel {
  generatedAt: string;
  /** stack.health() as it is. */
  health: unknown;
  risk: ConsoleOverview['risk'];
  partitions: { partitions: { partition: number; owner: string | null; ttlMs: number | null }[]; members: string[] } | undefined;
  queues: { queue: string; state: string; jobs: number }[];
  feeds: { market: string; ageMs: number | null; stale: boolean }[];
  reconciliation: { here: { at: string; trigger: string; differences: number; checked: unknown } | undefined; lastWithDifferences: { runId: string; venue: string; trigger: string; at: string; differences: number } | undefined };
}

const FEEDS_SHOWN = 60;

/** Renders any JSON value as nested tables (health() output is shown as-is, whatever features it reports). */
function jsonTable(v: unknown): string {
  if (v === null || typeof v !== 'object') return `<span class="${v === 'ok' || v === true || v === 'RUNNING' ? 'pos' : typeof v === 'string' && /fail|down|stale|error/i.test(v) ? 'neg' : ''}">${esc(v)}</span>`;
  if (Array.isArray(v)) {
    if (v.length === 0) return '<span class="muted">none</span>';
    if (v.every((x) => typeof x !== 'object' || x === null)) return esc(JSON.stringify(v));
    // A list of flat records (features, publishers): one table, a column per key.
    if (v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
      const keys = [...new Set(v.flatMap((x) => Object.keys(x as object)))];
      return `<table><thead><tr>${keys.map((k) => `<th>${esc(k)}</th>`).join('')}</tr></thead><tbody>${v.map((x) => `<tr>${keys.map((k) => `<td>${jsonTable((x as Record<string, unknown>)[k])}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
    }
    return v.map(jsonTable).join('<hr>');
  }
  return `<table>${Object.entries(v).map(([k, x]) => `<tr><th>${esc(k)}</th><td>${jsonTable(x)}</td></tr>`).join('')}</table>`;
}

export function healthFragments(h: HealthPanel): Record<string, string> {
  const feeds = [...h.feeds].sort((a, b) => (b.ageMs ?? Infinity) - (a.ageMs ?? Infinity));
  return {
    'health-panel': `<p>as of ${time(h.generatedAt)}</p><div class="grid">
<div><h3>Mode and breakers</h3><span class="mode ${esc(h.risk.mode)}">${esc(h.risk.mode)}</span> daily P&amp;L ${signed(h.risk.dailyPnl)}, loss streak ${h.risk.consecutiveLosses}${h.risk.tripped.length ? h.risk.tripped.map((t) => `<div class="neg">TRIPPED ${esc(t.breaker)}: ${esc(t.reason)} (${time(t.at)})</div>`).join('') : '<div class="pos">no breaker tripped</div>'}
<h3>Last reconciliation</h3>${h.reconciliation.here ? `this process: ${time(h.reconciliation.here.at)} (${esc(h.reconciliation.here.trigger)}), ${h.reconciliation.here.differences} difference(s) ${esc(JSON.stringify(h.reconciliation.here.checked))}` : 'this process: none (paper exchange, or not yet run)'}<br>${h.reconciliation.lastWithDifferences ? `last with differences: ${time(h.reconciliation.lastWithDifferences.at)} ${esc(h.reconciliation.lastWithDifferences.venue)} (${esc(h.reconciliation.lastWithDifferences.trigger)}): ${h.reconciliation.lastWithDifferences.differences}` : 'no differences ever recorded'}
<h3>Queue depths</h3><table id="queues"><thead><tr><th>queue</th><th>waiting</th><th>active</th><th>delayed</th><th>failed</th></tr></thead><tbody>${queueRows(h.queues)}</tbody></table>
<h3>Market-data partitions</h3><table id="partitions"><thead><tr><th>partition</th><th>owner</th><th>lease ttl</th></tr></thead><tbody>${rows((h.partitions?.partitions ?? []).map((p) => [String(p.partition), p.owner ? esc(p.owner) : '<span class="neg">none</span>', p.ttlMs === null ? '-' : `${p.ttlMs} ms`]), 'not known', 3)}</tbody></table><p class="muted">${h.partitions ? `${h.partitions.members.length} live process(es): ${esc(h.partitions.members.join(', '))}` : ''}</p></div>
<div><h3>Feed freshness (stalest first${feeds.length > FEEDS_SHOWN ? `, ${FEEDS_SHOWN} of ${feeds.length}` : ''})</h3><table id="feeds"><thead><tr><th>market</th><th>last data</th></tr></thead><tbody>${rows(feeds.slice(0, FEEDS_SHOWN).map((f) => [esc(f.market), f.stale ? '<span class="neg">stale</span>' : f.ageMs === null ? '-' : `<span class="${f.ageMs > 60_000 ? 'neg' : 'pos'}">${(f.ageMs / 1000).toFixed(1)} s ago</span>`]), 'no market data in this process', 2)}</tbody></table></div>
</div><h3>Stack health (health(), as reported)</h3><div id="stack-health">${jsonTable(h.health)}</div>`,
  };
}

function queueRows(queues: HealthPanel['queues']): string {
  const byQueue = new Map<string, Record<string, number>>();
  for (const q of queues) byQueue.set(q.queue, { ...(byQueue.get(q.queue) ?? {}), [q.state]: q.jobs });
  return rows([...byQueue].map(([name, s]) => [esc(name), String(s.waiting ?? 0), String(s.active ?? 0), String(s.delayed ?? 0), `<span class="${(s.failed ?? 0) > 0 ? 'neg' : ''}">${s.failed ?? 0}</span>`]), 'no queues', 5);
}

export function healthBody(f: Record<string, string>): string {
  return `<div id="health-panel">${f['health-panel']}</div>`;
}

export function actionLogBody(actions: readonly ConsoleActionRow[]): string {
  return `<table id="action-log"><thead><tr><th>at</th><th>who</th><th>action</th><th>target</th><th>outcome</th><th>message</th></tr></thead><tbody id="actions-body">${actionRows(actions)}</tbody></table>`;
}
