import { Dec } from '../domain/decimal';
import type { SignalAttributionRow } from '../db/attribution';

/** Pipes would end a Markdown table cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|');

/**
 * The signal attribution report as Markdown: one table row per signal type × category × model
 * version, with totals, over [fromMs, toMs). The same text is the CLI's output, the weekly file and
 * the alert's body.
 */
export function signalReportMarkdown(rows: readonly SignalAttributionRow[], window: { fromMs: number; toMs: number }): string {
  const from = new Date(window.fromMs).toISOString();
  const to = new Date(window.toMs).toISOString();
  const lines = [`# Kestrel signal report`, '', `Closed positions from ${from} to ${to}, by signal type × category × model version (real positions: live, paper and replays).`, ''];
  if (rows.length === 0) {
    lines.push('No positions closed in this window.');
    return `${lines.join('\n')}\n`;
  }
  lines.push('| signal type | category | model version | trades | won | lost | win rate | P&L | P&L per trade | fees |', '|---|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const model = r.model ? `${r.model} ${r.modelVersion}` : '(not recorded)';
    lines.push(`| ${cell(r.type ?? '(no signal row)')} | ${cell(r.category ?? '-')} | ${cell(model)} | ${r.trades} | ${r.wins} | ${r.losses} | ${(r.winRate * 100).toFixed(1)}% | ${new Dec(r.pnl).toFixed(4)} | ${new Dec(r.pnlPerTrade).toFixed(4)} | ${new Dec(r.fees).toFixed(4)} |`);
  }
  const trades = rows.reduce((n, r) => n + r.trades, 0);
  const wins = rows.reduce((n, r) => n + r.wins, 0);
  const pnl = rows.reduce((n, r) => n.plus(r.pnl), new Dec(0));
  const fees = rows.reduce((n, r) => n.plus(r.fees), new Dec(0));
  lines.push('', `Total: ${trades} trades, ${wins} won (${((wins / trades) * 100).toFixed(1)}%), P&L ${pnl.toFixed(4)}, fees ${fees.toFixed(4)}.`);
  return `${lines.join('\n')}\n`;
}
