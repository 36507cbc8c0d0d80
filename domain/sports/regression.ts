/**
 * Logistic regression fitted by Newton's method (IRLS) with a small ridge penalty, so a fit on a
 * few seasons of games always converges. Model math: plain numbers.
 */
export interface LogisticModel {
  /** Coefficients in feature order; feature 0 is expected to be the constant 1. */
  coefficients: number[];
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export function predictLogistic(model: LogisticModel, features: readonly number[]): number {
  let z = 0;
  for (let i = 0; i < features.length; i++) z += model.coefficients[i]! * features[i]!;
  return sigmoid(z);
}

/** Solves A x = b (A symmetric positive definite here) by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    const p = m[c]![c]!;
    if (Math.abs(p) < 1e-12) throw new Error('singular system in logistic regression fit');
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / p;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

export function fitLogistic(rows: readonly { features: readonly number[]; outcome: 0 | 1 }[], options: { ridge?: number; iterations?: number } = {}): LogisticModel {
  const ridge = options.ridge ?? 1;
  const width = rows[0]?.features.length;
  if (!width) throw new Error('no training rows for the logistic regression');
  let beta = new Array<number>(width).fill(0);
  for (let iter = 0; iter < (options.iterations ?? 25); iter++) {
    const hessian = Array.from({ length: width }, (_, i) => Array.from({ length: width }, (_, j) => (i === j && i > 0 ? ridge : 0)));
    const gradient = beta.map((b, i) => (i > 0 ? -ridge * b : 0));
    for (const { features, outcome } of rows) {
      const p = predictLogistic({ coefficients: beta }, features);
      const w = p * (1 - p);
      for (let i = 0; i < width; i++) {
        gradient[i]! += (outcome - p) * features[i]!;
        for (let j = 0; j < width; j++) hessian[i]![j]! += w * features[i]! * features[j]!;
      }
    }
    const step = solve(hessian, gradient);
    beta = beta.map((b, i) => b + step[i]!);
    if (Math.max(...step.map(Math.abs)) < 1e-9) break;
  }
  return { coefficients: beta };
}
