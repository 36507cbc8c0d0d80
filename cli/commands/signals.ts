import { loadBootstrapConfig } from '../../config/load';
import { RecordedSettlements } from '../../db/settlements';
import { loadPerformanceMatrix, recentSignals, resolveDueOutcomes } from '../../db/signals-repo';
import { deriveWeights } from '../../domain/signals/performance';
import { SIGNAL_TYPES } from '../../domain/signals/types';
import { CommandInputError, EXIT, intOption, json, out, withDatabase, type CliCommand } from './cli-support';

export const signalsCommand: CliCommand = {
  summary: 'recent signals; `signals matrix` for win rate / mean move by type × category × time of day and derived weights; `signals resolve` to resolve due outcomes now',
  usage: 'kestrel signals [--market M] [--type T] [--limit N] [--json] | signals matrix [--horizon MS] [--json] | signals resolve [--json]',
  details: '--json prints: the list, the signal rows; matrix, {"horizonMs","cells","weights"}; resolve, {"resolved","pending"} (outcomes resolved now, and due ones still waiting for data).',
  options: { market: { type: 'string' }, type: { type: 'string' }, limit: { type: 'string' }, horizon: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }) {
    const sub = positionals[0] ?? 'list';
    if (!['list', 'matrix', 'resolve'].includes(sub)) throw new CommandInputError(`unknown signals subcommand ${JSON.stringify(sub)}`);
    const limit = intOption(values, 'limit', 50, { min: 1, max: 10_000 });
    if (values.type !== undefined && !(SIGNAL_TYPES as readonly unknown[]).includes(values.type)) throw new CommandInputError(`--type must be one of ${SIGNAL_TYPES.join(', ')}, got ${JSON.stringify(values.type)}`);
    const { config } = loadBootstrapConfig();
    const horizon = values.horizon === undefined ? config.signals.horizonsMs[0]! : /^\d{1,15}$/.test(String(values.horizon)) ? Number(values.horizon) : NaN;
    if (!config.signals.horizonsMs.includes(horizon)) throw new CommandInputError(`--horizon must be one of the configured horizons (${config.signals.horizonsMs.join(', ')} ms), got ${JSON.stringify(values.horizon)}`);
    return withDatabase(config.database.url, async (h) => {
      if (sub === 'resolve') {
        const r = await resolveDueOutcomes(h.db, new RecordedSettlements(h.db));
        if (values.json) json({ resolved: r.resolved, pending: r.pending });
        else out(`resolved ${r.resolved} outcomes; ${r.pending} due but waiting for data`);
        return EXIT.ok;
      }
      if (sub === 'matrix') {
        const cells = await loadPerformanceMatrix(h.db);
        const weights = deriveWeights(cells, horizon, config.signals.weightPriorCount);
        if (values.json) json({ horizonMs: horizon, cells, weights });
        else if (cells.length === 0) out('no resolved signal outcomes yet');
        else {
          out(`${'type'.padEnd(22)}${'category'.padEnd(14)}${'UTC'.padEnd(7)}${'horizon'.padStart(9)}${'n'.padStart(6)}${'win%'.padStart(7)}${'mean move'.padStart(11)}`);
          for (const c of cells) out(`${c.type.padEnd(22)}${c.category.padEnd(14)}${c.timeOfDay.padEnd(7)}${`${c.horizonMs / 60_000}m`.padStart(9)}${String(c.count).padStart(6)}${(c.winRate === null ? '-' : (100 * c.winRate).toFixed(1)).padStart(7)}${`$${(c.meanMove / 10_000).toFixed(4)}`.padStart(11)}`);
          out(`\nweights at +${horizon / 60_000}m (shrunk by ${config.signals.weightPriorCount} pseudo-outcomes):`);
          for (const w of weights) out(`  ${w.type.padEnd(22)}${w.category.padEnd(14)} weight ${w.weight.toFixed(3)}  win ${(100 * w.winRate).toFixed(1)}%  expected move $${(w.expectedMove / 10_000).toFixed(4)}  (n=${w.count})`);
        }
        return EXIT.ok;
      }
      const rows = await recentSignals(h.db, { limit, market: typeof values.market === 'string' ? values.market : undefined, type: typeof values.type === 'string' ? values.type : undefined });
      if (values.json) json(rows);
      else if (rows.length === 0) out('no signals');
      else for (const r of rows) out(`#${r.id}  ${r.firedAt.toISOString()}  ${r.type.padEnd(20)} ${r.priority.padEnd(6)} ${r.marketTicker}  ${(r.direction ?? '-').padEnd(3)} conf ${r.confidence.toFixed(2)}  ${r.actionable ? 'ACTIONABLE' : ''}`);
      return EXIT.ok;
    });
  },
};
