import { SIGNAL_TYPES, type SignalType } from '../domain/signals/types';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import { loadRecordedWindow } from '../backtest/recorded-data';
import { momentumStrategy } from '../domain/strategies/momentum';
import { withConfiguredTakerFee } from '../config/fees';
import type { KestrelConfig } from '../config/schema';
import { strategyRuns } from '../db/schema';
import { signalEngineRule } from '../domain/backtest/signal-engine-rule';
import type { SignalWeight } from '../domain/signals/performance';
import { ReplayClock, runLockstepPaper } from './lockstep-replay';
import { actionableRules, createSignalEngine } from '../domain/signals/settings';
import { activeSignalModel } from '../workers/signals/pipeline';
import type { Database } from '../db/client';
import { recordEntrySignal, registerSignalConfig } from '../db/signals-repo';
import type { SignalRule } from '../domain/backtest/backtester';
import type { EntrySignal } from '../domain/trading/strategy-rules';
import type { DetectedSignal } from '../domain/signals/types';
import { startStack } from '../runtime/stack';
import type { StrategyConfig } from '../config/strategy';

/**
 * A strategy version on a recorded feed, paper-traded through real Temporal workflows in lockstep
 * (see lockstep-replay.ts). It runs its own workers on a task queue and Redis prefix of its own, so
 * it never takes work from (or gives work to) a running `kestrel up`; entries come from the signal
 * engine under the active `signal-weights` model, filtered to the version's signal types.
 */
export async function replayStrategy(opts: {
  config: KestrelConfig;
  logger: Logger;
  name: string;
  version: { id: number; version: string; config: StrategyConfig };
  markets?: number;
  nowMs: number;
  log: (line: string) => void;
}) {
  const runId = `${opts.name}-${opts.version.version}-replay-${opts.nowMs}`;
  const workflowId = `strategy/${runId}`;
  const config: KestrelConfig = { ...opts.config, temporal: { ...opts.config.temporal, taskQueue: `kestrel-replay-${opts.nowMs}` }, redis: { ...opts.config.redis, keyPrefix: `kestrel-replay-${opts.nowMs}` } };
  const window = await loadRecordedWindow(config.replay.dataDir, { limit: opts.markets });
  opts.log(`replaying ${window.markets.length} recorded markets (${window.events.length.toLocaleString('en-US')} events) in lockstep through Temporal`);
  const replay = new ReplayClock(window.events[0]?.ts ?? 0);
  const stack = await startStack(config, { clock: replay.clock, orderLatency: replay.orderLatency, logger: opts.logger });
  try {
    // The active model version at the start is the one every entry of this replay is admitted by.
    const model = await activeSignalModel(stack.database.db, 0, config.retraining.modelName)();
    const weights: readonly SignalWeight[] = model.weights;
    if (!weights.some((w) => w.weight > 0 && w.expectedMove > 0)) opts.log(`the active ${config.retraining.modelName} model has no positive edge for any signal type: expect no entries (train one: kestrel retrain now)`);
    const v = opts.version.config;
    // The gold replay has no game markets: only the engine's detectors can fire here.
    const engineTypes = v.signalTypes.filter((t): t is SignalType => (SIGNAL_TYPES as readonly string[]).includes(t));
    const engineRule = signalEngineRule(createSignalEngine(config.signals), weights, actionableRules(config.signals, engineTypes));
    const recorder = await engineSignalRecorder(stack.database.db, config, engineRule, model);
    await stack.database.db.insert(strategyRuns).values({ workflowId, strategyVersionId: opts.version.id, venue: 'paper', feed: 'replay:gold', signalTypes: v.signalTypes, categories: v.categories, status: 'running' });
    const strategy = { ...momentumStrategy(config), strategyId: runId, rules: withConfiguredTakerFee(v.rules, config), position: v.position };
    const result = await runLockstepPaper(stack, replay, {
      window,
      dataDir: config.replay.dataDir,
      strategy,
      rule: recorder.rule,
      provenance: { strategyVersionId: opts.version.id, modelVersionId: model.id },
      recordSignal: recorder.recordSignal,
    });
    await stack.database.db.update(strategyRuns).set({ status: 'completed', stoppedAt: new Date() }).where(eq(strategyRuns.workflowId, workflowId));
    return { workflowId, taskQueue: config.temporal.taskQueue, detected: engineRule.detected.length, ...result };
  } finally {
    await stack.shutdown();
  }
}

/**
 * The engine rule with the recorder of the entries it proposes: each proposed entry's signal is
 * stored as the signal worker stores it (same key, config hash and pending outcomes; an existing row
 * is reused), with the weight and model version that made it actionable.
 */
async function engineSignalRecorder(db: Database, config: KestrelConfig, engineRule: SignalRule & { detected: DetectedSignal[] }, model: { id?: number; weights: readonly SignalWeight[] }) {
  const configHash = await registerSignalConfig(db, config.signals);
  const behind = new Map<string, DetectedSignal>();
  const rule: SignalRule = (ctx) => {
    const from = engineRule.detected.length;
    const proposal = engineRule(ctx);
    if (proposal) {
      const candidates = engineRule.detected.slice(from).filter((s) => s.type === proposal.type && s.market === ctx.market);
      const chosen = candidates.find((s) => `${s.type}:${s.market}@${s.firedAtMs}` === proposal.signalId) ?? candidates.sort((a, b) => b.confidence - a.confidence)[0];
      if (chosen) behind.set(proposal.signalId, chosen);
    }
    return proposal;
  };
  const recordSignal = async (signal: EntrySignal) => {
    const detected = behind.get(signal.signalId);
    if (!detected) throw new Error(`no detected signal behind proposed entry ${signal.signalId}`);
    behind.delete(signal.signalId);
    const weight = model.weights.find((w) => w.type === detected.type && w.category === detected.category) ?? model.weights.find((w) => w.type === detected.type && w.category === '*');
    const id = await recordEntrySignal(db, { ...detected, inputs: { ...detected.inputs, model: weight, modelVersionId: model.id } }, { configHash, source: 'replay:gold', horizonsMs: config.signals.horizonsMs });
    return `signal:${id}`;
  };
  return { rule, recordSignal };
}
