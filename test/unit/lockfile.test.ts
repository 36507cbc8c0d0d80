import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

// `npm ci` refuses a lockfile that lacks an optional package of another platform (npm 11 writes
// such lockfiles when run with some flags); the Dockerfile and scripts/ensure-deps.sh rely on it.
describe('package-lock.json', () => {
  it('carries every optional package of every platform, so npm ci works on any machine', () => {
    const lock = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package-lock.json'), 'utf8')) as { lockfileVersion: number; packages: Record<string, { optionalDependencies?: Record<string, string> }> };
    assert.ok(lock.lockfileVersion >= 3);
    const locked = new Set(Object.keys(lock.packages).map((k) => k.replace(/^.*node_modules\//, '')));
    const missing = Object.entries(lock.packages).flatMap(([at, p]) => Object.keys(p.optionalDependencies ?? {}).filter((d) => !locked.has(d)).map((d) => `${at || '(root)'} → ${d}`));
    assert.deepEqual(missing, []);
  });
});
