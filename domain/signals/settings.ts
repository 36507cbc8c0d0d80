import type { ActionableRules } from './actionable';
import { SignalEngine } from './engine';
import { kalshiCategory, kalshiEvent } from '../market-data/kalshi-tickers';
import type { CorrelationSettings, SignalPriority, SignalThresholds, SignalType } from './types';

/** The signal settings detection and actionability depend on (config's `signals` section satisfies it). */
export interface SignalSettings {
  thresholds: SignalThresholds;
  categoryOverrides: Readonly<Record<string, Partial<SignalThresholds>>>;
  correlation: CorrelationSettings;
  actionableMinConfidence: number;
  actionablePriorities: readonly SignalPriority[];
  actionableTypes: readonly SignalType[];
}

/** A category's thresholds: the defaults with the category's overrides on top. */
export function thresholdsFor(settings: Pick<SignalSettings, 'thresholds' | 'categoryOverrides'>): (category: string) => SignalThresholds {
  return (category) => ({ ...settings.thresholds, ...settings.categoryOverrides[category] });
}

/** Which detected signals may reach strategies (optionally only some of the actionable types). */
export function actionableRules(settings: SignalSettings, types: readonly SignalType[] = settings.actionableTypes): ActionableRules {
  return { minConfidence: settings.actionableMinConfidence, priorities: settings.actionablePriorities, types: settings.actionableTypes.filter((t) => types.includes(t)) };
}

/** The settings detection depends on: an engine checkpoint taken under others is not carried on. */
export function detectionSettings(settings: SignalSettings): string {
  return JSON.stringify({ thresholds: settings.thresholds, categoryOverrides: settings.categoryOverrides, correlation: settings.correlation });
}

/** The Kalshi signal engine: categories and correlation groups (events) read from the tickers. */
export function createSignalEngine(settings: SignalSettings): SignalEngine {
  return new SignalEngine({ thresholdsFor: thresholdsFor(settings), correlation: settings.correlation, categoryOf: kalshiCategory, groupOf: kalshiEvent });
}
