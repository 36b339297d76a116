import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'server-files/**', 'plugins/*/node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain Node ESM scripts, not compiled by tsc: the bin, first-party plugins, benchmarks.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // oclif's values come through src/cli/oclif.ts, which loads them without the start-up cost
    // of an ES import of CommonJS; types may still be imported directly.
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@oclif/core', '@oclif/core/*'],
              allowTypeImports: true,
              message: 'Import oclif values from src/cli/oclif.ts (start-up time).',
            },
          ],
        },
      ],
    },
  },
  {
    // Plugins, first-party or the example, are written as any author outside this repository
    // writes them: fex only through its SDK (`fex`, and `fex/testing` for tests), never its files.
    files: ['plugins/**/*.js', 'examples/**/*.js'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['fex/*', '!fex/testing', '!fex/package.json'],
              message: 'A plugin imports only the SDK: "fex" or "fex/testing".',
            },
            {
              group: ['**/src/**', '**/dist/**', '**/test/helpers/**', '**/bin/run.js'],
              message: 'A plugin imports only the SDK ("fex", "fex/testing"), not fex\'s files.',
            },
          ],
        },
      ],
    },
  },
);
