import type { Database } from '../../db/client';
import { activeVersion } from '../../db/versions-repo';
import type { Dec } from '../../domain/decimal';
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
