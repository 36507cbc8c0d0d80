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
const ioLayers = ['**/activities', '**/activities/**', '**/db', '**/db/**', '**/workers', '**/workers/**', '**/venues', '**/venues/**', '**/config', '**/config/**', '**/cli', '**/cli/**'];

export const layerRules = {
  domain: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ioModules, message: 'domain/ is pure: no I/O modules (only decimal.js and zod).' },
          { group: ['@temporalio/*'], message: 'domain/ must not depend on Temporal.' },
          { group: [...ioLayers, '**/workflows', '**/workflows/**'], message: 'domain/ is the innermost layer: it imports nothing from other layers.' },
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
          { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: 'workflows/ import activities as types only (use proxyActivities).' },
          { group: ['**/db', '**/db/**', '**/workers', '**/workers/**', '**/venues', '**/venues/**', '**/config', '**/config/**', '**/cli', '**/cli/**'], message: 'workflows/ must not import I/O layers.' },
        ],
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'db/migrations/**', 'bin/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      // The lint-probe files exist only in test/unit/layering.test.ts, which lints them as text.
      parserOptions: { projectService: { allowDefaultProject: ['*/__lint_probe__.ts'] }, tsconfigRootDir: import.meta.dirname },
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
  { files: ['domain/**/*.ts'], rules: layerRules.domain },
  { files: ['workflows/**/*.ts'], rules: layerRules.workflows },
);
