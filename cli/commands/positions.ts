import { desc, inArray } from 'drizzle-orm';
import { loadBootstrapConfig } from '../../config/load';
import { positions } from '../../db/schema';
import { OPEN_STATUSES } from '../../domain/trading/strategy-rules';
import { EXIT, intOption, json, out, withDatabase, type CliCommand } from './cli-support';

export const positionsCommand: CliCommand = {
  summary: 'list positions (newest first) with status, entry, size, P&L and fees',
  usage: 'kestrel positions [--open] [--limit N] [--json]',
  options: { open: { type: 'boolean' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }) {
    const limit = intOption(values, 'limit', 50, { min: 1, max: 10_000 });
    const { config } = loadBootstrapConfig();
    return withDatabase(config.database.url, async (h) => {
      const rows = await h.db
        .select()
        .from(positions)
        .where(values.open ? inArray(positions.status, [...OPEN_STATUSES]) : undefined)
        .orderBy(desc(positions.updatedAt))
        .limit(limit);
      if (values.json) json(rows);
      else if (rows.length === 0) out(values.open ? 'no open positions' : 'no positions');
      else for (const r of rows) out(`${r.positionId}  ${r.outcome.toUpperCase()} ${Number(r.size)} @ ${r.entryPrice ?? '-'}  ${r.status.padEnd(12)} remaining ${Number(r.remainingSize)}  P&L ${r.realizedPnl}  fees ${r.fees}`);
      return EXIT.ok;
    });
  },
};
