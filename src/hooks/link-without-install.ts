/**
 * `fex plugins link PATH` of a plugin with no dependencies of its own (fex's first-party plugins
 * need only `fex` and `@oclif/core`, which fex itself provides) links with `--no-install`: there
 * is nothing to install, and oclif's "No lockfile found ... you may need to install the
 * dependencies" would be a false alarm. An explicit `--install` or `--no-install` is kept.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Hook } from '@oclif/core';

const hook: Hook<'init'> = async function ({ id, argv }) {
  if (id !== 'plugins:link') return;
  if (argv.some((word) => word === '--install' || word === '--no-install')) return;
  const path = argv.find((word) => !word.startsWith('-'));
  if (path === undefined) return;
  const manifest = await readFile(join(resolve(path), 'package.json'), 'utf8')
    .then((text) => JSON.parse(text) as { dependencies?: Record<string, string> })
    .catch(() => undefined);
  // What oclif reads later is this same argv: oclif runs the command with it after `init`.
  if (manifest && Object.keys(manifest.dependencies ?? {}).length === 0) argv.push('--no-install');
};

export default hook;
