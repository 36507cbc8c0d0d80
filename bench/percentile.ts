/** Nearest-rank percentile (q in (0, 1]) of values sorted ascending. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
