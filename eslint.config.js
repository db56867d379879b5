// Type-checked typescript-eslint. Import boundaries: the web app may import only contracts/ and geo/
// from the server, and those two stay isomorphic (no Node, Fastify or Kysely).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test-output/', 'data/', '.data/', 'server/db/schema.gen.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['web/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/server/*', '!**/server/contracts/*', '!**/server/geo/*'], message: 'The web app may import only server/contracts and server/geo (use @contracts/*, @geo/*).' },
            { group: ['fastify', 'kysely', 'pg', 'node:*'], message: 'Browser code cannot use server libraries.' },
          ],
        },
      ],
    },
  },
  {
    files: ['server/contracts/**/*.ts', 'server/geo/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['fastify', '@fastify/*', 'kysely', 'pg', 'node:*', '../db/*', '../modules/*', '../http/*'], message: 'contracts/ and geo/ are isomorphic: no Node, Fastify, Kysely or server internals.' }] },
      ],
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
