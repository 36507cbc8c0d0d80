import type { Database } from '../../db/client';
import { GAME_SERIES } from '../../domain/sports/game-key';
import { activeVersion } from '../../db/versions-repo';
import { Dec } from '../../domain/decimal';
import { signals as signalsTable } from '../../db/schema';
import { registerSignalConfig } from '../../db/signals-repo';
import { priceDecimal, PRICE_SCALE } from '../../domain/fixed-point';
import type { MarketTick } from '../../domain/signals/types';
import { LiveGameModel, sportsModelContentSchema } from '../../domain/sports/live-model';
import { modelEdgeSignal } from '../../domain/sports/model-edge-signal';
import type { EntrySignal } from '../../domain/trading/strategy-rules';
import { describeIssues } from '../../domain/validation';

export interface ActiveGameModel {
  live: LiveGameModel;
  name: string;
  version: string;
  versionId: number;
}

/** The active version of a sports model (e.g. `nba-ensemble`), or undefined when none is active. */
export async function loadActiveGameModel(db: Database, name: string): Promise<ActiveGameModel | undefined> {
  const row = await activeVersion(db, 'model', name);
  if (!row) return undefined;
  const content = sportsModelContentSchema.safeParse(row.content);
  if (!content.success) throw new Error(`model ${name} ${row.version} is not a sports model version: ${describeIssues(content.error.issues, 3)}`);
  return { live: new LiveGameModel(content.data), name, version: row.version, versionId: row.id };
}

/**
 * The live model-edge path: every market tick of a Kalshi game market is priced by the active
 * model version; ticks with enough edge become entry signals for the strategies subscribed to
 * `model_edge` (the strategy workflow then applies its rules, Kelly sizing and the risk manager).
 * Asks come from the book: YES ask = 1 − best NO bid, NO ask = 1 − best YES bid.
 */
export function modelEdgeSignalsFromTicks(ticks: readonly MarketTick[], model: ActiveGameModel, rule: { minEdge: Dec; minConfidence: number }, closeTimeMs: (market: string) => number | undefined): { signals: EntrySignal[]; rejected: Record<string, string> } {
  const signals: EntrySignal[] = [];
  const rejected: Record<string, string> = {};
  const askFrom = (oppositeBids: MarketTick['yesBids']) => (oppositeBids[0] ? priceDecimal(PRICE_SCALE - oppositeBids[0].price) : undefined);
  for (const tick of ticks) {
    const close = closeTimeMs(tick.market);
    if (close === undefined) {
      rejected[tick.market] = 'close time unknown';
      continue;
    }
    const r = modelEdgeSignal({ market: tick.market, yesAsk: askFrom(tick.noBids), noAsk: askFrom(tick.yesBids), closeTimeMs: close, nowMs: tick.ts }, model, rule);
    if ('signal' in r) signals.push(r.signal);
    else rejected[tick.market] = r.rejected;
  }
  return { signals, rejected };
}

const GAME_SERIES_PREFIXES = Object.values(GAME_SERIES).map((series) => `${series}-`);

/**
 * Prices the game markets of each applied batch with the active model version and offers the
 * entries with edge to the signal router (strategies subscribed to `model_edge`). A signal id is
 * offered once (one per market, side and model version); the model is re-read every `refreshMs`,
 * so a newly activated version takes over without a restart.
 */
export class ModelEdgeSignalSource {
  private model: ActiveGameModel | undefined;
  private loadedAtMs = -Infinity;
  private readonly offered = new Set<string>();
  private readonly closeTimes = new Map<string, number>();
  readonly counters = { ticks: 0, signals: 0, rejected: 0 };

  constructor(
    private readonly deps: {
      db: Database;
      modelName: string;
      rule: { minEdge: Dec; minConfidence: number };
      offer: (signal: EntrySignal) => void;
      closeTimeOf: (market: string) => Promise<number | undefined>;
      refreshMs: number;
      clock: { nowMs(): number };
      log: (line: string) => void;
    },
  ) {}

  async onTicks(ticks: readonly MarketTick[]): Promise<void> {
    const games = ticks.filter((t) => GAME_SERIES_PREFIXES.some((p) => t.market.startsWith(p)));
    if (games.length === 0) return;
    const now = this.deps.clock.nowMs();
    if (now - this.loadedAtMs >= this.deps.refreshMs) {
      this.loadedAtMs = now;
      this.model = await loadActiveGameModel(this.deps.db, this.deps.modelName).catch((err: Error) => (this.deps.log(`model-edge: ${err.message}`), undefined));
    }
    if (!this.model) return;
    for (const t of games) {
      if (this.closeTimes.has(t.market)) continue;
      const close = await this.deps.closeTimeOf(t.market);
      if (close !== undefined) this.closeTimes.set(t.market, close);
    }
    this.counters.ticks += games.length;
    const { signals, rejected } = modelEdgeSignalsFromTicks(games, this.model, this.deps.rule, (m) => this.closeTimes.get(m));
    this.counters.rejected += Object.keys(rejected).length;
    for (const signal of signals) {
      if (this.offered.has(signal.signalId)) continue;
      this.offered.add(signal.signalId);
      this.counters.signals++;
      // Recorded first, so `kestrel why` can show the probability, the edge and the model behind an entry.
      await this.record(signal).catch((err: Error) => this.deps.log(`model-edge: recording ${signal.signalId} failed: ${err.message}`));
      this.deps.offer(signal);
      this.deps.log(`model-edge signal ${signal.signalId}: ${signal.reason}`);
    }
  }

  private configHash: string | undefined;

  private async record(signal: EntrySignal): Promise<void> {
    const model = this.model!;
    this.configHash ??= await registerSignalConfig(this.deps.db, { kind: 'model_edge', model: model.name, minEdge: this.deps.rule.minEdge.toString(), minConfidence: this.deps.rule.minConfidence });
    const probability = new Dec(signal.modelProbability);
    const edge = probability.minus(signal.ask);
    await this.deps.db
      .insert(signalsTable)
      .values({
        signalKey: signal.signalId,
        type: signal.type ?? 'model_edge',
        marketTicker: signal.market,
        markets: [signal.market],
        category: signal.category ?? 'sports',
        direction: signal.outcome,
        strength: edge.toNumber(),
        confidence: probability.toNumber(),
        priority: 'MEDIUM',
        firedAt: new Date(signal.firedAtMs ?? this.deps.clock.nowMs()),
        inputs: { modelProbability: signal.modelProbability, ask: signal.ask, edge: edge.toFixed(4), model: model.name, modelVersion: model.version, modelVersionId: model.versionId, reason: signal.reason },
        configHash: this.configHash,
        actionable: true,
        source: 'model-edge',
      })
      .onConflictDoNothing();
  }
}
