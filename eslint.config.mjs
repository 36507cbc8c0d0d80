// Lint rules that carry architecture, not only style:
// domain/ is pure (decimal.js + zod only), workflows/ are deterministic and may only import
// activities as types. Every promise must be awaited or explicitly voided.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = [
  'ioredis',
  'bullmq',
  'postgres',
  'drizzle-orm',
  'drizzle-orm/*',
  'ws',
  'yaml',
  'pino',
  'prom-client',
  'fs',
  'fs/*',
  'net',
  'http',
  'https',
  'child_process',
  'zlib',
  'readline',
  'node:*',
];
/**
 * A relative import that reaches the top-level folder `name` from a file `depth` folders deep
 * (`../runs/x` from `cli/main.ts`, `../../workers/y` from `cli/commands/z.ts`), and not a same-named
 * folder further in such as `domain/backtest`.
 */
const folder = (name, depth) => `^(\\.\\./){${depth}}${name}(/|$)`;
const MAX_DEPTH = 4;
const ioLayers = ['activities', 'db', 'workers', 'runtime', 'observability', 'runs', 'backtest', 'venues', 'config', 'cli'];

/**
 * The arrows between the outer folders (see docs/architecture.md): each may import only folders
 * further in. cli → runs → runtime → workers → activities/observability → venues → db/config → domain.
 */
const outerLayers = {
  config: ['activities', 'db', 'workers', 'runtime', 'observability', 'runs', 'backtest', 'venues', 'cli', 'workflows'],
  db: ['activities', 'workers', 'runtime', 'observability', 'runs', 'backtest', 'venues', 'cli', 'workflows', 'config'],
  venues: ['activities', 'workers', 'runtime', 'observability', 'runs', 'backtest', 'cli', 'workflows'],
  activities: ['workers', 'runtime', 'observability', 'runs', 'backtest', 'cli', 'workflows'],
  observability: ['workers', 'runtime', 'runs', 'backtest', 'cli', 'workflows'],
  backtest: ['activities', 'workers', 'runtime', 'observability', 'runs', 'cli', 'workflows'],
  workers: ['runtime', 'runs', 'backtest', 'cli'],
  runtime: ['runs', 'backtest', 'cli'],
  runs: ['cli'],
};

const bannedFolders = (banned, depth, message) => banned.map((name) => ({ regex: folder(name, depth), message: `${message} (${name}/)` }));

/** The rules of each layer for its files `depth` folders deep. */
const layerRules = (depth) => ({
  domain: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ioModules, message: 'domain/ is pure: no I/O modules (only decimal.js and zod).' },
          { group: ['@temporalio/*'], message: 'domain/ must not depend on Temporal.' },
          ...bannedFolders([...ioLayers, 'workflows'], depth, 'domain/ is the innermost layer: it imports nothing from other layers.'),
        ],
      },
    ],
    'no-restricted-properties': [
      'error',
      { object: 'Date', property: 'now', message: 'domain/ takes time from an injected Clock.' },
      { object: 'Math', property: 'random', message: 'domain/ must be deterministic.' },
    ],
    'no-restricted-syntax': [
      'error',
      { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'domain/ takes time from an injected Clock.' },
    ],
  },
  workflows: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ioModules, message: 'workflows/ are deterministic: no I/O modules.' },
          { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'], message: 'workflows/ may only use @temporalio/workflow and @temporalio/common.' },
          { regex: folder('activities', depth), allowTypeImports: true, message: 'workflows/ import activities as types only (use proxyActivities).' },
          ...bannedFolders(ioLayers.filter((l) => l !== 'activities'), depth, 'workflows/ must not import I/O layers.'),
        ],
      },
    ],
  },
  ...Object.fromEntries(
    Object.entries(outerLayers).map(([layer, banned]) => [
      layer,
      { '@typescript-eslint/no-restricted-imports': ['error', { patterns: bannedFolders(banned, depth, `${layer}/ may only import layers further in`) }] },
    ]),
  ),
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'db/migrations/**', 'bin/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      // The lint-probe files exist only in test/unit/layering.test.ts, which lints them as text.
      // They never exist on disk, so the wider match count costs nothing in a real lint run.
      parserOptions: {
        projectService: { allowDefaultProject: ['*/__lint_probe__.ts', '*/*/__lint_probe__.ts'], maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 32 },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  ...Array.from({ length: MAX_DEPTH }, (_, i) => i + 1).flatMap((depth) =>
    Object.entries(layerRules(depth)).map(([layer, rules]) => ({ files: [`${layer}/${'*/'.repeat(depth - 1)}*.ts`], rules })),
  ),
);
