// Lint: typescript-eslint with type information, plus the rule that keeps
// Node built-ins, the database and transports out of deterministic workflow code.
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
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
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
    // Workflow code must stay deterministic: domain/ and activity *types* only.
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/*-client.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflow code must not use Node built-ins' })),
          patterns: [
            {
              group: ['pg', '@mikro-orm/*', 'nodemailer', 'smpp', 'fastify', 'pino'],
              message: 'workflow code must not touch I/O',
            },
            {
              group: ['../db/*', '../channels/*', '../api/*', '../worker/*', '../dev/*'],
              message: 'workflows import domain/ and activity types only',
            },
            {
              group: ['../activities/*'],
              allowTypeImports: true,
              message: 'import activity types only (import type)',
            },
            {
              group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'],
              message: 'workflows use @temporalio/workflow',
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
);
