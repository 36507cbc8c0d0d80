import { loadBootstrapConfig } from '../../config/load';
import { CommandInputError, EXIT, intOption, json, out, withDatabase, type CliCommand } from './cli-support';

export const reportCommand: CliCommand = {
  summary: 'P&L report: realized P&L, fees, wins/losses per day over the last N days',
  usage: 'kestrel report pnl [--days N] [--json]',
  options: { days: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }) {
    if (positionals[0] !== 'pnl') throw new CommandInputError('usage: kestrel report pnl [--days N]');
    const days = intOption(values, 'days', 7, { min: 1, max: 3650 });
    const { config } = loadBootstrapConfig();
    return withDatabase(config.database.url, async (h) => {
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
