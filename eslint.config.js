import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'server-files/**',
      'plugins/*/node_modules/**',
      // The web plugin's page as `npm run build` bundles it.
      'plugins/web/public/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain Node ESM scripts, not compiled by tsc: the bin, first-party plugins, benchmarks.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // The web plugin's page runs in the browser, and its tests run code in the page.
    files: ['plugins/web/page/**/*.js', 'plugins/web/test/**/*.js'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
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
    // The layers (docs/architecture.md, "Layers"). An import the resolver cannot find is skipped
    // by no-restricted-paths, so no-unresolved keeps the resolver honest: the rule cannot go quiet.
    files: ['src/**/*.ts', 'test/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.js'],
          extensionAlias: { '.js': ['.ts', '.js'] },
        }),
      ],
    },
    rules: {
      'import-x/no-unresolved': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: ['./src/protocol', './src/shared'],
              from: [
                './src/client',
                './src/server',
                './src/commands',
                './src/cli',
                './src/shell',
                './src/hooks',
              ],
              message:
                'The wire and what is shared know neither end: move the common part to src/shared.',
            },
            {
              target: './src/shared',
              from: './src/protocol',
              message: 'src/shared is below the wire: it must not depend on src/protocol.',
            },
            {
              target: './src/server',
              from: ['./src/client', './src/commands', './src/cli', './src/shell', './src/hooks'],
              message: 'The server never imports the client: move the common part to src/shared.',
            },
            {
              target: ['./src/client', './src/shell', './src/cli', './src/hooks'],
              from: './src/server',
              message:
                'The client never imports the server: only the wire and src/shared are common.',
            },
            {
              target: './src/commands',
              from: './src/server',
              except: ['./limits.ts', './serve-options.ts', './run-server.ts'],
              message:
                'Commands reach the server only through run-server.ts, serve-options.ts and limits.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    // A first-party plugin is written as anyone else's would be: fex only as the package 'fex'.
    files: ['plugins/**/*.js'],
    ignores: ['plugins/*/test/**'],
    plugins: { 'import-x': importX },
    // Without following links: 'fex' is then node_modules/fex/..., not this repository's dist/,
    // where a link (as the build makes for the first-party plugins) would lead.
    settings: { 'import-x/resolver-next': [createNodeResolver({ symlinks: false })] },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './plugins',
              from: ['./src', './dist', './test'],
              message: "A plugin uses fex only through the package 'fex' (docs/plugins.md).",
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
