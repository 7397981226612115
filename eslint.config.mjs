// Lint: typescript-eslint with type information, plus the import allowlist of
// deterministic workflow code and the purity rule of domain/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.tools/',
      '.data/',
      'coverage/',
      '**/*.js',
      '**/*.mjs',
      'test/fixtures/',
      'console/src/api-types.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The console runs in the browser (console/tsconfig.json: DOM, Preact JSX).
    files: ['console/**/*.ts', 'console/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Workflow code must stay deterministic, so its imports are an allowlist:
    // @temporalio/workflow, domain/, its own folder, and activity *types*
    // (`import type`, erased at compile time). Anything else — Node built-ins,
    // config, observability, the database, transports, inbound, other
    // Temporal packages — is refused by the first pattern.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/workflow$|\\./[^/]+$|\\.\\./domain/[^/]+$|\\.\\./activities/[^/]+$)',
              message:
                'workflows/ may import only @temporalio/workflow, ./, ../domain/ and (import type) ../activities/',
            },
            {
              regex: '^\\.\\./activities/',
              allowTypeImports: true,
              message: 'workflows/ may import activity types only (import type)',
            },
          ],
        },
      ],
    },
  },
  {
    // Domain rules are pure: no I/O, no Node built-ins.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'domain/ holds pure rules' })),
          patterns: [
            {
              group: ['pg', '@mikro-orm/*', 'nodemailer', 'smpp', 'fastify', '@temporalio/*', '../*'],
              message: 'domain/ holds pure rules',
            },
          ],
        },
      ],
    },
  },
  {
    // The same for domain's subfolders (domain/i18n/), which may import domain/ itself (../) but nothing above it.
    files: ['domain/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'domain/ holds pure rules' })),
          patterns: [
            {
              group: ['pg', '@mikro-orm/*', 'nodemailer', 'smpp', 'fastify', '@temporalio/*', '../../*'],
              message: 'domain/ holds pure rules',
            },
          ],
        },
      ],
    },
  },
);
