/** Lifecycles of immutable versions; a version's content never changes, only its status moves on. */
export const STRATEGY_TRANSITIONS: Record<string, readonly string[]> = {
  draft: ['testing', 'deprecated'],
  testing: ['active', 'deprecated'],
  active: ['deprecated'],
  deprecated: [],
};

export const MODEL_TRANSITIONS: Record<string, readonly string[]> = {
  draft: ['training', 'deprecated'],
  training: ['validating', 'deprecated'],
  validating: ['active', 'deprecated'],
  active: ['deprecated'],
  deprecated: [],
};

export function checkTransition(transitions: Record<string, readonly string[]>, from: string, to: string): string | undefined {
  if (!(to in transitions)) return `unknown status ${JSON.stringify(to)} (known: ${Object.keys(transitions).join(', ')})`;
  if (!transitions[from]?.includes(to)) return `cannot go from ${from} to ${to} (allowed: ${transitions[from]?.join(', ') || 'none'})`;
  return undefined;
}

/** v1.0 → v1.1; a new name starts at v1.0. */
export function nextVersion(latest: string | undefined): string {
  if (!latest) return 'v1.0';
  const m = /^v(\d+)\.(\d+)$/.exec(latest);
  if (!m) throw new Error(`unrecognised version ${JSON.stringify(latest)}`);
  return `v${m[1]}.${Number(m[2]) + 1}`;
}
