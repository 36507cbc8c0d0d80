import { loadBootstrapConfig } from '../../config/load';
import { signalAttribution } from '../../db/attribution';
import { signalReportMarkdown } from '../../observability/signal-report';
import { CommandInputError, EXIT, intOption, json, out, withDatabase, type CliCommand } from './cli-support';
import { parseAsOf } from './retrain';

const USAGE = 'kestrel report pnl [--days N] [--json] | signals [--days N] [--as-of T] [--json]';

export const reportCommand: CliCommand = {
  summary: 'reports: `pnl` realized P&L, fees, wins/losses per day; `signals` P&L, win rate and count per signal type × category × model version (closed positions)',
  usage: USAGE,
  options: { days: { type: 'string' }, json: { type: 'boolean' }, 'as-of': { type: 'string' } },
  async run({ values, positionals }) {
    const [sub, ...rest] = positionals;
    if ((sub !== 'pnl' && sub !== 'signals') || rest.length > 0) throw new CommandInputError(`usage: ${USAGE}`);
    const days = intOption(values, 'days', 7, { min: 1, max: 3650 });
    if (sub === 'pnl' && values['as-of'] !== undefined) throw new CommandInputError('--as-of applies to `kestrel report signals` only');
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
      const rows = await h.sql<{ day: string; positions: number; wins: number; losses: number; pnl: string; fees: string }[]>`
        select to_char(date_trunc('day', closed_at), 'YYYY-MM-DD') as day, count(*)::int as positions,
               count(*) filter (where realized_pnl > 0)::int as wins, count(*) filter (where realized_pnl < 0)::int as losses,
               sum(realized_pnl)::text as pnl, sum(fees)::text as fees
        from positions where closed_at >= now() - make_interval(days => ${days}) group by 1 order by 1`;
      if (values.json) json(rows);
      else if (rows.length === 0) out(`no closed positions in the last ${days} days`);
      else for (const r of rows) out(`${r.day}  ${String(r.positions).padStart(4)} positions  ${r.wins} won / ${r.losses} lost  P&L ${Number(r.pnl).toFixed(4)}  fees ${Number(r.fees).toFixed(4)}`);
      return EXIT.ok;
    });
  },
};
