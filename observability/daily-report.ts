import type { TradingActivity } from '../db/activity-report';
import { Dec } from '../domain/decimal';

const cell = (text: string) => text.replace(/\|/g, '\\|');
const money = (text: string) => new Dec(text).toFixed(4);

/**
 * The daily P&L and activity report as Markdown: P&L per strategy and venue, positions opened and
 * still open, orders and fills, exit reasons, signals, risk state and reconciliation differences.
 * The same text is the report file and the alert's body.
 */
export function dailyReportMarkdown(a: TradingActivity, window: { fromMs: number; toMs: number }, risk: { mode: string; tripped: { breaker: string; reason: string }[] }): string {
  const lines = [`# Kestrel daily report`, '', `From ${new Date(window.fromMs).toISOString()} to ${new Date(window.toMs).toISOString()}.`, ''];
  const trades = a.closed.reduce((n, r) => n + r.trades, 0);
  const wins = a.closed.reduce((n, r) => n + r.wins, 0);
  const pnl = a.closed.reduce((n, r) => n.plus(r.pnl), new Dec(0));
  const fees = a.closed.reduce((n, r) => n.plus(r.fees), new Dec(0));
  lines.push(`**P&L ${pnl.toFixed(4)}** over ${trades} closed position(s)${trades ? `, ${wins} won (${((wins / trades) * 100).toFixed(1)}%)` : ''}, fees ${fees.toFixed(4)}. Opened ${a.opened}; open at the end ${a.open.positions} (entry cost ${money(a.open.exposure)}).`, '');
  lines.push(`Risk: mode ${risk.mode}${risk.tripped.length ? `; tripped: ${risk.tripped.map((t) => `${t.breaker} (${t.reason})`).join(', ')}` : '; no breaker tripped'}.`, '');
  lines.push('## P&L by strategy and venue', '');
  if (a.closed.length === 0) lines.push('No position closed.', '');
  else {
    lines.push('| strategy | venue | trades | won | lost | P&L | fees |', '|---|---|---:|---:|---:|---:|---:|');
    for (const r of a.closed) lines.push(`| ${cell(r.strategy)} | ${cell(r.venue)} | ${r.trades} | ${r.wins} | ${r.losses} | ${money(r.pnl)} | ${money(r.fees)} |`);
    lines.push('');
  }
  lines.push('## Orders and fills', '');
  const submitted = a.orders.reduce((n, o) => n + o.count, 0);
  lines.push(`${submitted} order(s) submitted${submitted ? ` (${a.orders.map((o) => `${o.status} ${o.count}`).join(', ')})` : ''}; ${a.fills.count} fill(s), ${new Dec(a.fills.contracts).toString()} contracts, fees ${money(a.fills.fees)}.`, '');
  lines.push('## Exits', '');
  if (a.exits.length === 0) lines.push('No exit finished.', '');
  else {
    lines.push('| reason | exits | P&L |', '|---|---:|---:|');
    for (const e of a.exits) lines.push(`| ${cell(e.reason)} | ${e.count} | ${money(e.pnl)} |`);
    lines.push('');
  }
  lines.push('## Signals', '');
  if (a.signals.length === 0) lines.push('No signal fired.', '');
  else {
    lines.push('| type | fired | actionable |', '|---|---:|---:|');
    for (const s of a.signals) lines.push(`| ${cell(s.type)} | ${s.fired} | ${s.actionable} |`);
    lines.push('');
  }
  lines.push('## Reconciliation', '');
  lines.push(a.reconciliation.length === 0 ? 'No difference found.' : a.reconciliation.map((r) => `- ${r.kind}: ${r.count}`).join('\n'));
  return `${lines.join('\n')}\n`;
}
