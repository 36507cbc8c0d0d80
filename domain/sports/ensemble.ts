import { z } from 'zod';

/** Component models of the ensemble. `market` is the seed's "ML" (the de-vigged moneyline). */
export const COMPONENT_MODELS = ['elo', 'regression', 'market', 'historical'] as const;
export type ComponentModel = (typeof COMPONENT_MODELS)[number];

/** Seed weights; they are normalised over the models that have a probability for the game. */
export const DEFAULT_ENSEMBLE_WEIGHTS: Record<ComponentModel, number> = { elo: 0.4, regression: 0.35, market: 0.25, historical: 0.3 };

export const ensembleWeightsSchema = z.object({ elo: z.number().min(0), regression: z.number().min(0), market: z.number().min(0), historical: z.number().min(0) });

export interface EnsembleProbability {
  probability: number;
  /**
   * Agreement of the component models: 1 − (highest − lowest component probability). With fewer
   * than two components there is nothing to agree, so confidence is 0.
   */
  confidence: number;
  components: Partial<Record<ComponentModel, number>>;
}

export function combine(components: Partial<Record<ComponentModel, number>>, weights: Record<ComponentModel, number>): EnsembleProbability | undefined {
  let total = 0;
  let sum = 0;
  const present: number[] = [];
  for (const model of COMPONENT_MODELS) {
    const p = components[model];
    const w = weights[model];
    if (p === undefined || w <= 0) continue;
    total += w;
    sum += w * p;
    present.push(p);
  }
  if (total === 0) return undefined;
  const confidence = present.length < 2 ? 0 : Math.max(0, 1 - (Math.max(...present) - Math.min(...present)));
  return { probability: sum / total, confidence, components };
}

/** `elo=0.4,regression=0.35,…` → weights (missing names keep their default); errors name the bad part. */
export function parseWeights(text: string): Record<ComponentModel, number> {
  const weights = { ...DEFAULT_ENSEMBLE_WEIGHTS };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = part.split('=');
    const w = Number(value);
    if (!COMPONENT_MODELS.includes(name as ComponentModel)) throw new Error(`unknown model ${JSON.stringify(name)} in weights (known: ${COMPONENT_MODELS.join(', ')})`);
    if (value === undefined || value.trim() === '' || !Number.isFinite(w) || w < 0) throw new Error(`weight of ${name} must be a number ≥ 0, got ${JSON.stringify(value)}`);
    weights[name as ComponentModel] = w;
  }
  if (Object.values(weights).every((w) => w === 0)) throw new Error('at least one ensemble weight must be positive');
  return weights;
}
