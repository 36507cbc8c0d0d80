import { loadBootstrapConfig } from '../../config/load';
import { Dec } from '../../domain/decimal';
import { signalAttribution } from '../../db/attribution';
import { signalReportMarkdown } from '../../observability/signal-report';
import { CommandInputError, EXIT, intOption, json, out, withDatabase, type CliCommand } from './cli-support';
import { parseAsOf } from './retrain';

const USAGE = 'kestrel report pnl [--days N] [--strategy ID] [--json] | signals [--days N] [--as-of T] [--json]';

export const reportCommand: CliCommand = {
  summary: 'reports: `pnl` realized P&L, fees, wins/losses per day, summed across venues with a per-venue breakdown; `signals` P&L, win rate and count per signal type × category × model version (closed positions)',
  usage: USAGE,
  options: { days: { type: 'string' }, json: { type: 'boolean' }, 'as-of': { type: 'string' }, strategy: { type: 'string' } },
  async run({ values, positionals }) {
    const [sub, ...rest] = positionals;
    if ((sub !== 'pnl' && sub !== 'signals') || rest.length > 0) throw new CommandInputError(`usage: ${USAGE}`);
    const days = intOption(values, 'days', 7, { min: 1, max: 3650 });
    if (sub === 'pnl' && values['as-of'] !== undefined) throw new CommandInputError('--as-of applies to `kestrel report signals` only');
    if (sub === 'signals' && values.strategy !== undefined) throw new CommandInputError('--strategy applies to `kestrel report pnl` only');
    const strategy = typeof values.strategy === 'string' ? values.strategy : null;
    // --as-of: the window ends at T (exchange time of a replay's positions) instead of now.
    const toMs = values['as-of'] === undefined ? Date.now() : parseAsOf(values['as-of']);
    const { config } = loadBootstrapConfig();
    return withDatabase(config.database.url, async (h) => {
      if (sub === 'signals') {
        const window = { fromMs: toMs - days * 86_400_000, toMs };
        const rows = await signalAttribution(h.db, window);
        if (values.json) json({ from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString(), rows });
        else out(signalReportMarkdown(rows, window).trimEnd());
        return EXIT.ok;
      }
      const rows = await h.sql<VenueDayRow[]>`
        select to_char(date_trunc('day', closed_at), 'YYYY-MM-DD') as day, venue, count(*)::int as positions,
               count(*) filter (where realized_pnl > 0)::int as wins, count(*) filter (where realized_pnl < 0)::int as losses,
               sum(realized_pnl)::text as pnl, sum(fees)::text as fees
        from positions where closed_at >= now() - make_interval(days => ${days}) and (${strategy}::text is null or strategy_id = ${strategy}::text)
        group by 1, 2 order by 1, 2`;
      const report = pnlAcrossVenues(rows);
      if (values.json) json(report.days);
      else if (report.days.length === 0) out(`no closed positions in the last ${days} days`);
      else {
        for (const d of report.days) {
          out(`${d.day}  ${String(d.positions).padStart(4)} positions  ${d.wins} won / ${d.losses} lost  P&L ${new Dec(d.pnl).toFixed(4)}  fees ${new Dec(d.fees).toFixed(4)}`);
          for (const v of d.venues) out(`            ${v.venue.padEnd(10)} ${String(v.positions).padStart(4)} positions  P&L ${new Dec(v.pnl).toFixed(4)}  fees ${new Dec(v.fees).toFixed(4)}`);
        }
        out(`total       ${String(report.total.positions).padStart(4)} positions  P&L ${new Dec(report.total.pnl).toFixed(4)}  fees ${new Dec(report.total.fees).toFixed(4)}  (${report.total.venues.map((v) => `${v.venue} ${new Dec(v.pnl).toFixed(4)}`).join(', ')})`);
      }
      return EXIT.ok;
    });
  },
};

/** Closed positions of one day on one venue, as the query groups them. */
export interface VenueDayRow {
  day: string;
  venue: string;
  positions: number;
  wins: number;
  losses: number;
  pnl: string;
  fees: string;
}

interface PnlTotals {
  positions: number;
  wins: number;
  losses: number;
  pnl: string;
  fees: string;
}

/**
 * Realized P&L summed across venues: each day's total with its per-venue rows, and the window's
 * total per venue. Sums in Decimal (the numeric columns arrive as text), never in floats.
 */
export function pnlAcrossVenues(rows: readonly VenueDayRow[]): { days: (PnlTotals & { day: string; venues: (PnlTotals & { venue: string })[] })[]; total: PnlTotals & { venues: (PnlTotals & { venue: string })[] } } {
  const sum = (parts: readonly PnlTotals[]): PnlTotals => ({
    positions: parts.reduce((n, p) => n + p.positions, 0),
    wins: parts.reduce((n, p) => n + p.wins, 0),
    losses: parts.reduce((n, p) => n + p.losses, 0),
    pnl: parts.reduce((t, p) => t.plus(p.pnl), new Dec(0)).toString(),
    fees: parts.reduce((t, p) => t.plus(p.fees), new Dec(0)).toString(),
  });
  const byDay = new Map<string, VenueDayRow[]>();
  for (const r of rows) byDay.set(r.day, [...(byDay.get(r.day) ?? []), r]);
  const days = [...byDay].map(([day, venues]) => ({ day, ...sum(venues), venues: venues.map((v) => ({ venue: v.venue, ...sum([v]) })) }));
  const venueNames = [...new Set(rows.map((r) => r.venue))].sort();
  return { days, total: { ...sum(rows), venues: venueNames.map((venue) => ({ venue, ...sum(rows.filter((r) => r.venue === venue)) })) } };
}
