import { desc } from 'drizzle-orm';
import { loadBootstrapConfig } from '../../config/load';
import { retrainingRuns } from '../../db/schema';
import { activeVersion } from '../../db/versions-repo';
import { ensureRetrainingSchedule, retrainInput } from '../../runtime/retraining-schedule';
import { retrainSignalWeightsWorkflow, type RetrainResult } from '../../workflows/retraining';
import { CommandInputError, EXIT, err, json, out, withDatabase, withTemporal, type CliCommand } from './cli-support';

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * `--as-of`: epoch milliseconds, or ISO-8601 (a date is UTC midnight; a date-time needs its zone,
 * `Z` or `±hh:mm`, so it never depends on this machine's time zone).
 */
export function parseAsOf(raw: unknown): number {
  const text = typeof raw === 'string' ? raw.trim() : '';
  const bad = (why: string) => new CommandInputError(`--as-of must be an ISO-8601 time (2024-05-01T14:00:00Z) or epoch milliseconds; ${why}, got ${JSON.stringify(raw)}`);
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const m = ISO_TIME.exec(text);
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(text)) throw bad('a date-time needs its time zone (Z or ±hh:mm)');
    throw bad('not a time');
  }
  const [y, mo, d, h = '0', mi = '0', sec = '0'] = m.slice(1);
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) throw bad('no such date or time');
  const ms = Date.parse(m[4] === undefined ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms)) throw bad('not a time');
  return ms;
}

/**
 * What a retraining run decided, in plain words: which version signal strategies trade under now
 * (`activeNow`, read after the run), or why no version passed the gate.
 */
export function retrainReport(modelName: string, r: RetrainResult, activeNow: string | undefined): string {
  const trading = activeNow ? `Signal strategies trade under ${modelName} ${activeNow}` : `There is no active ${modelName} version, so signal strategies will not enter`;
  switch (r.status) {
    case 'promoted':
      return `promoted ${modelName} ${r.modelVersion}: it passed the gate with ${r.reason}. ${trading}.`;
    case 'rejected':
      return `no version passed the gate: ${modelName} ${r.modelVersion} was fitted and rejected because ${r.reason}. ${trading}.`;
    case 'unchanged':
      return `no new version: ${r.reason}. ${trading}.`;
    case 'insufficient_data':
      return `no version was made: ${r.reason}. ${trading}.`;
  }
}

export const retrainCommand: CliCommand = {
  summary: 'signal-weight retraining: `schedule` creates/updates the Temporal Schedule, `now` runs once and waits (`--as-of T`: on recorded data, windows ending at exchange time T), `runs` lists what each run decided',
  usage: 'kestrel retrain schedule | now [--as-of ISO-8601|epoch-ms] | runs [--json]',
  details:
    '--as-of T (now only): the test window ends at T (exchange time) instead of now, and only outcomes due by T count, so a run on recorded data sees what was known at T. ' +
    '--json prints: schedule, {"scheduleId","created","everyMs","overlap": "SKIP"}; now, the run\'s result (the "started" line goes to stderr); runs, the rows.',
  options: { json: { type: 'boolean' }, 'as-of': { type: 'string' } },
  async run({ values, positionals }) {
    const sub = positionals[0];
    if (values['as-of'] !== undefined && sub !== 'now') throw new CommandInputError('--as-of applies to `kestrel retrain now` only');
    const asOfMs = values['as-of'] === undefined ? undefined : parseAsOf(values['as-of']);
    const { config } = loadBootstrapConfig();
    if (sub === 'schedule') {
      const r = await withTemporal((client) => ensureRetrainingSchedule(client, config));
      if (values.json) json({ scheduleId: r.scheduleId, created: r.created, everyMs: config.retraining.everyMs, overlap: 'SKIP' });
      else out(`${r.created ? 'created' : 'updated'} schedule ${r.scheduleId}: every ${config.retraining.everyMs / 3_600_000} h, overlap SKIP`);
      return EXIT.ok;
    }
    if (sub === 'now') {
      const result = await withTemporal(async (client) => {
        const input = retrainInput(config, { asOfMs });
        const workflowId = `retrain/${config.retraining.modelName}/manual-${asOfMs === undefined ? '' : `asof-${asOfMs}-`}${Date.now()}`;
        const handle = await client.workflow.start(retrainSignalWeightsWorkflow, { args: [input], taskQueue: config.temporal.taskQueue, workflowId });
        (values.json ? err : out)(`started ${handle.workflowId}${asOfMs === undefined ? '' : ` as of ${new Date(asOfMs).toISOString()}`}; waiting for it (a worker must be running: kestrel up)...`);
        return handle.result();
      });
      if (values.json) json(result);
      else out(retrainReport(config.retraining.modelName, result, (await withDatabase(config.database.url, (h) => activeVersion(h.db, 'model', config.retraining.modelName)))?.version));
      return EXIT.ok;
    }
    if (sub === 'runs') {
      return withDatabase(config.database.url, async (h) => {
        const rows = await h.db.select().from(retrainingRuns).orderBy(desc(retrainingRuns.id)).limit(50);
        if (values.json) json(rows);
        else if (rows.length === 0) out('no retraining runs yet');
        else for (const r of rows) out(`#${r.id} ${r.createdAt.toISOString()} ${r.modelName} ${r.status.padEnd(17)} IS ${r.inSample?.toFixed(1) ?? '-'} OOS ${r.outOfSample?.toFixed(1) ?? '-'} (${r.trainOutcomes}/${r.testOutcomes} outcomes) ${r.reason}`);
        return EXIT.ok;
      });
    }
    throw new CommandInputError('usage: kestrel retrain schedule | now [--as-of T] | runs');
  },
};
