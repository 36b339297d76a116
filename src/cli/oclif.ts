/**
 * fex's one door to @oclif/core's values. oclif is CommonJS, and an ES `import` of it costs a
 * one-shot command twice: `import ... from '@oclif/core'` loads oclif's whole index (its help,
 * its UI, semver for a Node version check), and every ES import of a CommonJS module makes Node
 * scan that module's source for its export names, 2-7 ms each here, even when it is loaded
 * already. `require` of the few modules fex uses costs neither; together that is about 30 ms of
 * `fex dir` (docs/performance.md). Types still come from `import type`, which costs nothing at
 * run time; eslint refuses value imports of @oclif/core elsewhere in src/.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const Args = require('@oclif/core/args') as typeof import('@oclif/core/args');
export const { Command } = require('@oclif/core/command') as typeof import('@oclif/core/command');
export const Errors = require('@oclif/core/errors') as typeof import('@oclif/core/errors');
export const Flags = require('@oclif/core/flags') as typeof import('@oclif/core/flags');
// oclif's own run has loaded its help already; this only hands fex the class to extend.
export const { Help } = require('@oclif/core/help') as typeof import('@oclif/core/help');
