import { and, desc, eq, inArray } from 'drizzle-orm';
import { loadBootstrapConfig } from '../../config/load';
import { positions } from '../../db/schema';
import { OPEN_STATUSES } from '../../domain/trading/strategy-rules';
import { CommandInputError, EXIT, intOption, json, out, withDatabase, type CliCommand } from './cli-support';

/** Venues a position can be on (the positions table's `venue`). */
const VENUES = ['kalshi', 'polymarket', 'sim'];

export const positionsCommand: CliCommand = {
  summary: 'list positions (newest first) with venue, status, entry, size, P&L and fees',
  usage: 'kestrel positions [--open] [--venue kalshi|polymarket|sim] [--limit N] [--json]',
  options: { open: { type: 'boolean' }, venue: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }) {
    const limit = intOption(values, 'limit', 50, { min: 1, max: 10_000 });
    const venue = values.venue;
    if (venue !== undefined && (typeof venue !== 'string' || !VENUES.includes(venue))) throw new CommandInputError(`--venue must be one of ${VENUES.join(', ')}, got ${JSON.stringify(venue)}`);
    const { config } = loadBootstrapConfig();
    return withDatabase(config.database.url, async (h) => {
      const rows = await h.db
        .select()
        .from(positions)
        .where(and(values.open ? inArray(positions.status, [...OPEN_STATUSES]) : undefined, venue ? eq(positions.venue, venue) : undefined))
        .orderBy(desc(positions.updatedAt))
        .limit(limit);
      if (values.json) json(rows);
      else if (rows.length === 0) out(values.open ? 'no open positions' : 'no positions');
      else for (const r of rows) out(`${r.venue.padEnd(10)} ${r.positionId}  ${r.marketTicker} ${r.outcome.toUpperCase()} ${Number(r.size)} @ ${r.entryPrice ?? '-'}  ${r.status.padEnd(12)} remaining ${Number(r.remainingSize)}  P&L ${r.realizedPnl}  fees ${r.fees}`);
      return EXIT.ok;
    });
  },
};
