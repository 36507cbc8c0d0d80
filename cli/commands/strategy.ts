import { loadBootstrapConfig } from '../../config/load';
import { createLogger, installTemporalLogging } from '../../observability/logger';
import { replayStrategy } from '../../runs/strategy-replay';
import { createStrategy, listStrategies, parseVenueAndFeed, readStrategyConfig, startStrategy, stopStrategy, versionToRun } from '../strategy';
import { CommandInputError, EXIT, err, intOption, json, loadFullConfig, out, withDatabase, withTemporal, type CliCommand } from './cli-support';

/** Bad names, files, venues and feeds are the caller's to fix: usage errors, with the reason. */
async function asUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Error && !('code' in e)) throw new CommandInputError(e.message);
    throw e;
  }
}

export const strategyCommand: CliCommand = {
  summary: 'create | list | start | stop strategy versions (immutable; start subscribes the run to its signal types)',
  usage: 'kestrel strategy create <name> --file F.(yaml|json) | list [--json] | start <name> [--version V] --venue paper|kalshi|polymarket --feed live|kalshi|polymarket|replay:gold [--markets N] | stop <workflow-id>',
  options: { file: { type: 'string' }, version: { type: 'string' }, venue: { type: 'string' }, feed: { type: 'string' }, markets: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }) {
    const [sub, arg] = positionals;
    const { config } = loadBootstrapConfig();
    if (sub === 'create') {
      if (!arg || typeof values.file !== 'string') throw new CommandInputError('usage: kestrel strategy create <name> --file F.(yaml|json)');
      const strategyConfig = await asUsage(async () => readStrategyConfig(values.file as string));
      return withDatabase(config.database.url, async (h) => {
        const v = await asUsage(() => createStrategy(h.db, arg, strategyConfig));
        if (values.json) json(v);
        else out(`created strategy ${v.name} ${v.version} (id ${v.id}, draft)`);
        return EXIT.ok;
      });
    }
    if (sub === 'list') {
      return withDatabase(config.database.url, async (h) => {
        const rows = await listStrategies(h.db);
        if (values.json) json(rows);
        else if (rows.length === 0) out('no strategies (create one with `kestrel strategy create`)');
        else
          for (const r of rows) {
            out(`${r.name} ${r.version}  ${r.status}  (id ${r.id})`);
            for (const run of r.runs) out(`    ${run.status.padEnd(8)} ${run.workflowId}  venue ${run.venue}  feed ${run.feed}  since ${run.startedAt.toISOString()}`);
          }
        return EXIT.ok;
      });
    }
    if (sub === 'start') {
      if (!arg || typeof values.venue !== 'string' || typeof values.feed !== 'string') throw new CommandInputError('usage: kestrel strategy start <name> [--version V] --venue paper|kalshi|polymarket --feed live|kalshi|polymarket|replay:<dataset> [--markets N]');
      // The workers' venue may come from a config override in Postgres: read it as they do.
      const execution = (values.feed as string).startsWith('replay:') ? config.venues.execution : (await loadFullConfig()).config.venues.execution;
      const feed = await asUsage(async () => parseVenueAndFeed(values.venue as string, values.feed as string, execution));
      const version = typeof values.version === 'string' ? values.version : undefined;
      if (feed.kind === 'replay') {
        const limit = intOption(values, 'markets', 2);
        return withDatabase(config.database.url, async (h) => {
          const v = await asUsage(() => versionToRun(h.db, arg, version));
          const logger = createLogger({ level: config.logging.level });
          installTemporalLogging(logger);
          const run = await replayStrategy({ config, logger, name: arg, version: v, markets: limit, nowMs: Date.now(), log: values.json ? err : out });
          if (values.json) json(run);
          else {
            out(`${run.workflowId}: ${run.detected} engine signals, ${run.strategy.decisions.length} decisions, ${run.positions.length} positions`);
            for (const p of run.positions) out(`  ${p.positionId}  ${p.outcome.toUpperCase()} ${Number(p.size)} @ ${p.entryPrice ?? '-'}  ${p.status}  P&L ${p.realizedPnl}`);
          }
          return EXIT.ok;
        });
      }
      return withDatabase(config.database.url, (h) =>
        withTemporal(async (client) => {
          const started = await asUsage(() => startStrategy(h.db, client, config, { name: arg, version, nowMs: Date.now(), feed: feed.name }));
          if (values.json) json(started);
          else out(`started ${started.workflowId} (${started.version}, ${started.status}); Temporal UI: http://127.0.0.1:${config.temporal.uiPort}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(started.workflowId)}`);
          return EXIT.ok;
        }),
      );
    }
    if (sub === 'stop') {
      if (!arg) throw new CommandInputError('usage: kestrel strategy stop <workflow-id>');
      return withDatabase(config.database.url, (h) =>
        withTemporal(async (client) => {
          const stopped = await asUsage(() => stopStrategy(h.db, client, arg));
          if (values.json) json(stopped);
          else out(`stopped ${stopped.workflowId}; ${stopped.openPositions} open positions keep running to their exits`);
          return EXIT.ok;
        }),
      );
    }
    throw new CommandInputError('usage: kestrel strategy create|list|start|stop');
  },
};
